#include "context.hpp"
#include "format.hpp"
#include "retrace/core/outcome.hpp"
#include "retrace/query/runs.hpp"
#include "retrace/store/run_ref.hpp"
#include "show_events.hpp"

namespace retrace::cli {

namespace {

using core::Json;

// One line per section: what a person most wants to know about it.
std::string section_summary(const std::string& name, const Json& s) {
    if (s.empty()) return "(empty)";
    if (name == "code") {
        std::string out;
        for (const auto& a : s.value("argv", Json::array()))
            out += (out.empty() ? "" : " ") + a.get<std::string>();
        if (out.size() > 60) out = out.substr(0, 57) + "...";
        if (s.contains("git")) {
            const auto& g = s["git"];
            std::string commit = g["commit"].is_string()
                                     ? g["commit"].get<std::string>().substr(0, 10)
                                     : "no commit";
            out += "  git " + commit + (g.value("dirty", false) ? " (dirty)" : " (clean)");
        }
        return out;
    }
    if (name == "env") {
        std::string out = s.contains("machine") ? s["machine"].value("os", "?") : "?";
        if (s.contains("software")) {
            const auto& sw = s["software"];
            if (sw.contains("python3")) out += ", python " + sw["python3"].get<std::string>();
            if (sw.contains("node")) out += ", node " + sw["node"].get<std::string>();
            if (sw.contains("python_packages"))
                out += ", " + std::to_string(sw["python_packages"].size()) + " python packages";
        }
        return out;
    }
    if (name == "data" && s.contains("inputs")) {
        std::string out;
        for (const auto& [path, info] : s["inputs"].items())
            out += (out.empty() ? "" : ", ") + path + " " + short_digest(info.value("digest", ""));
        return out;
    }
    if (name == "params") {
        std::string out;
        for (const auto& [k, v] : s.items())
            out += (out.empty() ? "" : " ") + k + "=" + v.get<std::string>();
        return out;
    }
    auto join = [](const std::vector<std::string>& parts) {
        std::string out;
        for (const auto& p : parts) out += (out.empty() ? "" : ", ") + p;
        return out.size() > 90 ? out.substr(0, 87) + "..." : out;
    };
    std::vector<std::string> parts;
    if (name == "models") {  // provider model (temperature ...)
        for (const auto& [provider, models] : s.items())
            for (const auto& [model, fields] : models.items()) {
                std::string p = provider + " " + model;
                if (fields.contains("temperature")) p += " t=" + fields["temperature"].dump();
                parts.push_back(p);
            }
        return join(parts);
    }
    if (name == "prompts") {
        for (const auto& [provider, digests] : s.items())
            parts.push_back(provider + ": " + std::to_string(digests.size()) + " system prompt(s)");
        return join(parts);
    }
    if (name == "tools") {
        for (const auto& [tool, digests] : s.items()) parts.push_back(tool);
        return join(parts);
    }
    if (name == "backend") {
        for (const auto& [provider, b] : s.items()) {
            std::string p = provider + ":";
            for (const auto& m : b.value("served_models", Json::array()))
                p += " " + m.get<std::string>();
            for (const auto& f : b.value("system_fingerprints", Json::array()))
                p += " " + f.get<std::string>();
            auto credentials = b.value("credentials", Json::array()).size();
            if (credentials) p += " (" + std::to_string(credentials) + " credential(s))";
            parts.push_back(p);
        }
        return join(parts);
    }
    return std::to_string(s.size()) + " entries";
}

void print_show(store::Store& store, const store::RunRow& r, bool all) {
    Json full = query::run_full_json(store, r);
    std::cout << "run        " << r.id << (r.name ? "  (" + *r.name + ")" : "") << "\n";
    std::cout << "state      " << r.state;
    if (r.exit_code) std::cout << ", exit " << *r.exit_code;
    std::cout << "\n";
    std::cout << "started    " << format_time(r.started_ns) << " UTC";
    if (r.ended_ns) std::cout << ", took " << format_duration(*r.ended_ns - r.started_ns);
    std::cout << "\n";
    if (r.record_digest) std::cout << "record     " << *r.record_digest << "\n";
    std::cout << "conditions " << r.conditions_digest << "\n";
    if (full.contains("identity")) {
        const auto& id = full["identity"];
        std::cout << "  declared " << short_digest(id["declared"]) << "  observed "
                  << short_digest(id["observed"]) << "\n";
        for (const auto& [name, digest] : id["sections"].items())
            std::cout << "  " << name << std::string(9 - std::min<std::size_t>(name.size(), 8), ' ')
                      << short_digest(digest) << "  "
                      << section_summary(name, full["conditions"][name]) << "\n";
    }
    std::cout << "events     " << full["events"].size() << "\n";
    if (auto rows = store.events(r.id)) print_event_tree(store, *rows, all);
    if (full["outcome"].is_object()) {
        auto o = core::RunOutcome::from_json(full["outcome"]);
        if (o.exit_code)
            std::cout << "outcome    exit " << *o.exit_code << ", stdout "
                      << short_digest(o.stdout_digest.value_or("")) << "\n";
        else if (o.exchanges)
            std::cout << "outcome    " << *o.exchanges << " exchange(s), no program\n";
        for (const auto& [path, digest] : o.outputs.value_or(std::map<std::string, std::string>{}))
            std::cout << "  output   " << path << " " << digest << "\n";
    }
}

}  // namespace

void add_show_commands(CLI::App& app, Context& ctx) {
    auto* show = app.add_subcommand("show", "show a run: conditions by section, events, outcome");
    auto ref = std::make_shared<std::string>();
    show->add_option("run", *ref, "run reference (id, name, id prefix, @latest, @latest~N)")
        ->required();
    auto event = std::make_shared<std::optional<long long>>();
    auto all = std::make_shared<bool>(false);
    show->add_option("--event", *event, "N: print event N in full (headers, bodies, frames)");
    show->add_flag("--all", *all, "list every event (similar consecutive ones are collapsed)");
    show->add_flag("--json", ctx.json, "print JSON");
    show->callback([&ctx, ref, event, all] {
        auto& store = ctx.store();
        auto run = check(store::resolve_run(store, *ref));
        if (*event)
            check(show_event(store, run, **event, ctx.json));
        else if (ctx.json)
            print_json(query::run_full_json(store, run));
        else
            print_show(store, run, *all);
    });

    auto* cond = app.add_subcommand("conditions", "print a run's conditions");
    auto cref = std::make_shared<std::string>();
    auto explain = std::make_shared<bool>(false);
    cond->add_option("run", *cref, "run reference")->required();
    cond->add_flag("--explain", *explain,
                   "print the exact tagged text that was hashed (compare two with diff)");
    cond->add_flag("--json", ctx.json, "print JSON");
    cond->callback([&ctx, cref, explain] {
        auto& store = ctx.store();
        auto run = check(store::resolve_run(store, *cref));
        Json conditions = check(core::parse_json_strict(run.conditions));
        auto identity = check(core::identify_conditions(conditions));
        if (ctx.json) {
            Json out = {
                {"run_id", run.id}, {"conditions", conditions}, {"identity", identity.to_json()}};
            if (*explain) out["explain"] = identity.explain;
            print_json(out);
        } else if (*explain) {
            std::cout << identity.explain;
        } else {
            std::cout << conditions.dump(2) << "\n";
        }
    });
}

}  // namespace retrace::cli
