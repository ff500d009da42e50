#include "retrace/sim/generator.hpp"

#include <array>

#include "retrace/core/digest.hpp"
#include "retrace/sim/schema_value.hpp"

namespace retrace::sim {

namespace {

constexpr std::array<std::string_view, 96> k_words = {
    "the",       "model",       "answer",   "is",         "a",           "run",
    "of",        "data",        "that",     "we",         "can",         "replay",
    "when",      "conditions",  "change",   "results",    "differ",      "between",
    "two",       "traces",      "and",      "every",      "tool",        "call",
    "returns",   "value",       "from",     "its",        "input",       "so",
    "output",    "depends",     "on",       "prompt",     "context",     "retrieval",
    "finds",     "documents",   "about",    "this",       "question",    "under",
    "seed",      "temperature", "sampling", "backend",    "fingerprint", "rotates",
    "batch",     "noise",       "makes",    "small",      "differences", "in",
    "tokens",    "which",       "then",     "grow",       "into",        "another",
    "path",      "through",     "agent",    "steps",      "each",        "step",
    "reads",     "state",       "writes",   "checkpoint", "clock",       "random",
    "draw",      "yields",      "stable",   "identity",   "for",         "reproducible",
    "debugging", "instead",     "pressing", "rerun",      "again",       "hoping",
    "it",        "works",       "now",      "because",    "most",        "bugs",
    "are",       "conditional", "not",      "flaky",      "really",      "here"};

constexpr std::array<std::string_view, 4> k_persona_openers = {"Certainly.", "Briefly:", "Well,",
                                                               "In short,"};

std::string word_sentence(Rng& rng, long long count) {
    std::string out;
    for (long long i = 0; i < count; ++i) {
        if (i) out.push_back(' ');
        out += k_words[rng.below(k_words.size())];
    }
    return out;
}

}  // namespace

std::uint64_t Rng::next() {
    std::uint64_t z = (m_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

std::uint64_t seed_of(std::string_view text) {
    auto bytes = core::Digest::of(text).bytes();
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | bytes[static_cast<std::size_t>(i)];
    return v;
}

std::string_view random_word(Rng& rng) {
    return k_words[rng.below(k_words.size())];
}

long long count_tokens(std::string_view text) {
    long long n = 0;
    bool in_word = false;
    for (char c : text) {
        bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
        if (!space && !in_word) ++n;
        in_word = !space;
    }
    return n;
}

Generation generate(const GenerationRequest& req) {
    Rng rng(req.seed);
    Generation g;
    if (!req.calls.empty() && req.tools.is_array() && !req.tools.empty()) {
        for (const auto& name : req.calls) {
            // (a draw for the tool it once picked, kept so that arguments
            // stay what they were for a given seed)
            const Json* tool = &req.tools[rng.below(req.tools.size())];
            for (const auto& t : req.tools)
                if (t.value("name", "") == name) tool = &t;
            Generation::ToolCall tc;
            tc.id = "call_" + core::Digest::of(std::to_string(rng.next())).hex().substr(0, 24);
            tc.name = tool->value("name", "tool");
            Json params = tool->contains("parameters") ? (*tool)["parameters"] : Json::object();
            if (!params.is_object() || params.value("type", "object") != "object")
                params = Json{{"type", "object"}, {"properties", Json::object()}};
            params["type"] = "object";
            tc.arguments = value_for_schema(params, rng).dump();
            g.output_tokens += count_tokens(tc.arguments) + 3;
            g.tool_calls.push_back(std::move(tc));
        }
        return g;
    }
    long long words = 8 + static_cast<long long>(rng.below(25));
    std::string body = word_sentence(rng, words);
    if (!req.persona.empty()) {
        Rng prng(seed_of(req.persona));
        body = std::string(k_persona_openers[prng.below(k_persona_openers.size())]) + " " + body;
    }
    if (!req.prefix.empty()) body = req.prefix + " " + body;
    if (req.schema.is_object() || req.schema.is_boolean()) {
        body = value_for_schema(req.schema, rng).dump();
    } else if (req.json_object) {
        body = Json{{"answer", body}, {"confidence", static_cast<double>(rng.below(100)) / 100.0}}
                   .dump();
    }
    // Truncate to max_tokens words (for JSON output, by characters, which
    // is also what a real model cut off mid-object produces: invalid JSON).
    long long tokens = count_tokens(body);
    if (req.max_tokens > 0 && tokens > req.max_tokens) {
        long long seen = 0;
        bool in_word = false;
        std::size_t cut = body.size();
        for (std::size_t i = 0; i < body.size(); ++i) {
            bool space = body[i] == ' ';
            if (!space && !in_word && ++seen > req.max_tokens) {
                cut = i;
                break;
            }
            in_word = !space;
        }
        while (cut > 0 && body[cut - 1] == ' ') --cut;
        body.resize(cut);
        tokens = req.max_tokens;
        g.truncated = true;
    }
    g.text = std::move(body);
    g.output_tokens = tokens;
    return g;
}

}  // namespace retrace::sim
