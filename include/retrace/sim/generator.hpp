// Deterministic text and tool-call generation for the simulated provider.
//
// Output is a pure function of the generation key: the same (model,
// messages, tools, seed, temperature, backend fingerprint, persona) always
// gives the same words. Nondeterminism is injected by the caller by mixing
// extra entropy into the key, as a real provider's sampling would.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "retrace/core/canonical_json.hpp"

namespace retrace::sim {

using core::Json;

// splitmix64: small, fast, and good enough for choosing words.
class Rng {
  public:
    explicit Rng(std::uint64_t seed) : m_state(seed) {}
    std::uint64_t next();
    // Uniform in [0, n).
    std::uint64_t below(std::uint64_t n) { return n ? next() % n : 0; }
    double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  private:
    std::uint64_t m_state;
};

// A 64-bit seed from arbitrary text (the first 8 bytes of its SHA-256).
std::uint64_t seed_of(std::string_view text);

struct Generation {
    std::string text;  // empty when the answer is tool calls
    struct ToolCall {
        std::string id;
        std::string name;
        std::string arguments;  // JSON text
    };
    std::vector<ToolCall> tool_calls;
    long long output_tokens = 0;
    bool truncated = false;  // stopped at max_tokens
};

struct GenerationRequest {
    std::uint64_t seed = 0;      // derived from everything that determines the output
    long long max_tokens = 0;    // 0: no limit
    Json tools = Json::array();  // normalized: [{"name", "parameters"}]
    // The tools to call, in order (plan_tool_calls): the answer is these
    // calls, with arguments following each tool's schema; empty: text.
    std::vector<std::string> calls;
    bool json_object = false;  // response_format json_object
    // A JSON Schema the text must validate against (structured outputs), or null.
    Json schema;
    std::string persona;  // style layer (per account), may be empty
    std::string prefix;   // text to start the answer with (e.g. server time)
};

Generation generate(const GenerationRequest& request);

// A word of the sim's vocabulary, drawn from rng.
std::string_view random_word(Rng& rng);

// Counts tokens the way the sim does everywhere: whitespace-separated words.
long long count_tokens(std::string_view text);

}  // namespace retrace::sim
