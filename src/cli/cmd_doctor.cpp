#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "context.hpp"
#include "format.hpp"
#include "retrace/analysis/doctor.hpp"
#include "retrace/core/temp_dir.hpp"
#include "retrace/probe/provider_probe.hpp"
#include "retrace/run/record.hpp"

namespace retrace::cli {

namespace {

void print_findings(const analysis::DoctorReport& report) {
    std::cout << "run      " << report.run.id
              << (report.run.name ? "  (" + *report.run.name + ")" : "") << "\n";
    std::size_t errors = 0, warnings = 0;
    for (const auto& f : report.findings) {
        errors += f.severity == "error";
        warnings += f.severity == "warning";
        std::string severity = f.severity;
        severity.resize(8, ' ');
        std::cout << severity << " " << f.check << ": " << f.message << "\n"
                  << "         fix: " << f.fix << "\n";
    }
    std::cout << report.findings.size() << " finding(s): " << errors << " error(s), " << warnings
              << " warning(s)\n";
}

struct ProviderOptions {
    std::string provider, model, keys;
    int k = 5;
};

// doctor --provider: the probe's requests are sent by this binary's hidden
// _probe-client command, recorded by `record` like any program's.
void doctor_provider(Context& ctx, const ProviderOptions& o) {
    probe::ProbePlan plan;
    std::vector<std::string> upstreams;
    if (o.provider == "openai" || o.provider == "anthropic") {
        plan.api = o.provider;
    } else if (o.provider.rfind("http://", 0) == 0 || o.provider.rfind("https://", 0) == 0) {
        plan.api = "openai";
        upstreams.push_back("openai=" + o.provider);
    } else {
        fail(error(ErrorCode::invalid_input,
                   "--provider wants openai, anthropic or an OpenAI-compatible base URL, got '" +
                       o.provider + "'"));
    }
    if (o.k < 2 || o.k > 1000) fail(error(ErrorCode::invalid_input, "--k wants 2 to 1000"));
    plan.k = o.k;
    plan.model = !o.model.empty()          ? o.model
                 : plan.api == "anthropic" ? "claude-haiku-4-5"
                                           : "gpt-4o-mini";
    std::vector<std::string> keys;
    for (std::size_t at = 0; !o.keys.empty() && at <= o.keys.size();) {
        auto comma = o.keys.find(',', at);
        if (comma == std::string::npos) comma = o.keys.size();
        keys.push_back(o.keys.substr(at, comma - at));
        at = comma + 1;
    }
    if (keys.empty()) {
        const char* env =
            std::getenv(plan.api == "anthropic" ? "ANTHROPIC_API_KEY" : "OPENAI_API_KEY");
        keys.push_back(env ? env : "");
    }
    plan.keys = keys.size();

    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec) fail(error(ErrorCode::io, "cannot find the retrace binary: " + ec.message()), 125);
    auto plan_file = core::temp_dir() / ("retrace-probe-" + std::to_string(::getpid()) + ".json");
    {
        std::ofstream out(plan_file);
        out << plan.to_json().dump();
    }
    // The keys reach the client through its environment (secret-named
    // variables are recorded as present only, their values redacted).
    std::vector<std::string> env_storage;
    for (char** e = ctx.envp; e && *e; ++e) env_storage.emplace_back(*e);
    for (std::size_t i = 0; i < keys.size(); ++i)
        env_storage.push_back("RETRACE_PROBE_KEY_" + std::to_string(i) + "=" + keys[i]);
    std::vector<char*> envp;
    for (auto& kv : env_storage) envp.push_back(kv.data());
    envp.push_back(nullptr);

    run::RecordOptions ro;
    ro.name = "doctor-provider";
    ro.upstreams = upstreams;
    ro.command = {self.string(), "_probe-client", plan_file.string()};
    std::optional<run::LaunchFailure> launch;
    auto run = run::record(ro, ctx.opener(), envp.data(), &launch);
    std::filesystem::remove(plan_file, ec);
    if (!run) fail_before_child(run.status());
    auto report = check(probe::analyze_probe(ctx.store(), run->run_id));
    if (ctx.json) {
        print_json(report.to_json());
    } else {
        std::cout << "run      " << report.run_id << "  (doctor-provider: " << o.provider << ", "
                  << plan.model << ")\n";
        for (const auto& c : report.cells) {
            std::cout << "key " << c.key + 1 << "    " << c.phase << ": " << c.requests
                      << " request(s), " << c.outputs.size() << " distinct output(s), "
                      << c.by_fingerprint.size() << " fingerprint(s)";
            for (const auto& [fp, texts] : c.by_fingerprint)
                std::cout << " " << fp << "(" << texts.size() << ")";
            std::cout << ", " << c.input_tokens << "+" << c.output_tokens << " tokens";
            if (c.errors) std::cout << ", " << c.errors << " error(s)";
            std::cout << "\n";
        }
        std::cout << "verdict  " << report.verdict << ": " << report.explanation << "\n";
    }
    if (report.verdict == "no answers") throw Exit{1, ""};
}

}  // namespace

void add_doctor_command(CLI::App& app, Context& ctx) {
    auto* cmd = app.add_subcommand(
        "doctor",
        "list what in a recorded run is left to chance; or probe a provider (--provider)");
    cmd->footer(
        "doctor RUN checks: sampling without a seed, fingerprint changes within the run,\n"
        "unrecorded clock and randomness, PYTHONHASHSEED / CUBLAS_WORKSPACE_CONFIG, uncommitted\n"
        "code, undeclared inputs, truncated streams, live requests in a replay; exits 1 when an\n"
        "error is found. doctor --provider P --k N sends identical requests N times (temperature\n"
        "0, and a fixed seed above 0) under each key, in a recorded run, and names what varies:\n"
        "deterministic, seed ignored, rotating backend, batch-level noise, per-account "
        "difference.");
    auto run = std::make_shared<std::string>();
    auto po = std::make_shared<ProviderOptions>();
    cmd->add_option("run", *run, "a run reference");
    cmd->add_option("--provider", po->provider,
                    "openai, anthropic, or an OpenAI-compatible base URL");
    cmd->add_option("--k", po->k, "requests per setting (default 5)");
    cmd->add_option("--model", po->model, "the model to ask");
    cmd->add_option("--keys", po->keys,
                    "K1,K2,...: compare accounts (default: the API key in the environment)");
    cmd->add_flag("--json", ctx.json, "print JSON");
    cmd->callback([&ctx, run, po] {
        if (!po->provider.empty()) {
            if (!run->empty())
                fail(error(ErrorCode::invalid_input, "give a run or --provider, not both"));
            return doctor_provider(ctx, *po);
        }
        if (run->empty())
            fail(error(ErrorCode::invalid_input, "doctor wants a run (or --provider)"));
        auto report = check(analysis::doctor_run(ctx.store(), *run));
        if (ctx.json)
            print_json(report.to_json());
        else
            print_findings(report);
        if (report.has_errors()) throw Exit{1, ""};
    });

    // Sends a probe's requests; run by doctor --provider under `record`.
    auto* client = app.add_subcommand("_probe-client", "");
    client->group("");
    auto plan_file = std::make_shared<std::string>();
    client->add_option("plan", *plan_file)->required();
    client->callback([plan_file] {
        std::ifstream in(*plan_file);
        auto parsed = core::parse_json_strict(
            std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
        if (!parsed) fail(parsed.status());
        auto plan = check(probe::ProbePlan::from_json(*parsed));
        int code = probe::run_probe_client(plan);
        if (code != 0) throw Exit{code, ""};
    });
}

}  // namespace retrace::cli
