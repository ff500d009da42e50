#include "retrace/probe/variance_probe.hpp"

#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "retrace/analysis/diff.hpp"
#include "retrace/analysis/stats.hpp"
#include "retrace/core/clock.hpp"
#include "retrace/core/identity.hpp"
#include "retrace/core/llm_response.hpp"
#include "retrace/run/child_process.hpp"
#include "retrace/run/oracle.hpp"
#include "retrace/run/run_setup.hpp"
#include "retrace/run/session.hpp"
#include "retrace/trace/exchange.hpp"

namespace retrace::probe {

using run::LaunchFailure;
using run::new_run;
using run::NewRun;
using run::RecordOptions;
using run::RecordOutcome;
using run::termination_signal;

namespace {

namespace fs = std::filesystem;
using core::Json;

// Seals a run holding one event whose attributes are `body` (the probe's
// registration or its result): tamper-evident like any run.
Result<store::RunRow> seal_record(store::Store& store, const Json& conditions,
                                  const std::string& name, const std::string& event_name,
                                  const Json& body, Json extra_metadata) {
    RETRACE_ASSIGN(NewRun fresh,
                   new_run(conditions, name, std::nullopt, std::move(extra_metadata)));
    RETRACE_ASSIGN(auto session, run::RunSession::start(store, std::move(fresh), {}, ""));
    RETRACE_ASSIGN(std::string text, core::canonicalize(body));
    core::Event e;
    e.seq = session->next_seq();
    e.kind = core::EventKind::custom;
    e.name = event_name;
    e.start_ns = e.end_ns = core::unix_now_ns();
    e.attrs = body;
    e.request = core::Digest::of(text).to_string();
    RETRACE_TRY(session->complete(std::move(e), {{core::Digest::of(text).to_string(), text}}));
    return session->seal({});  // (its conditions as they started)
}

// Runs the oracle for one run: exit 0 is a pass.
Result<bool> judge(const std::string& oracle, const RecordOutcome& run, char** envp) {
    if (oracle.empty()) return run.exit_code == 0;
    return run::oracle_passes(oracle, run.run_id, run.stdout_text, run.exit_code, envp);
}

Json interval_json(analysis::Interval i) {
    return Json::array({i.lo, i.hi});
}

// The variants of --vary: one JSON object per non-blank line.
Result<std::vector<Json>> read_variants(const std::string& path) {
    std::vector<Json> out;
    if (path.empty()) return out;
    std::ifstream in(path);
    if (!in) return error(ErrorCode::invalid_input, "--vary: cannot read " + path);
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        auto v = core::parse_json_strict(line);
        if (!v || !v->is_object())
            return error(
                ErrorCode::invalid_input,
                "--vary " + path + " line " + std::to_string(number) + ": not a JSON object");
        out.push_back(std::move(*v));
    }
    if (out.empty()) return error(ErrorCode::invalid_input, "--vary " + path + " holds no variant");
    return out;
}

// ARGS with {field} replaced by the variant's values.
std::vector<std::string> substitute(std::vector<std::string> args, const Json& variant) {
    for (auto& a : args)
        for (const auto& [key, value] : variant.items()) {
            std::string token = "{" + key + "}";
            std::string text = value.is_string() ? value.get<std::string>() : value.dump();
            for (std::size_t at = a.find(token); at != std::string::npos;
                 at = a.find(token, at + text.size()))
                a.replace(at, token.size(), text);
        }
    return args;
}

// The tokens a recorded run spent, by the model that served them.
Status count_tokens(store::Store& store, ProbeRun& r) {
    RETRACE_ASSIGN(auto events, store.events(r.run_id));
    for (const auto& row : events) {
        if (row.event.kind != core::EventKind::llm) continue;
        trace::Exchange x = trace::Exchange::from_attrs(row.event.attrs);
        auto answer = core::assemble_response(
            x.route, x.response_headers.value("content-type", std::string()),
            store::blob_text(store, row.event.response));
        long long in = answer.input_tokens.value_or(0), out = answer.output_tokens.value_or(0);
        r.input_tokens += in;
        r.output_tokens += out;
        if (in == 0 && out == 0) continue;  // an error, say: nothing to price
        auto& m = r.tokens_by_model[answer.model.empty() ? "(unknown)" : answer.model];
        m.first += in;
        m.second += out;
    }
    return Status::ok();
}

// --prices: {"MODEL": {"input": USD per million tokens, "output": ...}}.
Result<Json> read_prices(const std::string& path) {
    if (path.empty()) return Json();
    std::ifstream in(path);
    if (!in) return error(ErrorCode::invalid_input, "--prices: cannot read " + path);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto prices = core::parse_json_strict(text);
    if (!prices || !prices->is_object())
        return error(ErrorCode::invalid_input, "--prices " + path + ": not a JSON object");
    for (const auto& [model, p] : prices->items())
        if (!p.is_object() || !p.value("input", Json()).is_number() ||
            !p.value("output", Json()).is_number())
            return error(ErrorCode::invalid_input, "--prices " + path + ": " + model +
                                                       " wants {\"input\": N, \"output\": N}");
    return *prices;
}

std::string fixed(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", v);
    return buf;
}

}  // namespace

