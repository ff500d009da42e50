#include <chrono>

#include "protocol.hpp"
#include "retrace/core/digest.hpp"

namespace retrace::sim {

namespace {

Result<double> parse_double(const std::string& name, const std::string& v) {
    try {
        std::size_t used = 0;
        double d = std::stod(v, &used);
        if (used == v.size() && d >= 0) return d;
    } catch (const std::exception&) {
    }
    return error(ErrorCode::invalid_input, "x-sim-" + name + ": not a number: '" + v + "'");
}

Result<long long> parse_int(const std::string& name, const std::string& v) {
    try {
        std::size_t used = 0;
        long long n = std::stoll(v, &used);
        if (used == v.size() && n >= 0) return n;
    } catch (const std::exception&) {
    }
    return error(ErrorCode::invalid_input, "x-sim-" + name + ": not a count: '" + v + "'");
}

bool truthy(const std::string& v) {
    return v == "1" || v == "true" || v == "yes" || v == "on";
}

}  // namespace

Result<std::vector<std::string>> parse_fail_list(const std::string& text, bool allow_ok) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find(',', start);
        if (end == std::string::npos) end = text.size();
        std::string item = text.substr(start, end - start);
        if (!(item == "429" || item == "500" || item == "529" || item == "reset" ||
              item == "midstream" || (allow_ok && item == "ok")))
            return error(ErrorCode::invalid_input, "unknown failure kind '" + item +
                                                       "' (want 429, 500, 529, reset, midstream" +
                                                       (allow_ok ? ", ok" : "") + ")");
        out.push_back(item);
        start = end + 1;
    }
    return out;
}

Result<Behaviour> SimState::behaviour_for(const HttpRequest& r) const {
    Behaviour b = m_defaults;
    for (const auto& [name, value] : r.headers) {
        if (name.rfind("x-sim-", 0) != 0) continue;
        std::string key = name.substr(6);
        if (key == "ignore-seed")
            b.ignore_seed = truthy(value);
        else if (key == "persona-by-key")
            b.persona_by_key = truthy(value);
        else if (key == "stateful-clock")
            b.stateful_clock = truthy(value);
        else if (key == "any-model")
            b.any_model = truthy(value);
        else if (key == "rotate-fingerprint") {
            RETRACE_ASSIGN(b.rotate_fingerprint, parse_int(key, value));
        } else if (key == "batch-noise") {
            RETRACE_ASSIGN(b.batch_noise, parse_double(key, value));
        } else if (key == "batch-noise-every") {
            RETRACE_ASSIGN(b.batch_noise_every, parse_int(key, value));
        } else if (key == "latency") {
            RETRACE_ASSIGN(b.latency_ms, parse_int(key, value));
        } else if (key == "stream-interval") {
            RETRACE_ASSIGN(b.stream_interval_ms, parse_int(key, value));
        } else if (key == "fail-rate") {
            RETRACE_ASSIGN(b.fail_rate, parse_double(key, value));
        } else if (key == "fail-kinds") {
            RETRACE_ASSIGN(b.fail_kinds, parse_fail_list(value, false));
        } else if (key == "fail-sequence") {
            RETRACE_ASSIGN(b.fail_sequence, parse_fail_list(value, true));
        } else
            return error(ErrorCode::invalid_input, "unknown header " + name);
    }
    return b;
}

SimState::Draw SimState::draw(const Behaviour& b, bool temperature_zero) {
    std::lock_guard lock(m_mutex);
    Draw d{};
    d.request_index = ++m_requests;
    long long epoch = b.rotate_fingerprint > 0 ? (d.request_index - 1) / b.rotate_fingerprint : 0;
    d.fingerprint =
        "fp_" + core::Digest::of("backend " + std::to_string(epoch)).hex().substr(0, 10);
    d.sample = m_rng.next();
    if (temperature_zero) {
        ++m_zero_temperature;
        if (b.batch_noise_every > 0)
            d.noisy = m_zero_temperature % b.batch_noise_every == 0;
        else
            d.noisy = b.batch_noise > 0 && m_rng.unit() < b.batch_noise;
    }
    if (!b.fail_sequence.empty()) {
        const std::string& f = b.fail_sequence[m_sequence % b.fail_sequence.size()];
        ++m_sequence;
        d.fault = f == "ok" ? "" : f;
    } else if (b.fail_rate > 0 && m_rng.unit() < b.fail_rate && !b.fail_kinds.empty()) {
        d.fault = b.fail_kinds[m_rng.below(b.fail_kinds.size())];
    }
    d.latency_ms = b.latency_ms + (b.latency_jitter_ms > 0
                                       ? static_cast<long long>(m_rng.below(
                                             static_cast<std::uint64_t>(b.latency_jitter_ms) + 1))
                                       : 0);
    return d;
}

