// `retrace doctor --provider P --k N`: the instrument that tells stochastic
// decoding from backend rotation. It sends identical requests N times — at
// temperature 0, and at a temperature above 0 with a fixed seed (OpenAI
// API only) — under each key, through a recorded run (the requests are
// sent by `retrace _probe-client` under `retrace record`), then reads the
// recorded exchanges: distinct outputs, fingerprints, tokens, and a verdict.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "retrace/core/canonical_json.hpp"
#include "retrace/store/store.hpp"

namespace retrace::probe {

struct ProbePlan {
    std::string api;  // "openai" or "anthropic"
    std::string model;
    int k = 5;
    std::size_t keys = 1;  // the keys are passed to the client as RETRACE_PROBE_KEY_<i>
    core::Json to_json() const;
    static Result<ProbePlan> from_json(const core::Json& j);
};

// The header that tells the analysis which key and phase a request was.
inline constexpr const char* k_probe_header = "x-retrace-probe";

// Sends the plan's requests to $OPENAI_BASE_URL or $ANTHROPIC_BASE_URL (the
// recording proxy); failures on stderr. Returns an exit code.
int run_probe_client(const ProbePlan& plan);

struct ProbeCell {  // one key, one phase
    std::size_t key = 0;
    std::string phase;  // "temperature 0" or "seeded"
    int requests = 0, errors = 0;
    std::map<std::string, int> outputs;                           // text -> count
    std::map<std::string, std::set<std::string>> by_fingerprint;  // fingerprint -> texts
    long long input_tokens = 0, output_tokens = 0;
};

struct ProbeReport {
    std::string run_id;
    std::vector<ProbeCell> cells;
    std::string verdict;  // deterministic, seed ignored, rotating backend, batch-level noise,
                          // per-account difference, no answers
    std::string explanation;
    core::Json to_json() const;
};

// Reads the recorded run of a probe.
Result<ProbeReport> analyze_probe(store::Store& store, const std::string& run_id);

}  // namespace retrace::probe
