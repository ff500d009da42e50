// State shared by all subcommands: global options and the lazily opened store.
#pragma once

#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "retrace/core/result.hpp"
#include "retrace/store/store.hpp"

namespace retrace::cli {

// Thrown by commands to end with a one-line error and an exit code; caught in run().
struct Exit {
    int code;
    std::string message;
};

class Context {
  public:
    std::optional<std::string> store_dir;
    bool json = false;
    char** envp = nullptr;
    // Everything after the first "--" on the command line (the command to run).
    std::vector<std::string> trailing;

    // Opens the store, or ends the command (exit 2) with a one-line error.
    // Commands that read never create a store.
    store::Store& store(bool create = false);
    // Where the store is (--store, $RETRACE_STORE, the nearest .retrace/),
    // for commands that open it themselves when their input is checked.
    store::StoreOpener& opener();

  private:
    std::optional<store::StoreOpener> m_opener;
};

// Converts a failed Status into Exit (code 2 unless given).
[[noreturn]] void fail(const Status& status, int code = 2);
template <typename T>
T check(Result<T> r, int code = 2) {
    if (!r) fail(r.status(), code);
    return std::move(r).value();
}
inline void check(const Status& s, int code = 2) {
    if (!s.is_ok()) fail(s, code);
}
// For record and replay, which run a child: bad input exits 2, retrace's own
// failure before the child starts 125.
[[noreturn]] inline void fail_before_child(const Status& s) {
    auto code = s.code();
    bool bad_input = code == ErrorCode::invalid_input || code == ErrorCode::not_found ||
                     code == ErrorCode::corrupt;
    fail(s, bad_input ? 2 : 125);
}

// --read-timeout and --keepalive-timeout, for the commands that run the proxy.
void add_timeout_options(CLI::App& cmd, int& read_seconds, int& keepalive_seconds);

void add_record_command(CLI::App& app, Context& ctx);
void add_runs_commands(CLI::App& app, Context& ctx);  // runs, rm, gc
void add_show_commands(CLI::App& app, Context& ctx);  // show, conditions
void add_verify_command(CLI::App& app, Context& ctx);
void add_pack_commands(CLI::App& app, Context& ctx);    // pack, unpack
void add_push_commands(CLI::App& app, Context& ctx);    // push, pull
void add_attest_commands(CLI::App& app, Context& ctx);  // keygen, attest
void add_export_commands(CLI::App& app, Context& ctx);  // export, import
void add_which_command(CLI::App& app, Context& ctx);
void add_sim_command(CLI::App& app, Context& ctx);
void add_replay_command(CLI::App& app, Context& ctx);
void add_proxy_command(CLI::App& app, Context& ctx);
void add_diff_command(CLI::App& app, Context& ctx);
void add_repro_command(CLI::App& app, Context& ctx);
void add_doctor_command(CLI::App& app, Context& ctx);
void add_probe_command(CLI::App& app, Context& ctx);
void add_probes_command(CLI::App& app, Context& ctx);
void add_serve_command(CLI::App& app, Context& ctx);

}  // namespace retrace::cli
