#include "retrace/analysis/delta_debug.hpp"

#include <algorithm>
#include <map>

namespace retrace::analysis {

namespace {

using Subset = std::vector<std::size_t>;

class Search {
  public:
    Search(const SubsetTest& test, Isolation& out) : m_test(test), m_out(out) {}

    bool fails(const Subset& s) {
        auto it = m_seen.find(s);
        if (it == m_seen.end()) {
            TestOutcome o = m_test(s);
            ++m_out.tests;
            if (o == TestOutcome::unresolved) ++m_out.unresolved;
            it = m_seen.emplace(s, o).first;
        }
        return it->second == TestOutcome::fail;
    }

    // ddmin: c fails; find a 1-minimal failing subset of it, splitting it
    // into n parts.
    Subset ddmin(Subset c, std::size_t n) {
        while (c.size() > 1) {
            auto parts = split(c, n);
            bool reduced = false;
            for (const auto& part : parts)
                if (fails(part)) {  // one part alone fails: go on with it
                    c = part;
                    n = 2;
                    reduced = true;
                    break;
                }
            // The complements (with two parts, they are the parts again).
            for (std::size_t i = 0; !reduced && parts.size() > 2 && i < parts.size(); ++i) {
                Subset rest = complement(c, parts[i]);
                if (fails(rest)) {
                    c = rest;
                    n = std::max<std::size_t>(n - 1, 2);
                    reduced = true;
                }
            }
            if (reduced) continue;
            if (n >= c.size()) break;  // every single one tested: 1-minimal
            n = std::min(c.size(), 2 * n);
        }
        return c;
    }

  private:
    static std::vector<Subset> split(const Subset& c, std::size_t n) {
        std::vector<Subset> parts;
        std::size_t start = 0;
        for (std::size_t i = 0; i < n; ++i) {
            std::size_t end = start + (c.size() - start) / (n - i);
            parts.emplace_back(c.begin() + static_cast<long>(start),
                               c.begin() + static_cast<long>(end));
            start = end;
        }
        return parts;
    }

    static Subset complement(const Subset& c, const Subset& part) {
        Subset out;
        std::set_difference(c.begin(), c.end(), part.begin(), part.end(), std::back_inserter(out));
        return out;
    }

    const SubsetTest& m_test;
    Isolation& m_out;
    std::map<Subset, TestOutcome> m_seen;
};

}  // namespace

Isolation isolate_cause(std::size_t n, const SubsetTest& test) {
    Isolation out;
    Subset all(n);
    for (std::size_t i = 0; i < n; ++i) all[i] = i;
    if (n == 0) return out;
    Search search(test, out);
    out.cause = search.ddmin(all, 2);
    return out;
}

}  // namespace retrace::analysis
