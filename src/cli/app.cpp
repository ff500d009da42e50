#include "retrace/cli/app.hpp"

#include <unistd.h>

#include <filesystem>

#include "context.hpp"

extern char** environ;

namespace retrace::cli {

store::StoreOpener& Context::opener() {
    if (!m_opener)
        m_opener.emplace(store::locate_store(store_dir, std::filesystem::current_path()));
    return *m_opener;
}

store::Store& Context::store(bool create) {
    return *check(opener().open(create));
}

void fail(const Status& status, int code) {
    throw Exit{code, status.message()};
}

void add_timeout_options(CLI::App& cmd, int& read_seconds, int& keepalive_seconds) {
    cmd.add_option("--read-timeout", read_seconds,
                   "SECONDS a client may take over a request's header, or pause in its body "
                   "(then 408)")
        ->capture_default_str();
    cmd.add_option("--keepalive-timeout", keepalive_seconds,
                   "SECONDS a client connection may stay idle between requests")
        ->capture_default_str();
}

int run(int argc, char** argv) {
    CLI::App app{"retrace: record, replay and explain AI runs", "retrace"};
    app.require_subcommand(1);
    app.fallthrough();
    app.set_version_flag("--version", std::string("retrace ") + RETRACE_VERSION);
    Context ctx;
    ctx.envp = environ;
    app.add_option("--store", ctx.store_dir,
                   "store: a directory, or a PostgreSQL connection string (postgres://...) "
                   "(default: $RETRACE_STORE, else the nearest .retrace/)");

    add_record_command(app, ctx);
    add_runs_commands(app, ctx);
    add_show_commands(app, ctx);
    add_verify_command(app, ctx);
    add_pack_commands(app, ctx);
    add_push_commands(app, ctx);
    add_attest_commands(app, ctx);
    add_export_commands(app, ctx);
    add_which_command(app, ctx);
    add_replay_command(app, ctx);
    add_proxy_command(app, ctx);
    add_diff_command(app, ctx);
    add_repro_command(app, ctx);
    add_doctor_command(app, ctx);
    add_probe_command(app, ctx);
    add_probes_command(app, ctx);
    add_serve_command(app, ctx);
    add_sim_command(app, ctx);

    // Everything after the first "--" is the command to run; CLI11 never sees it.
    int own = argc;
    for (int i = 1; i < argc; ++i)
        if (std::string_view(argv[i]) == "--") {
            own = i;
            ctx.trailing.assign(argv + i + 1, argv + argc);
            break;
        }
    try {
        app.parse(own, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::cerr << "retrace: " << e.what() << " (see retrace --help)\n";
        return 2;
    } catch (const Exit& e) {
        if (!e.message.empty()) std::cerr << "retrace: " << e.message << "\n";
        return e.code;
    } catch (const std::exception& e) {
        std::cerr << "retrace: internal error: " << e.what() << "\n";
        return 2;
    }
    return 0;
}

}  // namespace retrace::cli
