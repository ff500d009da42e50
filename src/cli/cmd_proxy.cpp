#include "context.hpp"
#include "format.hpp"
#include "retrace/run/gateway.hpp"

namespace retrace::cli {

void add_proxy_command(CLI::App& app, Context& ctx) {
    auto* cmd = app.add_subcommand(
        "proxy", "run the recording proxy as a long-running gateway for services");
    auto o = std::make_shared<run::GatewayOptions>();
    auto on_miss = std::make_shared<std::string>("fail");
    cmd->add_option("--listen", o->listen, "HOST:PORT to listen on (port 0: a free one)")
        ->capture_default_str();
    cmd->add_option("--upstream", o->upstreams,
                    "NAME=URL: where /openai or /anthropic requests go (default: "
                    "OPENAI_BASE_URL / ANTHROPIC_BASE_URL, else the public API)");
    cmd->add_option("--route", o->routes, "NAME=URL: record any other HTTP API at /NAME");
    cmd->add_option("--ca-file", o->ca_file, "PEM CA certificates for https upstreams");
    cmd->add_option("--redact", o->redact, "REGEX: also redact what matches (repeatable)");
    cmd->add_option("--max-body", o->max_body, "largest request body accepted, in bytes")
        ->capture_default_str();
    add_timeout_options(*cmd, o->read_timeout, o->keepalive_timeout);
    cmd->add_option("--idle", o->idle_seconds, "seal a run after this many idle seconds")
        ->capture_default_str();
    cmd->add_option("--token-file", o->token_file,
                    "FILE holding the token clients must present (x-retrace-token, or base URL "
                    "/_t/TOKEN/...); needed to listen beyond loopback (or RETRACE_GATEWAY_TOKEN)");
    cmd->add_option("--replay", o->replay, "RUN: answer from this recording instead of upstream");
    cmd->add_option("--on-miss", *on_miss, "with --replay: fail (default) or live")
        ->check(CLI::IsMember({"fail", "live"}));
    cmd->add_flag("--reuse", o->reuse, "with --replay: an exhausted queue repeats its last answer");
    cmd->add_option("--ignore", o->ignore, "with --replay: JSONPATH left out of matching");
    cmd->footer(
        "Exchanges are grouped into runs by the x-retrace-run request header, else one run\n"
        "per hour (UTC). Runs are sealed when idle and on SIGINT/SIGTERM. Prints\n"
        "'listening on URL' first; clients use URL/openai, URL/anthropic, URL/NAME.");
    cmd->callback([&ctx, o, on_miss] {
        o->on_miss_live = *on_miss == "live";
        // The gateway's code condition: what it was asked to do.
        o->argv = {"retrace", "proxy", "--listen", o->listen};
        for (const auto& u : o->upstreams) o->argv.insert(o->argv.end(), {"--upstream", u});
        for (const auto& r : o->routes) o->argv.insert(o->argv.end(), {"--route", r});
        if (o->replay) o->argv.insert(o->argv.end(), {"--replay", *o->replay});
        auto summary = run::run_gateway(*o, ctx.opener(), ctx.envp, [](const std::string& url) {
            std::cout << "listening on " << url << std::endl;
        });
        if (!summary) fail(summary.status(), summary.status().code() == ErrorCode::io ? 125 : 2);
        std::cerr << "retrace: gateway stopped: " << summary->runs_sealed << " run(s) sealed, "
                  << summary->exchanges << " exchange(s)\n";
    });
}

}  // namespace retrace::cli
