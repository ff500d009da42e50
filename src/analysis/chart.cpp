#include "retrace/analysis/chart.hpp"

#include <cstdio>
#include <sstream>

namespace retrace::analysis {

namespace {

std::string escape(const std::string& text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '&':
                out += "&amp;";
                break;
            case '"':
                out += "&quot;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string num(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return buf;
}

}  // namespace

std::string interval_chart_svg(const std::string& title, const std::vector<ChartRow>& rows) {
    const double left = 260, width = 420, top = 50, row_h = 28;
    const double height = top + row_h * static_cast<double>(rows.size()) + 40;
    auto x = [&](double rate) { return left + rate * width; };
    std::ostringstream s;
    s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << num(left + width + 40)
      << "\" height=\"" << num(height) << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
      << "<text x=\"10\" y=\"20\" font-size=\"14\">" << escape(title) << "</text>\n";
    // The axis: failure rate 0 to 1, a grid line every 0.25.
    double bottom = top + row_h * static_cast<double>(rows.size());
    for (int i = 0; i <= 4; ++i) {
        double r = i / 4.0;
        s << "<line x1=\"" << num(x(r)) << "\" y1=\"" << num(top - 10) << "\" x2=\"" << num(x(r))
          << "\" y2=\"" << num(bottom) << "\" stroke=\"#ddd\"/>\n"
          << "<text x=\"" << num(x(r)) << "\" y=\"" << num(bottom + 16)
          << "\" text-anchor=\"middle\">" << r << "</text>\n";
    }
    s << "<text x=\"" << num(x(0.5)) << "\" y=\"" << num(bottom + 32)
      << "\" text-anchor=\"middle\">failure rate, 95% Wilson interval</text>\n";
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const ChartRow& row = rows[i];
        double y = top + row_h * static_cast<double>(i) + row_h / 2;
        std::string label = row.label.size() > 38 ? row.label.substr(0, 37) + "..." : row.label;
        s << "<text x=\"10\" y=\"" << num(y + 4) << "\">" << escape(label) << " (" << row.failed
          << "/" << row.runs << ")</text>\n"
          << "<line x1=\"" << num(x(row.lo)) << "\" y1=\"" << num(y) << "\" x2=\"" << num(x(row.hi))
          << "\" y2=\"" << num(y) << "\" stroke=\"#36c\" stroke-width=\"3\"/>\n"
          << "<circle cx=\"" << num(x(row.rate)) << "\" cy=\"" << num(y)
          << "\" r=\"5\" fill=\"#c33\"/>\n";
    }
    s << "</svg>\n";
    return s.str();
}

}  // namespace retrace::analysis
