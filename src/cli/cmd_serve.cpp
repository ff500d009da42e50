#include <signal.h>

#include <cstdlib>

#include "context.hpp"
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
        auto colon = listen->rfind(':');
        if (colon == std::string::npos)
            fail(error(ErrorCode::invalid_input, "--listen wants HOST:PORT, e.g. 127.0.0.1:8700"));
        o->host = listen->substr(0, colon);
        if (o->host.size() > 1 && o->host.front() == '[' && o->host.back() == ']')
            o->host = o->host.substr(1, o->host.size() - 2);
        try {
            std::size_t used = 0;
            o->port = std::stoi(listen->substr(colon + 1), &used);
            if (used != listen->size() - colon - 1 || o->port < 0 || o->port > 65535)
                throw std::out_of_range("port");
        } catch (const std::exception&) {
            fail(error(ErrorCode::invalid_input,
                       "--listen: bad port in '" + *listen + "' (want 0 to 65535)"));
        }
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
