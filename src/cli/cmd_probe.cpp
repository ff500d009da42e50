#include <algorithm>
#include <fstream>
#include <iostream>

#include "context.hpp"
#include "format.hpp"
#include "retrace/analysis/chart.hpp"
#include "retrace/analysis/stats.hpp"
#include "retrace/probe/variance_probe.hpp"
#include "retrace/query/probes.hpp"
#include "retrace/store/run_ref.hpp"

namespace retrace::cli {

namespace {

std::string num(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", v);
    return buf;
}

std::string p_value(double p) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2g", p);
    return buf;
}

void print_probe(const core::Json& r) {
    std::cout << "probe      " << r["probe"].get<std::string>() << "  ("
              << r["name"].get<std::string>() << ")  registered "
              << r["probe_record"].get<std::string>() << "\n";
    if (!r["hypothesis"].get<std::string>().empty())
        std::cout << "hypothesis " << r["hypothesis"].get<std::string>() << "\n";
    std::cout << "runs       " << r["done"] << " of " << r["total"] << ", " << r["failed"]
              << " failed";
    if (!r["stopped_after"].is_null())
        std::cout << "  (stopped early after " << r["stopped_after"]
                  << " runs: " << r["stop_reason"].get<std::string>() << ")";
    std::cout << "\n"
              << "fail rate  " << num(r["fail_rate"].get<double>()) << "  95% CI ["
              << num(r["fail_rate_interval"][0].get<double>()) << ", "
              << num(r["fail_rate_interval"][1].get<double>()) << "]\n"
              << "pass@k    ";
    // (all k in --json; here 1, 2, 5, 10 and K)
    for (const auto& kv : r["pass_at_k"]) {
        auto k = kv[0].get<std::size_t>();
        if (k == 1 || k == 2 || k == 5 || k == 10 || k == r["pass_at_k"].size())
            std::cout << " pass@" << k << " " << num(kv[1].get<double>());
    }
    std::cout << "\n";
    if (!r["rule"].is_null())
        std::cout << "rule       " << r["rule"].get<std::string>() << ": "
                  << r["decision"].get<std::string>()
                  << (r["decision"] == "inconclusive" ? " at this K" : "") << "\n";
    std::cout << "conditions " << r["conditions_groups"].size()
              << " group(s) by declared conditions and fingerprint\n";
    for (const auto& g : r["conditions_groups"])
        std::cout << "  " << g["group"].get<std::string>() << "  "
                  << g["passed"].get<int>() + g["failed"].get<int>() << " runs, " << g["failed"]
                  << " failed\n";
    for (const auto& v : r["variants"])
        std::cout << "variant    " << v["variant"].dump() << ": " << v["failed"] << " of "
                  << v["runs"] << " failed, 95% CI ["
                  << num(v["fail_rate_interval"][0].get<double>()) << ", "
                  << num(v["fail_rate_interval"][1].get<double>()) << "], p (Holm) "
                  << p_value(v["p_holm"].get<double>())
                  << (v["differs"].get<bool>() ? "  differs" : "") << "\n";
    std::cout << "tokens     " << r["tokens"]["input"] << " in, " << r["tokens"]["output"]
              << " out";
    if (r.contains("cost_usd") && r["cost_usd"].is_object()) {
        std::cout << ", about $" << num(r["cost_usd"]["total"].get<double>());
        if (!r["cost_usd"]["unpriced_models"].empty())
            std::cout << " (no price for " << r["cost_usd"]["unpriced_models"].dump() << ")";
    }
    std::cout << "\n"
              << "verdict    " << r["verdict"].get<std::string>() << "\n";
}

void show_probe(Context& ctx, const std::string& ref) {
    auto answer = check(query::probe_json(ctx.store(), ref));
    if (ctx.json) {
        print_json(answer.json);
    } else if (answer.finished) {
        print_probe(answer.json);
    } else {
        auto run = check(store::resolve_run(ctx.store(), ref));
        std::cout << "probe      " << run.id << "  registered " << run.record_digest.value_or("")
                  << "\nplan       " << answer.json["registration"].dump()
                  << "\nresult     none (the probe did not finish)\n";
    }
    if (!answer.finished) throw Exit{1, ""};
}

// --svg: one row per variant, else per conditions group.
void write_chart(const std::string& path, const core::Json& r) {
    std::vector<analysis::ChartRow> rows;
    auto rate = [](std::size_t failed, std::size_t runs) {
        return runs ? static_cast<double>(failed) / static_cast<double>(runs) : 0.0;
    };
    if (!r["variants"].empty()) {
        for (const auto& v : r["variants"]) {
            std::size_t runs = v["runs"], failed = v["failed"];
            rows.push_back({v["variant"].dump(), rate(failed, runs), v["fail_rate_interval"][0],
                            v["fail_rate_interval"][1], runs, failed});
        }
    } else {
        for (const auto& g : r["conditions_groups"]) {
            std::size_t failed = g["failed"], runs = failed + g["passed"].get<std::size_t>();
            auto i = analysis::wilson_interval(failed, runs);
            rows.push_back(
                {g["group"].get<std::string>(), rate(failed, runs), i.lo, i.hi, runs, failed});
        }
    }
    std::ofstream out(path);
    out << analysis::interval_chart_svg(
        "probe " + r["probe"].get<std::string>() + ": " + r["verdict"].get<std::string>(), rows);
    if (!out) fail(error(ErrorCode::io, "--svg: cannot write " + path), 1);
}

}  // namespace

