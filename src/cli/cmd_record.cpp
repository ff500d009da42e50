#include "retrace/run/record.hpp"

#include "context.hpp"
#include "format.hpp"

namespace retrace::cli {

void add_record_command(CLI::App& app, Context& ctx) {
    auto* cmd = app.add_subcommand("record", "run a command and record it as a run");
    auto opts = std::make_shared<run::RecordOptions>();
    cmd->add_option("--name", opts->name, "a name for the run (a run reference)");
    cmd->add_option("--input", opts->inputs, "a file or directory the run reads (repeatable)");
    cmd->add_option("--output", opts->outputs, "a file or directory the run writes (repeatable)");
    cmd->add_option("--param", opts->params, "KEY=VALUE declared parameter (repeatable)");
    cmd->add_option("--env", opts->env_names, "also record this environment variable (repeatable)");
    cmd->add_option("--upstream", opts->upstreams,
                    "NAME=URL: where /openai or /anthropic requests go (default: the program's own "
                    "OPENAI_BASE_URL / ANTHROPIC_BASE_URL, else the public API)");
    cmd->add_option(
        "--route", opts->routes,
        "NAME=URL: record any other HTTP API at /NAME (exported as RETRACE_ROUTE_NAME)");
    cmd->add_option(
        "--ca-file", opts->ca_file,
        "PEM file of CA certificates trusted for https upstreams, besides the system's");
    cmd->add_option("--redact", opts->redact,
                    "REGEX: also redact what matches in stored bodies and headers (repeatable)");
    cmd->add_option("--max-body", opts->max_body, "largest request body accepted, in bytes")
        ->capture_default_str();
    add_timeout_options(*cmd, opts->read_timeout, opts->keepalive_timeout);
    cmd->add_flag("--deterministic", opts->deterministic,
                  "record the program's wall-clock reads and OS randomness (LD_PRELOAD shim), "
                  "for replay --deterministic");
    cmd->add_flag("--json", ctx.json, "print the run's identity as JSON on stdout after the run");
    cmd->footer(
        "Usage: retrace record [OPTIONS] -- CMD [ARGS...]\n"
        "Exits with CMD's exit code (128+N if signal N killed it); 125 if retrace "
        "fails before CMD starts, 126/127 if CMD cannot be run or found.");
    cmd->prefix_command();
    cmd->callback([&ctx, opts, cmd] {
        opts->command = cmd->remaining();
        opts->command.insert(opts->command.end(), ctx.trailing.begin(), ctx.trailing.end());
        std::optional<run::LaunchFailure> launch;
        auto result = run::record(*opts, ctx.opener(), ctx.envp, &launch);
        if (!result) fail_before_child(result.status());
        if (launch && result->run_id.empty()) throw Exit{launch->exit_code, launch->message};
        for (const auto& p : result->missing_outputs)
            std::cerr << "retrace: warning: --output " << p << " was not produced\n";
        if (result->not_stored)
            std::cerr << "retrace: run " << result->run_id
                      << " left incomplete: " << *result->not_stored << "\n";
        else
            std::cerr << "retrace: run " << result->run_id << " conditions "
                      << result->conditions_digest << " exit " << result->exit_code << "\n";
        if (ctx.json)
            print_json({{"run_id", result->run_id},
                        {"conditions_digest", result->conditions_digest},
                        {"record_digest", result->record_digest},
                        {"exit_code", result->exit_code},
                        {"complete", !result->not_stored}});
        if (launch) throw Exit{launch->exit_code, launch->message};
        if (result->exit_code != 0) throw Exit{result->exit_code, ""};
    });
}

}  // namespace retrace::cli
