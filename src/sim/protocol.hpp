// What the sim's protocol handlers exchange with its HTTP server.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "retrace/sim/generator.hpp"
#include "retrace/sim/sim.hpp"

namespace retrace::sim {

struct HttpRequest {
    std::string method;
    std::string path;                            // without the query
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;

    std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? std::string() : it->second;
    }
};

enum class Fault { none, reset, midstream };

struct Reply {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;  // non-streaming body
    bool stream = false;
    std::vector<std::string> frames;  // SSE frames, each ending in "\n\n"
    Fault fault = Fault::none;
    long long delay_ms = 0;  // before the response starts
    long long frame_interval_ms = 0;
};

// Shared, mutable state of one sim: counters and the seeded random source.
class SimState {
  public:
    SimState(long long sim_seed, Behaviour defaults)
        : m_rng(static_cast<std::uint64_t>(sim_seed)), m_defaults(std::move(defaults)) {}

    // The behaviour for one request: defaults overridden by x-sim-* headers.
    Result<Behaviour> behaviour_for(const HttpRequest& request) const;

    struct Draw {
        long long request_index;  // 1-based count of model requests
        std::string fingerprint;  // backend fingerprint for this request
        std::uint64_t sample;     // entropy for sampling at temperature > 0
        bool noisy;               // batch noise applies (temperature 0)
        std::string fault;        // "", "429", "500", "529", "reset", "midstream"
        long long latency_ms;
    };
    // Advances the counters for one model request, under one lock, so that
    // concurrent requests each get a distinct, reproducible draw.
    Draw draw(const Behaviour& b, bool temperature_zero);

  private:
    mutable std::mutex m_mutex;
    Rng m_rng;
    Behaviour m_defaults;
    long long m_requests = 0;
    long long m_zero_temperature = 0;
    std::size_t m_sequence = 0;
};

// Protocol handlers. Each turns one request into a reply in the provider's
// own shapes, errors included.
Reply handle_openai(const HttpRequest& request, SimState& state);
Reply handle_anthropic(const HttpRequest& request, SimState& state);
// The Responses API, once handle_openai has authenticated and parsed the body.
Reply handle_responses(const HttpRequest& request, SimState& state, const Json& body,
                       const Behaviour& behaviour, const std::string& api_key);

// Models the sim serves (OpenAI and Anthropic ids), listed by /v1/models.
enum class Provider { openai, anthropic };
struct KnownModel {
    const char* id;
    Provider provider;
};
const std::vector<KnownModel>& known_models();
// Whether a request may name this model: a known one, or any (--any-model).
bool is_known_model(const std::string& id, const Behaviour& behaviour);

// Everything that makes two generations equal, as canonical JSON seed text.
std::uint64_t generation_seed(const Json& key);

}  // namespace retrace::sim
