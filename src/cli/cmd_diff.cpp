#include <iostream>
#include <map>

#include "context.hpp"
#include "format.hpp"
#include "retrace/analysis/diff.hpp"

namespace retrace::cli {

namespace {

void print_diffs(const std::vector<core::JsonDifference>& diffs, std::size_t limit = 5) {
    for (std::size_t i = 0; i < diffs.size() && i < limit; ++i)
        std::cout << "  " << diffs[i].path << ": " << diffs[i].before << " -> " << diffs[i].after
                  << "\n";
    if (diffs.size() > limit) std::cout << "  ... " << diffs.size() - limit << " more\n";
}

std::string label(const std::optional<analysis::Step>& s) {
    if (!s) return "(none)";
    std::string out = "#";
    return out.append(std::to_string(s->seq))
        .append(" ")
        .append(core::to_string(s->kind))
        .append(" ")
        .append(s->name);
}

void print_report(const analysis::DiffReport& r) {
    auto run = [](const store::RunRow& row) {
        return row.id + (row.name ? "  (" + *row.name + ")" : "");
    };
    std::cout << "a          " << run(r.a) << "\n"
              << "b          " << run(r.b) << "\n";
    std::cout << "conditions ";
    if (r.declared.empty())
        std::cout << "same declared conditions"
                  << (r.different_machine ? " (different machine)" : "") << "\n";
    else {
        std::string names;
        for (const auto& s : r.declared) names += (names.empty() ? "" : ", ") + s.section;
        std::cout << "differ: " << names
                  << (r.different_machine ? " (and a different machine)" : "") << "\n";
        for (const auto& s : r.declared) print_diffs(s.diff);
    }
    std::cout << "backend    " << (r.backend.empty() ? "same" : "differs") << "\n";
    print_diffs(r.backend);
    std::cout << "trajectory " << r.a_steps << " / " << r.b_steps << " steps, " << r.matched
              << " equal";
    if (!r.first) {
        std::cout << ", no divergence\n";
    } else {
        const auto& d = *r.first;
        std::cout << "; the first " << r.matching_prefix << " match, then\n";
        if (d.same_request)
            std::cout << "  " << label(d.a) << " (b " << label(d.b)
                      << "): same request, different response\n";
        else
            std::cout << "  a " << label(d.a) << "\n  b " << label(d.b) << "\n";
        if (!d.request_diff.empty()) {
            std::cout << " request\n";
            print_diffs(d.request_diff);
        }
        if (!d.response_diff.empty()) {
            std::cout << " response\n";
            print_diffs(d.response_diff);
        }
        if (r.realigned)
            std::cout << "  re-aligned at a #" << r.realigned->first << " / b #"
                      << r.realigned->second << "\n";
    }
    std::cout << "outcome    exit " << (r.a_exit ? std::to_string(*r.a_exit) : "?") << " / "
              << (r.b_exit ? std::to_string(*r.b_exit) : "?") << "; "
              << (r.stdout_difference.empty() ? "same stdout" : r.stdout_difference) << "\n";
    std::cout << "verdict    " << r.verdict << ": " << r.explanation << "\n";
}

// Several runs: a row each, and how many groups of conditions and outcomes.
void print_groups(const analysis::GroupReport& g) {
    // Short labels for each distinct digest, in order of first appearance.
    auto labeller = [] {
        return [seen = std::map<std::string, char>()](const std::string& d) mutable {
            auto it = seen.emplace(d, static_cast<char>('A' + seen.size() % 26)).first;
            return std::string(1, it->second) + " " + d.substr(7, 12);
        };
    };
    auto declared = labeller(), observed = labeller();
    std::cout << "run                         declared        observed        outcome\n";
    for (const auto& r : g.runs) {
        std::string id = r.run.id;
        id.resize(28, ' ');
        std::cout << id << declared(r.declared) << "  " << observed(r.observed) << "  " << r.outcome
                  << (r.run.name ? "  (" + *r.run.name + ")" : "") << "\n";
    }
    std::cout << g.runs.size() << " runs: " << g.declared_groups << " declared condition group(s), "
              << g.observed_groups << " backend group(s), " << g.outcome_groups
              << " outcome group(s)\n";
}

}  // namespace

void add_diff_command(CLI::App& app, Context& ctx) {
    auto* cmd = app.add_subcommand(
        "diff", "say why two runs differ: conditions, trajectories, outcome and a verdict");
    cmd->footer(
        "Verdicts: identical; conditions differ (which declared sections); backend differs\n"
        "(fingerprint, served model or account); inputs differ (a tool, retrieval, clock or\n"
        "random result, or the program's own request, parted first); same conditions, outputs\n"
        "diverged (with the evidence). Exits 0 when identical, 1 otherwise.");
    auto refs = std::make_shared<std::vector<std::string>>();
    auto name = std::make_shared<std::string>();
    cmd->add_option("runs", *refs, "two run references (or more, to group them)");
    cmd->add_option("--name", *name, "group every run of this name");
    cmd->add_flag("--json", ctx.json, "print the whole report as JSON");
    cmd->callback([&ctx, refs, name] {
        auto& store = ctx.store();
        if (!name->empty()) {
            store::RunFilter filter;
            filter.name = *name;
            for (const auto& run : check(store.list_runs(filter))) refs->push_back(run.id);
            if (refs->empty()) fail(error(ErrorCode::not_found, "no run is named " + *name));
        }
        if (refs->size() < 2 && name->empty())
            fail(error(ErrorCode::invalid_input, "diff needs two runs (or more, or --name NAME)"));
        if (refs->size() > 2 || !name->empty()) {
            auto groups = check(analysis::group_runs(store, *refs));
            if (ctx.json)
                print_json(groups.to_json());
            else
                print_groups(groups);
            bool same = groups.declared_groups == 1 && groups.observed_groups == 1 &&
                        groups.outcome_groups == 1;
            if (!same) throw Exit{1, ""};
            return;
        }
        auto report = check(analysis::diff_runs(store, (*refs)[0], (*refs)[1]));
        if (ctx.json)
            print_json(report.to_json());
        else
            print_report(report);
        if (report.verdict != "identical") throw Exit{1, ""};
    });
}

}  // namespace retrace::cli
