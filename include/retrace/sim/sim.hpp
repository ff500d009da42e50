// `retrace sim`: a built-in OpenAI- and Anthropic-compatible model provider
// for offline use, demos and tests, which misbehaves on purpose in the ways
// real providers do (see docs/sim.md).
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "retrace/core/result.hpp"

namespace retrace::sim {

// Every misbehaviour switch. Each can also be set per request with a header
// x-sim-<name> (e.g. x-sim-ignore-seed: 1), so one sim serves many cases.
struct Behaviour {
    bool ignore_seed = false;
    long long rotate_fingerprint = 0;  // every N model requests, a new backend
    double batch_noise = 0;            // probability a temperature-0 output is perturbed
    long long batch_noise_every = 0;   // perturb exactly every M-th temperature-0 request
    bool persona_by_key = false;       // output style depends on the API key
    long long latency_ms = 0;
    long long latency_jitter_ms = 0;
    long long stream_interval_ms = 0;  // pause between stream frames
    double fail_rate = 0;
    std::vector<std::string> fail_kinds = {"429", "500"};  // 429, 500, 529, reset, midstream
    std::vector<std::string> fail_sequence;  // replaces fail_rate: ok,429,... consumed in order
    bool stateful_clock = false;             // include the server time in outputs
    bool any_model = false;                  // answer to any model name (--any-model)
};

struct SimOptions {
    std::string host = "127.0.0.1";
    int port = 0;  // 0: ephemeral
    std::optional<std::string> tls_cert;
    std::optional<std::string> tls_key;
    long long sim_seed = 0;  // seeds every random choice the sim makes
    Behaviour behaviour;
};

class SimServer {
  public:
    // Binds and starts serving on background threads.
    static Result<std::unique_ptr<SimServer>> start(const SimOptions& options);
    virtual ~SimServer() = default;
    virtual int port() const = 0;
    // Stops accepting and closes connections; returns when all threads ended.
    virtual void stop() = 0;
    // Blocks until stop() is called (from another thread or a signal).
    virtual void wait() = 0;
};

// Parses "429,ok,500" etc. and the fail kinds; invalid_input on unknown kinds.
Result<std::vector<std::string>> parse_fail_list(const std::string& text, bool allow_ok);

}  // namespace retrace::sim
