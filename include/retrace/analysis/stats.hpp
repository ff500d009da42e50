// The statistics of a variance probe (`retrace probe`, docs/probe.md):
// intervals, estimators and tests over pass/fail outcomes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "retrace/core/result.hpp"

namespace retrace::analysis {

struct Interval {
    double lo = 0, hi = 1;
};

// The Wilson score interval for successes out of n (95% by default).
Interval wilson_interval(std::size_t successes, std::size_t n, double z = 1.959963984540054);

// The unbiased pass@k estimator (Chen et al. 2021): the probability that at
// least one of k runs drawn from n, of which c passed, passes:
// 1 - C(n-c, k) / C(n, k), computed as a product. Requires k <= n.
double pass_at_k(std::size_t n, std::size_t c, std::size_t k);

// Wald's sequential probability ratio test for a failure rate: H0 p = p0
// against H1 p = p1 (p1 > p0), error rates alpha and beta.
struct Sprt {
    double p0, p1, alpha = 0.05, beta = 0.2;
    double upper() const;  // log((1 - beta) / alpha): accept H1 at or above
    double lower() const;  // log(beta / (1 - alpha)): accept H0 at or below
    // The log-likelihood ratio after this many failures and passes.
    double llr(std::size_t failures, std::size_t passes) const;
    // "h1", "h0", or "" while undecided.
    std::string decide(std::size_t failures, std::size_t passes) const;
};

// Fisher's exact test on the 2x2 table [[a, b], [c, d]], two-sided: the sum
// of the probabilities of every table with the same margins that is no
// more likely than the observed one.
double fisher_exact(std::size_t a, std::size_t b, std::size_t c, std::size_t d);

// Holm's step-down adjustment of p-values, in their original order.
std::vector<double> holm(const std::vector<double>& p);

// A decision rule over a probe's outcome: comparisons of fail_rate,
// pass_rate or pass@K with numbers, joined by `and` / `or` (and binding
// tighter), parenthesized at will. Evaluated on intervals: "accept" when
// the rule holds over the whole interval, "reject" when it fails over the
// whole interval, else "inconclusive".
class Rule {
  public:
    static Result<Rule> parse(std::string_view text);
    const std::string& text() const { return m_text; }
    // passes out of n runs.
    std::string decide(std::size_t passes, std::size_t n) const;

    struct Node {
        enum Kind { compare, all, any } kind = compare;
        std::string metric;  // fail_rate, pass_rate, pass@
        std::size_t k = 1;   // for pass@k
        std::string op;      // >=, >, <=, <
        double value = 0;
        int left = -1, right = -1;  // for all (and) and any (or)
    };

  private:
    std::string decide(int node, std::size_t passes, std::size_t n) const;
    std::string m_text;
    std::vector<Node> m_nodes;
    int m_root = -1;
    friend class RuleParser;
};

}  // namespace retrace::analysis