const std::vector<KnownModel>& known_models() {
    // Both providers' current ids, dated snapshots and `-latest` / `-0`
    // aliases, as their clients send them; a name not here gets the
    // provider's 404 unless the sim runs with --any-model.
    static const std::vector<KnownModel> models = {
        {"gpt-4o", Provider::openai},
        {"gpt-4o-2024-05-13", Provider::openai},
        {"gpt-4o-2024-08-06", Provider::openai},
        {"gpt-4o-2024-11-20", Provider::openai},
        {"gpt-4o-mini", Provider::openai},
        {"gpt-4o-mini-2024-07-18", Provider::openai},
        {"chatgpt-4o-latest", Provider::openai},
        {"gpt-4-turbo", Provider::openai},
        {"gpt-4", Provider::openai},
        {"gpt-3.5-turbo", Provider::openai},
        {"gpt-4.1", Provider::openai},
        {"gpt-4.1-2025-04-14", Provider::openai},
        {"gpt-4.1-mini", Provider::openai},
        {"gpt-4.1-nano", Provider::openai},
        {"gpt-5", Provider::openai},
        {"gpt-5-mini", Provider::openai},
        {"gpt-5-nano", Provider::openai},
        {"o1", Provider::openai},
        {"o1-mini", Provider::openai},
        {"o3", Provider::openai},
        {"o3-mini", Provider::openai},
        {"o4-mini", Provider::openai},
        {"sim-1", Provider::openai},
        {"text-embedding-3-small", Provider::openai},
        {"text-embedding-3-large", Provider::openai},
        {"text-embedding-ada-002", Provider::openai},
        {"claude-3-haiku-20240307", Provider::anthropic},
        {"claude-3-opus-20240229", Provider::anthropic},
        {"claude-3-opus-latest", Provider::anthropic},
        {"claude-3-5-haiku-20241022", Provider::anthropic},
        {"claude-3-5-haiku-latest", Provider::anthropic},
        {"claude-3-5-sonnet-20240620", Provider::anthropic},
        {"claude-3-5-sonnet-20241022", Provider::anthropic},
        {"claude-3-5-sonnet-latest", Provider::anthropic},
        {"claude-3-7-sonnet-20250219", Provider::anthropic},
        {"claude-3-7-sonnet-latest", Provider::anthropic},
        {"claude-sonnet-4-20250514", Provider::anthropic},
        {"claude-sonnet-4-0", Provider::anthropic},
        {"claude-opus-4-20250514", Provider::anthropic},
        {"claude-opus-4-0", Provider::anthropic},
        {"claude-opus-4-1-20250805", Provider::anthropic},
        {"claude-opus-4-1", Provider::anthropic},
        {"claude-sonnet-4-5-20250929", Provider::anthropic},
        {"claude-sonnet-4-5", Provider::anthropic},
        {"claude-haiku-4-5-20251001", Provider::anthropic},
        {"claude-haiku-4-5", Provider::anthropic},
        {"claude-sonnet-4-6", Provider::anthropic},
        {"claude-opus-4-7", Provider::anthropic},
        {"claude-sonnet-5", Provider::anthropic},
        {"claude-opus-5", Provider::anthropic},
    };
    return models;
}

bool is_known_model(const std::string& id, const Behaviour& behaviour) {
    if (behaviour.any_model) return !id.empty();
    for (const auto& m : known_models())
        if (m.id == id) return true;
    return false;
}

std::uint64_t generation_seed(const Json& key) {
    auto text = core::canonicalize(key);
    return seed_of(text ? *text : key.dump());
}

}  // namespace retrace::sim
