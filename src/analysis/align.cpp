#include "retrace/analysis/align.hpp"

#include <algorithm>

namespace retrace::analysis {

std::vector<std::pair<std::size_t, std::size_t>> align(const std::vector<std::string>& a,
                                                       const std::vector<std::string>& b) {
    std::vector<std::pair<std::size_t, std::size_t>> out;
    std::size_t prefix = 0;
    while (prefix < a.size() && prefix < b.size() && a[prefix] == b[prefix]) {
        out.emplace_back(prefix, prefix);
        ++prefix;
    }
    std::size_t suffix = 0;
    while (suffix < a.size() - prefix && suffix < b.size() - prefix &&
           a[a.size() - 1 - suffix] == b[b.size() - 1 - suffix])
        ++suffix;
    std::size_t n = a.size() - prefix - suffix, m = b.size() - prefix - suffix;
    if (n > 0 && m > 0 && n * m <= 4'000'000) {
        // Longest common subsequence of the middle.
        std::vector<std::vector<unsigned>> L(n + 1, std::vector<unsigned>(m + 1, 0));
        for (std::size_t i = n; i-- > 0;)
            for (std::size_t j = m; j-- > 0;)
                L[i][j] = a[prefix + i] == b[prefix + j] ? L[i + 1][j + 1] + 1
                                                         : std::max(L[i + 1][j], L[i][j + 1]);
        std::size_t i = 0, j = 0;
        while (i < n && j < m) {
            if (a[prefix + i] == b[prefix + j]) {
                out.emplace_back(prefix + i, prefix + j);
                ++i;
                ++j;
            } else if (L[i + 1][j] >= L[i][j + 1]) {
                ++i;
            } else {
                ++j;
            }
        }
    }
    for (std::size_t k = suffix; k > 0; --k) out.emplace_back(a.size() - k, b.size() - k);
    return out;
}

}  // namespace retrace::analysis