void add_probe_command(CLI::App& app, Context& ctx) {
    auto* cmd = app.add_subcommand(
        "probe", "run a pre-registered variance probe: K recorded runs, judged, with statistics");
    auto o = std::make_shared<probe::ProbeOptions>();
    auto sequential = std::make_shared<std::string>();
    cmd->add_option("--k", o->k, "number of runs (default 20)");
    cmd->add_option("--jobs", o->jobs, "runs at a time (default 1)");
    cmd->add_option("--hypothesis", o->hypothesis, "what the probe tests, in words");
    cmd->add_option("--rule", o->rule,
                    "decision rule: fail_rate, pass_rate, pass@K compared with numbers, and/or");
    cmd->add_option(
        "--oracle", o->oracle,
        "shell command judging each run (RETRACE_RUN_ID, RETRACE_STDOUT, RETRACE_EXIT); "
        "exit 0 = pass. Default: the run's exit code");
    cmd->add_option("--sequential", *sequential,
                    "p0=P,p1=P: stop early once a sequential test decides between failure rates");
    cmd->add_option(
        "--vary", o->vary_file,
        "JSON Lines of input variants: K runs each, as RETRACE_VARIANT and {field} in ARGS");
    auto svg = std::make_shared<std::string>();
    cmd->add_option("--svg", *svg, "write a chart of the failure rates with their intervals");
    auto budget = std::make_shared<long long>(0);
    cmd->add_option("--budget-tokens", *budget,
                    "stop starting runs once this many tokens are spent");
    cmd->add_option(
        "--prices", o->prices_file,
        "JSON: per-model USD per million tokens, {\"MODEL\": {\"input\": N, \"output\": N}}");
    cmd->add_option("--name", o->name, "a name for the probe (its runs are NAME.run)");
    auto& r = o->record;
    cmd->add_option("--input", r.inputs, "as for record (repeatable)");
    cmd->add_option("--output", r.outputs, "as for record (repeatable)");
    cmd->add_option("--max-body", r.max_body, "as for record");
    cmd->add_option("--param", r.params, "as for record (repeatable)");
    cmd->add_option("--env", r.env_names, "as for record (repeatable)");
    cmd->add_option("--upstream", r.upstreams, "as for record (repeatable)");
    cmd->add_option("--route", r.routes, "as for record (repeatable)");
    cmd->add_option("--redact", r.redact, "as for record (repeatable)");
    cmd->add_option("--ca-file", r.ca_file, "as for record");
    cmd->add_flag("--deterministic", r.deterministic, "as for record");
    cmd->add_flag("--json", ctx.json, "print the report as JSON");
    cmd->footer(
        "Usage: retrace probe --k N [--rule RULE] [--oracle CMD] [OPTIONS] -- CMD [ARGS...]\n"
        "       retrace probe show PROBE   (re-print a finished probe)\n"
        "The hypothesis, K, rule, oracle, command and static conditions are sealed into the\n"
        "store (and the record digest printed) before the first run. Exits 0 when the rule is\n"
        "accepted (or there is none), 1 when rejected, 3 when inconclusive at this K.");
    cmd->prefix_command();
    cmd->allow_extras();  // `probe show PROBE`
    cmd->fallthrough(false);
    cmd->callback([&ctx, o, sequential, budget, svg, cmd] {
        if (*budget != 0) o->budget_tokens = *budget;
        auto rest = cmd->remaining();
        if (ctx.trailing.empty() && !rest.empty() && rest[0] == "show") {
            // (after the first positional everything is left unparsed)
            if (auto it = std::find(rest.begin(), rest.end(), "--json"); it != rest.end()) {
                ctx.json = true;
                rest.erase(it);
            }
            if (rest.size() != 2)
                fail(error(ErrorCode::invalid_input, "usage: retrace probe show PROBE"));
            return show_probe(ctx, rest[1]);
        }
        o->record.command = cmd->remaining();
        o->record.command.insert(o->record.command.end(), ctx.trailing.begin(), ctx.trailing.end());
        if (!sequential->empty()) {
            double p0 = -1, p1 = -1;
            if (std::sscanf(sequential->c_str(), "p0=%lf,p1=%lf", &p0, &p1) != 2)
                fail(error(ErrorCode::invalid_input,
                           "--sequential wants p0=P,p1=P, got '" + *sequential + "'"));
            o->sequential = std::pair{p0, p1};
        }
        probe::ProbeHooks hooks;
        hooks.registered = [&](const std::string& id, const std::string& digest) {
            std::cerr << "retrace: probe " << id << " registered, record " << digest << "\n";
        };
        hooks.progress = [&](int done, int total, int failed, long long tokens) {
            std::cerr << "retrace: probe: " << done << " of " << total << " runs, " << tokens
                      << " tokens, " << failed << " failed\n";
        };
        auto outcome = probe::probe(*o, ctx.opener(), ctx.envp, hooks);
        if (!outcome) fail_before_child(outcome.status());
        if (ctx.json)
            print_json(outcome->report);
        else
            print_probe(outcome->report);
        if (!svg->empty()) write_chart(*svg, outcome->report);
        if (outcome->decision == "reject") throw Exit{1, ""};
        if (outcome->decision == "inconclusive") throw Exit{3, ""};
    });
}

void add_probes_command(CLI::App& app, Context& ctx) {
    auto* cmd = app.add_subcommand("probes", "list the probes, newest first");
    cmd->add_flag("--json", ctx.json, "print JSON");
    cmd->callback([&ctx] {
        core::Json list = check(query::probes_json(ctx.store()));
        if (ctx.json) return print_json(list);
        for (const auto& j : list)
            std::cout << j["probe"].get<std::string>() << "  "
                      << format_time(j["started_ns"].get<long long>()) << "  "
                      << (j["name"].is_string() ? j["name"].get<std::string>() : "") << "  "
                      << (j["verdict"].is_string()
                              ? j["failed"].dump() + " of " + j["runs"].dump() + " failed, " +
                                    j["verdict"].get<std::string>()
                              : std::string("(no result)"))
                      << "\n";
    });
}

}  // namespace retrace::cli
