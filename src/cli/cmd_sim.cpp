#include <signal.h>

#include "context.hpp"
#include "retrace/sim/sim.hpp"

namespace retrace::cli {

void add_sim_command(CLI::App& app, Context&) {
    auto* cmd = app.add_subcommand(
        "sim",
        "serve a simulated OpenAI- and Anthropic-compatible provider that misbehaves on demand");
    auto o = std::make_shared<sim::SimOptions>();
    auto fail_kinds = std::make_shared<std::string>("429,500");
    auto fail_sequence = std::make_shared<std::string>();
    auto latency = std::make_shared<std::string>();
    cmd->add_option("--port", o->port,
                    "port to listen on (0: ephemeral, printed on the first line)");
    cmd->add_option("--host", o->host, "address to bind (default 127.0.0.1, loopback only)");
    cmd->add_option("--sim-seed", o->sim_seed, "seed for every random choice the sim makes");
    cmd->add_flag("--ignore-seed", o->behaviour.ignore_seed, "accept `seed` but ignore it");
    cmd->add_option(
        "--rotate-fingerprint", o->behaviour.rotate_fingerprint,
        "every N model requests, a new system_fingerprint and new temperature-0 outputs");
    cmd->add_option("--batch-noise", o->behaviour.batch_noise,
                    "probability that a temperature-0 output differs slightly");
    cmd->add_option("--batch-noise-every", o->behaviour.batch_noise_every,
                    "perturb exactly every M-th temperature-0 request");
    cmd->add_flag("--persona-by-key", o->behaviour.persona_by_key,
                  "output style depends on the API key, invisibly");
    cmd->add_option("--latency", *latency, "MS[,JITTER] before each response");
    cmd->add_option("--stream-interval", o->behaviour.stream_interval_ms,
                    "milliseconds between stream frames");
    cmd->add_option("--fail-rate", o->behaviour.fail_rate, "probability a model request fails");
    cmd->add_option("--fail-kinds", *fail_kinds,
                    "kinds for --fail-rate: 429,500,529,reset,midstream");
    cmd->add_option("--fail-sequence", *fail_sequence,
                    "exact script of outcomes, e.g. 429,ok,500,ok (repeats; replaces --fail-rate)");
    cmd->add_flag("--any-model", o->behaviour.any_model,
                  "answer to any model name, not only the providers' known ones");
    cmd->add_flag("--stateful-clock", o->behaviour.stateful_clock,
                  "include the server time in outputs");
    auto tls = std::make_shared<std::vector<std::string>>();
    cmd->add_option("--tls", *tls,
                    "serve HTTPS with this PEM certificate (chain) and key: --tls CERT KEY")
        ->expected(2);
    cmd->callback([o, fail_kinds, fail_sequence, latency, tls] {
        if (tls->size() == 2) {
            o->tls_cert = (*tls)[0];
            o->tls_key = (*tls)[1];
        }
        o->behaviour.fail_kinds = check(sim::parse_fail_list(*fail_kinds, false));
        if (!fail_sequence->empty())
            o->behaviour.fail_sequence = check(sim::parse_fail_list(*fail_sequence, true));
        if (!latency->empty()) {
            try {
                auto comma = latency->find(',');
                o->behaviour.latency_ms = std::stoll(latency->substr(0, comma));
                if (comma != std::string::npos)
                    o->behaviour.latency_jitter_ms = std::stoll(latency->substr(comma + 1));
            } catch (const std::exception&) {
                fail(error(ErrorCode::invalid_input, "--latency wants MS or MS,JITTER"));
            }
        }
        // Signals are taken synchronously by this thread; the server's
        // threads inherit the mask and never see them.
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &set, nullptr);
        auto server = check(sim::SimServer::start(*o));
        std::cout << "listening on " << (o->tls_cert ? "https://" : "http://") << o->host << ":"
                  << server->port() << std::endl;
        int sig = 0;
        sigwait(&set, &sig);
        server->stop();
    });
}

}  // namespace retrace::cli
