// `retrace probe`: a pre-registered variance probe. The hypothesis, K, the
// decision rule, the oracle, the command and the static conditions are
// sealed into the store (a run of their own, verifiable) before the first
// run; then K runs are recorded (in parallel with --jobs), each judged by
// the oracle, and the outcome is a number with an interval, a decision and
// a verdict. See docs/probe.md.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "retrace/core/canonical_json.hpp"
#include "retrace/run/record.hpp"

namespace retrace::probe {

struct ProbeOptions {
    run::RecordOptions record;  // command, store, upstreams, inputs, params, --deterministic ...
    std::string name = "probe";
    int k = 20;
    int jobs = 1;
    std::string hypothesis;
    std::string rule;    // empty: no decision
    std::string oracle;  // shell command; empty: the run's exit code
    std::optional<std::pair<double, double>> sequential;  // p0, p1 of the failure rate
    std::string vary_file;  // JSON Lines: K runs per variant (RETRACE_VARIANT, {field} in ARGS)
    std::optional<long long> budget_tokens;  // stop starting runs once spent
    std::string prices_file;  // {"MODEL": {"input": USD per 1M tokens, "output": ...}}
};

struct ProbeRun {
    int index = 0;     // 1-based, in order of start
    int variant = -1;  // index into the variants, -1 without --vary
    std::string run_id;
    std::string conditions_digest;  // as grouped: declared digest and fingerprints seen
    int exit_code = 0;
    bool passed = false;
    long long input_tokens = 0, output_tokens = 0;
    std::map<std::string, std::pair<long long, long long>> tokens_by_model;  // in, out
};

struct ProbeOutcome {
    std::string probe_id, probe_record_digest;  // the registration
    std::string result_id;                      // the sealed result
    core::Json report;                          // everything, as `probe --json` prints it
    std::string decision;                       // accept, reject, inconclusive, or "" (no rule)
};

struct ProbeHooks {
    // After the registration is sealed, before the first run starts.
    std::function<void(const std::string& id, const std::string& record_digest)> registered;
    // After each run: runs done of total, failures and tokens so far.
    std::function<void(int done, int total, int failed, long long tokens)> progress;
};

// The probe's records and its runs go into the opener's store (each worker
// through a connection of its own).
Result<ProbeOutcome> probe(const ProbeOptions& options, store::StoreOpener& store, char** envp,
                           const ProbeHooks& hooks);

}  // namespace retrace::probe
