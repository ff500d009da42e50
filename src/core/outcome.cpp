#include "retrace/core/outcome.hpp"

namespace retrace::core {

namespace {

// The keys, in one place (docs/identity.md).
constexpr const char* k_exit_code = "exit_code";
constexpr const char* k_signal = "signal";
constexpr const char* k_stdout = "stdout";
constexpr const char* k_stderr = "stderr";
constexpr const char* k_outputs = "outputs";
constexpr const char* k_missing_outputs = "missing_outputs";
constexpr const char* k_exchanges = "exchanges";

std::optional<long long> integer(const Json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer()) return std::nullopt;
    return it->get<long long>();
}

std::optional<std::string> text(const Json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
}

}  // namespace

Json RunOutcome::to_json() const {
    Json j = Json::object();
    if (exit_code) j[k_exit_code] = *exit_code;
    if (signal) j[k_signal] = *signal;
    if (stdout_digest) j[k_stdout] = *stdout_digest;
    if (stderr_digest) j[k_stderr] = *stderr_digest;
    if (outputs) j[k_outputs] = *outputs;
    if (!missing_outputs.empty()) j[k_missing_outputs] = missing_outputs;
    if (exchanges) j[k_exchanges] = *exchanges;
    return j;
}

RunOutcome RunOutcome::from_json(const Json& j) {
    RunOutcome o;
    if (!j.is_object()) return o;
    o.exit_code = integer(j, k_exit_code);
    if (auto s = integer(j, k_signal)) o.signal = static_cast<int>(*s);
    o.stdout_digest = text(j, k_stdout);
    o.stderr_digest = text(j, k_stderr);
    if (auto it = j.find(k_outputs); it != j.end() && it->is_object()) {
        o.outputs.emplace();
        for (const auto& [path, digest] : it->items())
            if (digest.is_string()) (*o.outputs)[path] = digest.get<std::string>();
    }
    if (auto it = j.find(k_missing_outputs); it != j.end() && it->is_array())
        for (const auto& p : *it)
            if (p.is_string()) o.missing_outputs.push_back(p.get<std::string>());
    o.exchanges = integer(j, k_exchanges);
    return o;
}

}  // namespace retrace::core
