#include <signal.h>

#include <cstdlib>
#include <tuple>

#include "context.hpp"
#include "retrace/net/listen_address.hpp"
#include "retrace/web/server.hpp"

namespace retrace::cli {

void add_serve_command(CLI::App& app, Context& ctx) {
    auto* cmd = app.add_subcommand(
        "serve", "serve a web page of the store's runs, traces, diffs and probes (read-only)");
    auto o = std::make_shared<web::ServeOptions>();
    auto listen = std::make_shared<std::string>("127.0.0.1:0");
    cmd->add_option("--listen", *listen,
                    "HOST:PORT to serve on (default 127.0.0.1 and an ephemeral port)");
    cmd->add_flag("--allow-remote", o->allow_remote,
                  "allow an address other than loopback (the store's prompts and answers "
                  "become readable by whoever reaches it and holds the token)");
    cmd->footer(
        "Prints the page's URL with its access token; every request without the token is\n"
        "refused. The page and its JSON API (/api/v1, docs/web.md) only read the store.");
    cmd->callback([&ctx, o, listen] {
        std::tie(o->host, o->port) = check(net::parse_listen(*listen));
        // Signals are taken synchronously by this thread; the server's
        // thread inherits the mask and never sees them.
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &set, nullptr);
        if (const char* dir = std::getenv("RETRACE_WEB_DIR")) o->web_dir = dir;
        auto& store = ctx.store();
        auto server = check(web::WebServer::start(*o, store));
        std::cout << "serving " << store.location().display() << " on " << server->url()
                  << std::endl;
        int sig = 0;
        sigwait(&set, &sig);
        server->stop();
    });
}

}  // namespace retrace::cli
