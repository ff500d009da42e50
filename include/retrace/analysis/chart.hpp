// `probe --svg`: failure rates with their intervals, one row per variant
// or conditions group, as a small self-contained SVG.
#pragma once

#include <string>
#include <vector>

namespace retrace::analysis {

struct ChartRow {
    std::string label;
    double rate = 0, lo = 0, hi = 1;  // failure rate and its 95% interval
    std::size_t runs = 0, failed = 0;
};

std::string interval_chart_svg(const std::string& title, const std::vector<ChartRow>& rows);

}  // namespace retrace::analysis
