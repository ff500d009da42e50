// Runs the recorded command as a child: its stdout and stderr pass through
// to ours unchanged while being captured; SIGINT/SIGTERM/SIGHUP sent to us
// (by kill, not by the terminal, which signals the child's process group
// itself) are forwarded to every child running; each gets PR_SET_PDEATHSIG
// so it dies with us. Its output is read until it and whatever inherited its
// pipes close them, or for 2 s after it exits (a process left behind keeps
// them open).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "retrace/core/result.hpp"

namespace retrace::run {

struct ChildResult {
    int exit_code = 0;        // the code to exit with: the child's, or 128+N for signal N
    int signal = 0;           // the signal that killed the child, or 0
    std::string stdout_data;  // everything the child wrote
    std::string stderr_data;
    long long start_ns = 0;  // unix time
    long long end_ns = 0;
    // With fixed_layout: why the address-space layout stayed randomized
    // (the personality call was refused, as under a seccomp profile), or
    // empty when it was fixed.
    std::string layout_error;
};

// argv[0] is looked up on PATH. env is the child's complete environment.
// Fails with ErrorCode::not_found (exit 127) when the command does not exist
// and ErrorCode::io (exit 126) when it cannot be executed.
// pass_through false: captured only (runs in parallel, as a probe's: a
// signal is forwarded to every child running). fixed_layout: the child and
// everything it runs get the same address-space layout every time
// (personality ADDR_NO_RANDOMIZE, as setarch -R): runtimes that mix
// addresses into their random generators (V8, OpenSSL's DRBG nonces) then
// draw the same values from the same OS randomness.
Result<ChildResult> run_child(const std::vector<std::string>& argv,
                              const std::vector<std::string>& env, bool pass_through = true,
                              bool fixed_layout = false);

// The first SIGINT, SIGTERM or SIGHUP received while a child ran (sent with
// kill or by the terminal), or 0: a caller that starts one child after
// another stops starting them.
int termination_signal();

}  // namespace retrace::run
