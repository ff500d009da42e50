// `retrace repro FAILED [--against PASSED]`: from a failed run to a proven
// cause (docs/repro.md).
//
// 1. Validate: the failed run is replayed K times, nothing reaching the
//    network and no real tool called; the oracle judges each replay. Fewer
//    than K failing the same way: not reproduced, and what escaped is named.
// 2. Isolate: with a passing run of the same program, the candidates are
//    the answers the two runs got differently to the same request (tool and
//    retrieval results, clock and random values, model responses, provider
//    faults), their command lines and their recorded environment variables.
//    A test replays the program with a subset of them taken from the
//    failing run and every other from the passing run (replay/blend.hpp);
//    delta debugging (analysis/delta_debug.hpp) finds the smallest subset
//    that fails. Tests run in the failing run's recorded environment.
// 3. Prove: the passing run with only the cause applied fails K of K, and
//    the failing run with only the cause reverted passes K of K.
// Every replay is a run in the store, named NAME.repro and marked with the
// params retrace_repro (the failed run's id) and retrace_repro_step.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "retrace/analysis/delta_debug.hpp"
#include "retrace/core/canonical_json.hpp"
#include "retrace/core/matching.hpp"
#include "retrace/replay/blend.hpp"
#include "retrace/store/store.hpp"

namespace retrace::run {

struct ReproOptions {
    std::string failed;                  // a run reference
    std::optional<std::string> against;  // the passing run; unset: found
    // A shell command judging each replay (run/oracle.hpp); empty: a replay
    // fails when it exits with the failed run's exit code.
    std::string oracle;
    int k = 10;
    // --command: the program to drive, a shell command line, instead of the
    // recorded one (a gateway's runs have none: the service's code is not
    // the gateway's command). The runs' command lines are then not compared.
    std::string command;
    std::function<void(const std::string&)> progress;  // one line at a time, for stderr

    // Checking a bundle (repro_bundle.hpp): the cause is known, named by
    // its differences' labels, so isolation is skipped and only the proof
    // is run; the runs came from the bundle's pack; the program's files are
    // elsewhere than where they were recorded: a path under path_from in
    // the command lines, the recorded variables and the oracle is moved
    // under path_to.
    std::optional<std::vector<std::string>> cause;
    bool imported = false;
    std::string path_from, path_to;
};

// One difference between the failing and the passing run that a test can
// apply or not: an answer the two runs got differently to the same request,
// their command lines, a recorded environment variable, or a param.
struct Difference {
    enum class What { answer, argv, env, param } what = What::answer;
    replay::Slot slot;                           // answer: the request
    long long failing_seq = 0, passing_seq = 0;  // answer: the events
    std::string kind, name;                      // "tool" "lookup_account"; "argv"; "env" "TZ"
    std::vector<core::JsonDifference> changes;   // from the passing run's to the failing's
    // argv: each run's command line; env, param: each run's value (unset: absent).
    std::vector<std::string> failing_argv, passing_argv;
    std::optional<std::string> failing_value, passing_value;

    core::Json to_json() const;
    std::string label() const;  // "#5 tool lookup_account", "argv", "env TZ", "param REGION"
};

struct ReproOutcome {
    std::string failed_id;
    std::string oracle;  // as judged: the command, or "exit code N"
    int k = 0;
    int reproduced = 0;                // validating replays that failed as recorded
    std::vector<std::string> escaped;  // when fewer than K: what differed, doctor's findings
    std::optional<std::string> passed_id;
    std::string passed_how;  // "given", or how it was found
    std::vector<Difference> differences;
    std::optional<analysis::Isolation> isolation;
    std::vector<std::size_t> cause;       // indices into differences
    int proof_applied_fails = 0;          // the passing run with the cause applied: failures of K
    int proof_reverted_passes = 0;        // the failing run with it reverted: passes of K
    std::string not_isolated;             // why isolation stopped short, when it did
    std::vector<std::string> runs;        // every replay's run id, in order
    std::vector<std::string> proof_runs;  // those of the proof

    bool validated() const { return reproduced == k; }
    bool proven() const {
        return !cause.empty() && proof_applied_fails == k && proof_reverted_passes == k;
    }
    // 0: reproduced and, with a passing run, the cause isolated and proven;
    // 1: not reproduced; 3: reproduced, the cause not isolated or not proven.
    int exit_code() const;
    core::Json to_json() const;
};

Result<ReproOutcome> repro(const ReproOptions& options, store::StoreOpener& opener, char** envp);

}  // namespace retrace::run
