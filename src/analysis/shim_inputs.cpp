#include "retrace/analysis/shim_inputs.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "retrace/trace/shim_stream.hpp"

namespace retrace::analysis {

namespace {

using core::Json;

// A run's streams by name (the same process of another run has the same
// name: its command line's hash and occurrence), read back from the store.
std::map<std::string, trace::ShimValues> streams_of(store::Store& store, const Json& attribute) {
    std::map<std::string, trace::ShimValues> out;
    if (!attribute.is_array()) return out;
    for (const auto& s : attribute) {
        if (!s.is_object()) continue;
        auto blob = store.get_blob(s.value("blob", std::string()));
        if (!blob || !*blob) continue;
        out.emplace(s.value("stream", std::string()), trace::read_shim_stream(**blob));
    }
    return out;
}

std::string seconds(long long ns) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f s", static_cast<double>(ns) / 1e9);
    return buf;
}

std::string process_name(const std::string& command) {
    constexpr std::size_t k_shown = 60;
    std::string c = command.empty() ? "?" : command;
    if (c.size() > k_shown) c = c.substr(0, k_shown) + "...";
    return "`" + c + "`";
}

std::string times(std::size_t n) {
    return std::to_string(n) + (n == 1 ? " time" : " times");
}

}  // namespace

std::optional<std::string> shim_inputs_differ(store::Store& store, const Json& a, const Json& b) {
    auto sa = streams_of(store, a), sb = streams_of(store, b);
    if (sa.empty() || sb.empty()) return std::nullopt;
    // The clock: the interval between two readings that differs most.
    struct Gap {
        long long delta = 0;
        std::string text;
    } gap;
    std::optional<std::string> draw;
    for (const auto& [name, va] : sa) {
        auto it = sb.find(name);
        if (it == sb.end()) continue;
        const auto& vb = it->second;
        std::size_t common = std::min(va.clock.size(), vb.clock.size());
        for (std::size_t i = 1; i < common; ++i) {
            long long ia = va.clock[i] - va.clock[i - 1], ib = vb.clock[i] - vb.clock[i - 1];
            long long delta = std::llabs(ia - ib);
            long long lo = std::max(0LL, std::min(ia, ib)), hi = std::max(ia, ib);
            if (delta < k_clock_gap_ns || static_cast<double>(hi) < k_clock_gap_ratio * lo ||
                delta <= gap.delta)
                continue;
            gap.delta = delta;
            gap.text = "the wall clock the program read: process " + process_name(va.command) +
                       " read it " + times(va.clock.size()) + " in a and " +
                       std::to_string(vb.clock.size()) + " in b; between its readings #" +
                       std::to_string(i) + " and #" + std::to_string(i + 1) + ", " + seconds(ia) +
                       " passed in a and " + seconds(ib) + " in b";
        }
        if (draw) continue;
        std::size_t shared = std::min(va.draws.size(), vb.draws.size());
        for (std::size_t i = 0; i < shared; ++i) {
            if (va.draws[i] == vb.draws[i]) continue;
            draw = "the OS randomness the program drew: process " + process_name(va.command) +
                   " drew " + times(va.draws.size()) + " in a and " +
                   std::to_string(vb.draws.size()) + " in b, and its draw #" +
                   std::to_string(i + 1) + " (" + std::to_string(va.draws[i].size()) +
                   " bytes) differed";
            break;
        }
    }
    if (!gap.text.empty()) return gap.text;
    return draw;
}

}  // namespace retrace::analysis