Result<ProbeOutcome> probe(const ProbeOptions& o, store::StoreOpener& opener, char** envp,
                           const ProbeHooks& hooks) {
    // Everything the user gave is checked before anything is stored.
    if (o.record.command.empty())
        return error(ErrorCode::invalid_input,
                     "no command given (retrace probe ... -- CMD ARGS...)");
    if (o.k < 1 || o.k > 100000) return error(ErrorCode::invalid_input, "--k wants 1 to 100000");
    if (o.jobs < 1 || o.jobs > 256) return error(ErrorCode::invalid_input, "--jobs wants 1 to 256");
    std::optional<analysis::Rule> rule;
    if (!o.rule.empty()) {
        RETRACE_ASSIGN(auto parsed, analysis::Rule::parse(o.rule));
        rule = std::move(parsed);
    }
    std::optional<analysis::Sprt> sprt;
    if (o.sequential) {
        auto [p0, p1] = *o.sequential;
        if (!(p0 > 0 && p1 < 1 && p0 < p1))
            return error(ErrorCode::invalid_input, "--sequential wants 0 < p0 < p1 < 1");
        sprt = analysis::Sprt{p0, p1};
    }
    RETRACE_ASSIGN(auto variants, read_variants(o.vary_file));
    RETRACE_ASSIGN(Json prices, read_prices(o.prices_file));
    if (o.budget_tokens && *o.budget_tokens <= 0)
        return error(ErrorCode::invalid_input, "--budget-tokens wants a positive number");
    if (!variants.empty() && o.sequential)
        return error(ErrorCode::invalid_input, "--sequential and --vary do not go together");
    int total = o.k * static_cast<int>(std::max<std::size_t>(1, variants.size()));
    RETRACE_ASSIGN(Json conditions, static_conditions(o.record, opener, envp));

    // Pre-registration: sealed, and announced, before the first run.
    Json argv = Json::array();
    for (const auto& a : o.record.command) argv.push_back(a);
    Json plan = {{"hypothesis", o.hypothesis},
                 {"k", o.k},
                 {"jobs", o.jobs},
                 {"rule", o.rule},
                 {"oracle", o.oracle.empty() ? Json() : Json(o.oracle)},
                 {"command", conditions["code"].value("argv", argv)},
                 {"sequential",
                  o.sequential ? Json::array({o.sequential->first, o.sequential->second}) : Json()},
                 {"variants", variants.empty() ? Json() : Json(variants)}};
    RETRACE_ASSIGN(store::Store * store, opener.open(true));
    RETRACE_ASSIGN(auto registration,
                   seal_record(*store, conditions, o.name, "probe registration", {{"probe", plan}},
                               {{"probe", {{"role", "registration"}}}}));
    ProbeOutcome out;
    out.probe_id = registration.id;
    out.probe_record_digest = registration.record_digest.value_or("");
    if (hooks.registered) hooks.registered(out.probe_id, out.probe_record_digest);

    // The runs, recorded like any, `jobs` at a time.
    std::mutex mutex;
    std::vector<ProbeRun> runs;
    std::optional<Status> failure;
    std::atomic<int> next{0};
    std::atomic<bool> stop{false};
    std::optional<int> stopped_after;
    std::string stop_reason;
    long long spent = 0;
    int failed = 0;
    // Each variant's environment: ours plus RETRACE_VARIANT.
    std::vector<std::vector<std::string>> variant_env;
    std::vector<std::vector<char*>> variant_envp;
    for (const auto& v : variants) {
        auto& env = variant_env.emplace_back();
        for (char** e = envp; e && *e; ++e)
            if (!std::string_view(*e).starts_with("RETRACE_VARIANT=")) env.emplace_back(*e);
        env.push_back("RETRACE_VARIANT=" + v.dump());
    }
    for (auto& env : variant_env) {
        auto& ptrs = variant_envp.emplace_back();
        for (auto& kv : env) ptrs.push_back(kv.data());
        ptrs.push_back(nullptr);
    }
    auto worker = [&] {
        // A connection of the worker's own: its runs are written, and their
        // tokens counted as they end, through it.
        std::optional<store::StoreOpener> own;
        for (;;) {
            int index = ++next;
            if (index > total || stop || termination_signal()) return;
            int variant = variants.empty() ? -1 : (index - 1) / o.k;
            char** env =
                variant < 0 ? envp : variant_envp[static_cast<std::size_t>(variant)].data();
            RecordOptions ro = o.record;
            if (variant >= 0)
                ro.command = substitute(ro.command, variants[static_cast<std::size_t>(variant)]);
            ro.name = o.name + ".run";
            ro.params.push_back("retrace_probe=" + out.probe_id);
            ro.pass_through = false;
            if (!own) {
                auto connected = store->connect();
                if (!connected) {
                    std::lock_guard lock(mutex);
                    if (!failure) failure = connected.status();
                    stop = true;
                    return;
                }
                own.emplace(std::move(connected).value());
            }
            std::optional<LaunchFailure> launch;
            auto run = record(ro, *own, env, &launch);
            Result<bool> passed = run ? (launch ? Result<bool>(false) : judge(o.oracle, *run, env))
                                      : Result<bool>(run.status());
            ProbeRun r;
            Status counted = Status::ok();
            if (run && passed && !launch) {
                r.run_id = run->run_id;
                auto mine = own->open(false);
                counted = mine ? count_tokens(**mine, r) : mine.status();
            }
            std::lock_guard lock(mutex);
            if (!counted.is_ok() && !failure) {
                failure = counted;
                stop = true;
                return;
            }
            if (!run || !passed || launch) {
                if (!failure)
                    failure = !run      ? run.status()
                              : !passed ? passed.status()
                                        : error(ErrorCode::invalid_input, launch->message);
                stop = true;
                return;
            }
            r.index = index;
            r.variant = variant;
            r.conditions_digest = run->conditions_digest;
            r.exit_code = run->exit_code;
            r.passed = *passed;
            failed += !r.passed;
            spent += r.input_tokens + r.output_tokens;
            runs.push_back(r);
            if (o.budget_tokens && spent > *o.budget_tokens && !stop) {
                stop = true;
                stopped_after = static_cast<int>(runs.size());
                stop_reason =
                    "the token budget (" + std::to_string(*o.budget_tokens) + ") was spent";
            }
            if (hooks.progress) hooks.progress(static_cast<int>(runs.size()), total, failed, spent);
            if (sprt && !stopped_after) {
                std::size_t n = runs.size(), f = static_cast<std::size_t>(failed);
                if (!sprt->decide(f, n - f).empty()) {
                    stopped_after = static_cast<int>(n);
                    stop_reason = "the sequential test decided";
                    stop = true;
                }
            }
        }
    };
    std::vector<std::thread> pool;
    for (int j = 0; j < std::min(o.jobs, total); ++j) pool.emplace_back(worker);
    for (auto& t : pool) t.join();
    if (failure) return failure->with_context("probe " + out.probe_id);
    // Interrupted (SIGINT, SIGTERM, SIGHUP: forwarded to the runs then going):
    // no run was started after it, and the result says so.
    if (int sig = termination_signal()) {
        stopped_after = static_cast<int>(runs.size());
        const char* name = sigabbrev_np(sig);
        stop_reason = "interrupted by " + (name ? "SIG" + std::string(name) : "a signal");
    }
    std::sort(runs.begin(), runs.end(), [](auto& a, auto& b) { return a.index < b.index; });

    // What the runs say.
    long long tokens_in = 0, tokens_out = 0;
    std::map<std::string, std::pair<int, int>> by_conditions;  // digest -> passes, failures
    Json run_list = Json::array();
    std::map<std::string, std::pair<long long, long long>> by_model;
    for (auto& r : runs) {
        for (const auto& [model, t] : r.tokens_by_model) {
            by_model[model].first += t.first;
            by_model[model].second += t.second;
        }
        tokens_in += r.input_tokens;
        tokens_out += r.output_tokens;
        // Grouped by the declared conditions the program was given (its
        // code, environment, data and parameters: not the models, prompts
        // and tools its traffic showed, which follow from what it did, say
        // a tool schema built from a sampled answer) and the fingerprints
        // the provider reported; a run that saw none (say, its request
        // failed) says nothing about the backend.
        RETRACE_ASSIGN(auto row, store->get_run(r.run_id));
        Json c = Json::object();
        if (row)
            if (auto parsed = core::parse_json_strict(row->conditions)) c = *parsed;
        RETRACE_ASSIGN(auto identity, core::identify_conditions(c));
        std::string fingerprints;
        for (const auto& [provider, facts] : c["backend"].items())
            for (const auto& fp : facts.value("system_fingerprints", Json::array()))
                fingerprints += (fingerprints.empty() ? "" : ",") + fp.get<std::string>();
        std::string given;
        for (auto section : core::k_declared_sections)
            if (!core::is_traffic_section(section))
                given += identity.sections[std::string(section)].to_string() + "\n";
        r.conditions_digest = core::Digest::of(given).to_string().substr(7, 12) + " " +
                              (fingerprints.empty() ? "(no fingerprint)" : fingerprints);
        auto& group = by_conditions[r.conditions_digest];
        (r.passed ? group.first : group.second)++;
        run_list.push_back({{"index", r.index},
                            {"run", r.run_id},
                            {"passed", r.passed},
                            {"exit_code", r.exit_code},
                            {"group", r.conditions_digest},
                            {"tokens", {r.input_tokens, r.output_tokens}}});
    }
    std::size_t n = runs.size(), fails = static_cast<std::size_t>(failed), passes = n - fails;
    analysis::Interval fail_rate = analysis::wilson_interval(fails, n);
    Json pass_at = Json::array();  // [k, pass@k] for k = 1..n
    for (std::size_t k = 1; k <= n; ++k) pass_at.push_back({k, analysis::pass_at_k(n, passes, k)});
    if (rule) out.decision = rule->decide(passes, n);

    // The verdict: same outcome and same trajectory every time is
    // deterministic; failures that line up with conditions are conditional.
    std::string verdict;
    bool same_trajectory = true;
    for (std::size_t i = 1; i < runs.size() && same_trajectory; ++i) {
        RETRACE_ASSIGN(auto d, analysis::diff_runs(*store, runs[0].run_id, runs[i].run_id));
        same_trajectory = d.verdict == "identical";
    }
    // Conditional: among the runs whose backend is known, two or more groups,
    // each all passing or all failing, and both outcomes present.
    int known_groups = 0, known_passes = 0, known_fails = 0;
    bool pure = true;
    for (const auto& [key, g] : by_conditions) {
        if (key.ends_with("(no fingerprint)")) continue;
        ++known_groups;
        known_passes += g.first;
        known_fails += g.second;
        pure = pure && (g.first == 0 || g.second == 0);
    }
    bool conditional = known_groups > 1 && pure && known_passes > 0 && known_fails > 0;

    // Variants: each against the rest (Fisher's exact test, Holm-corrected).
    Json variant_report = Json::array();
    std::vector<std::string> differing;
    if (!variants.empty()) {
        std::vector<std::size_t> v_fail(variants.size()), v_pass(variants.size());
        for (const auto& r : runs)
            (r.passed ? v_pass : v_fail)[static_cast<std::size_t>(r.variant)]++;
        std::vector<double> p;
        for (std::size_t v = 0; v < variants.size(); ++v)
            p.push_back(analysis::fisher_exact(v_fail[v], v_pass[v], fails - v_fail[v],
                                               passes - v_pass[v]));
        auto adjusted = analysis::holm(p);
        for (std::size_t v = 0; v < variants.size(); ++v) {
            bool differs = adjusted[v] < 0.05;
            if (differs) differing.push_back(variants[v].dump());
            variant_report.push_back(
                {{"variant", variants[v]},
                 {"runs", v_fail[v] + v_pass[v]},
                 {"failed", v_fail[v]},
                 {"fail_rate_interval",
                  interval_json(analysis::wilson_interval(v_fail[v], v_fail[v] + v_pass[v]))},
                 {"p", p[v]},
                 {"p_holm", adjusted[v]},
                 {"differs", differs}});
        }
    }
    if (fails == 0)
        verdict = same_trajectory ? "deterministic pass"
                                  : "no failures in " + std::to_string(n) +
                                        " runs: failure rate <= " + fixed(fail_rate.hi);
    else if (passes == 0)
        verdict = same_trajectory ? "deterministic fail"
                                  : "failed in every one of " + std::to_string(n) +
                                        " runs: failure rate >= " + fixed(fail_rate.lo);
    else if (!differing.empty()) {
        verdict = "conditional on input (variants";
        for (const auto& d : differing) verdict += " " + d;
        verdict += ")";
    } else if (conditional)
        verdict = "conditional on conditions";
    else
        verdict = "stochastic (rate [" + fixed(fail_rate.lo) + ", " + fixed(fail_rate.hi) + "])";

    // Cost, when --prices names the models that served.
    Json cost;
    if (!prices.is_null()) {
        double usd = 0;
        Json unpriced = Json::array();
        for (const auto& [model, t] : by_model) {
            if (!prices.contains(model)) {
                unpriced.push_back(model);
                continue;
            }
            usd += (static_cast<double>(t.first) * prices[model]["input"].get<double>() +
                    static_cast<double>(t.second) * prices[model]["output"].get<double>()) /
                   1e6;
        }
        cost = {{"total", usd}, {"unpriced_models", unpriced}};
    }
    Json groups = Json::array();
    for (const auto& [key, g] : by_conditions)
        groups.push_back({{"group", key}, {"passed", g.first}, {"failed", g.second}});
    out.report = {{"probe", out.probe_id},
                  {"probe_record", out.probe_record_digest},
                  {"name", o.name},
                  {"hypothesis", o.hypothesis},
                  {"k", o.k},
                  {"total", total},
                  {"runs", run_list},
                  {"done", n},
                  {"passed", passes},
                  {"failed", fails},
                  {"fail_rate", n ? static_cast<double>(fails) / static_cast<double>(n) : 0.0},
                  {"fail_rate_interval", interval_json(fail_rate)},
                  {"pass_at_k", pass_at},
                  {"rule", o.rule.empty() ? Json() : Json(o.rule)},
                  {"decision", out.decision.empty() ? Json() : Json(out.decision)},
                  {"stopped_after", stopped_after ? Json(*stopped_after) : Json()},
                  {"stop_reason", stop_reason.empty() ? Json() : Json(stop_reason)},
                  {"conditions_groups", groups},
                  {"variants", variant_report},
                  {"tokens", {{"input", tokens_in}, {"output", tokens_out}}},
                  {"cost_usd", cost},
                  {"verdict", verdict}};
    RETRACE_ASSIGN(auto result,
                   seal_record(*store, conditions, o.name + ".result", "probe result",
                               {{"result", out.report}},
                               {{"probe", {{"role", "result"}, {"registration", out.probe_id}}}}));
    out.result_id = result.id;
    out.report["result"] = result.id;
    return out;
}

}  // namespace retrace::probe
