// What the wall clock and the OS randomness that two runs' processes read
// under --deterministic (the shim's streams, trace/shim_stream.hpp) say
// about why the runs differ, when nothing else recorded does: the
// interval between two clock readings that differed most (a latency
// budget, a timeout, a date the program computed), else the first draw
// of OS randomness that differed (an unseeded shuffle, sample or weight
// initialisation).
#pragma once

#include <optional>
#include <string>

#include "retrace/core/canonical_json.hpp"
#include "retrace/store/store.hpp"

namespace retrace::analysis {

// The intervals that count as a different clock: at least this long a
// difference, and this many times as long in one run as in the other.
constexpr long long k_clock_gap_ns = 200'000'000;
constexpr double k_clock_gap_ratio = 1.5;

// a and b: each run's process event `determinism` attribute ([{stream,
// command, blob, bytes}]), or null when the run was not recorded under
// --deterministic. One line naming the process, the value and how it
// differed; nullopt when a run has no streams or nothing differs.
std::optional<std::string> shim_inputs_differ(store::Store& store, const core::Json& a,
                                              const core::Json& b);

}  // namespace retrace::analysis
