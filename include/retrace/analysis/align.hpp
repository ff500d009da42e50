// Aligning two trajectories' step keys (`diff`): which steps of one run
// correspond to which of the other, tolerating inserted and missing steps.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace retrace::analysis {

// Aligns two key sequences: pairs (i, j) of equal keys, a longest common
// subsequence after trimming the common prefix and suffix (exact up to a
// middle of 4 million cells, else the middle is left unaligned).
std::vector<std::pair<std::size_t, std::size_t>> align(const std::vector<std::string>& a,
                                                       const std::vector<std::string>& b);

}  // namespace retrace::analysis
