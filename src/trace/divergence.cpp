#include "retrace/trace/divergence.hpp"

namespace retrace::trace {

using core::Json;

namespace {

// The keys of a difference as stored and reported.
constexpr const char* k_path = "path";
constexpr const char* k_recorded = "recorded";
constexpr const char* k_now = "now";

Json diff_json(const std::vector<core::JsonDifference>& diff) {
    Json out = Json::array();
    for (const auto& f : diff)
        out.push_back({{k_path, f.path}, {k_recorded, f.before}, {k_now, f.after}});
    return out;
}

}  // namespace

Json Divergence::to_attrs() const {
    Json j = {{"reason", reason}, {"diff", diff_json(diff)}};
    if (nearest) j["nearest"] = *nearest;
    return j;
}

Divergence Divergence::from_attrs(const Json& attrs) {
    Divergence d;
    if (!attrs.is_object()) return d;
    if (auto it = attrs.find("reason"); it != attrs.end() && it->is_string()) d.reason = *it;
    if (auto it = attrs.find("nearest"); it != attrs.end() && it->is_number_integer())
        d.nearest = it->get<long long>();
    if (auto it = attrs.find("diff"); it != attrs.end() && it->is_array())
        for (const auto& f : *it)
            if (f.is_object())
                d.diff.push_back(
                    {f.value(k_path, ""), f.value(k_recorded, ""), f.value(k_now, "")});
    return d;
}

Json Divergence::to_json() const {
    Json j = {{"request", request}, {"reason", reason}, {"diff", diff_json(diff)}};
    j["nearest"] = nearest ? Json(*nearest) : Json();
    if (!nearest_raw.empty()) j["note"] = nearest_raw;
    return j;
}

std::string Divergence::message() const {
    bool call = of == Of::call;
    std::string m = "retrace replay diverged: " + request + ": " + reason;
    if (nearest)
        m += std::string("; nearest recorded ") + (call ? "call" : "request") + " is #" +
             std::to_string(*nearest);
    for (std::size_t i = 0; i < diff.size() && i < 3; ++i) {
        // (an SDK call's difference is in its input: "input.city", not "$.city")
        std::string path = call ? "input" + diff[i].path.substr(1) : diff[i].path;
        m += "; " + path + ": " + diff[i].before + " -> " + diff[i].after;
    }
    if (!call && !nearest_raw.empty()) m += "; " + nearest_raw;
    return m;
}

std::vector<std::string> Divergence::report_lines() const {
    std::vector<std::string> lines;
    std::string first = request + ": " + reason;
    if (nearest) first += " (nearest recorded: #" + std::to_string(*nearest) + ")";
    lines.push_back(std::move(first));
    for (const auto& x : diff) lines.push_back("  " + x.path + ": " + x.before + " -> " + x.after);
    if (!nearest_raw.empty()) lines.push_back("  " + nearest_raw);
    return lines;
}

}  // namespace retrace::trace
