#include "retrace/analysis/stats.hpp"

#include <gtest/gtest.h>

#include <random>

namespace retrace::analysis {
namespace {

TEST(Wilson, KnownValues) {
    // 10 of 40: p = 0.25, [0.14187, 0.40194] (computed independently).
    Interval i = wilson_interval(10, 40);
    EXPECT_NEAR(i.lo, 0.1418712, 1e-6);
    EXPECT_NEAR(i.hi, 0.4019396, 1e-6);
    // No successes: the interval still has width (not [0, 0]).
    EXPECT_NEAR(wilson_interval(0, 40).lo, 0.0, 1e-12);
    EXPECT_NEAR(wilson_interval(0, 40).hi, 0.0876216, 1e-6);
    EXPECT_NEAR(wilson_interval(40, 40).lo, 0.9123784, 1e-6);
    EXPECT_LE(wilson_interval(40, 40).hi, 1.0);
    EXPECT_NEAR(wilson_interval(1, 1).lo, 0.2065493, 1e-6);
    EXPECT_EQ(wilson_interval(0, 0).hi, 1.0);
}

TEST(Wilson, CoverageIsCloseToNinetyFivePercent) {
    std::mt19937_64 rng(20261201);
    for (double p : {0.1, 0.3, 0.5}) {
        std::binomial_distribution<std::size_t> draw(40, p);
        int covered = 0, trials = 20000;
        for (int t = 0; t < trials; ++t) {
            Interval i = wilson_interval(draw(rng), 40);
            covered += i.lo <= p && p <= i.hi;
        }
        double coverage = static_cast<double>(covered) / trials;
        EXPECT_GT(coverage, 0.93) << "p = " << p;
        EXPECT_LT(coverage, 0.97) << "p = " << p;
    }
}

TEST(PassAtK, MatchesTheCombinatorialFormula) {
    EXPECT_NEAR(pass_at_k(10, 3, 1), 0.3, 1e-12);
    EXPECT_NEAR(pass_at_k(10, 3, 5), 1 - 21.0 / 252.0, 1e-12);  // 1 - C(7,5)/C(10,5)
    EXPECT_EQ(pass_at_k(10, 0, 5), 0.0);
    EXPECT_EQ(pass_at_k(10, 6, 5), 1.0);  // any 5 of 10 include a pass
    EXPECT_NEAR(
        pass_at_k(200, 37, 10),
        1 - std::exp(std::lgamma(164) - std::lgamma(154) - std::lgamma(201) + std::lgamma(191)),
        1e-9);
}

TEST(Sprt, WaldBoundariesAndDecisions) {
    Sprt s{0.05, 0.3};
    EXPECT_NEAR(s.upper(), 2.7725887, 1e-6);   // log(0.8 / 0.05)
    EXPECT_NEAR(s.lower(), -1.5581446, 1e-6);  // log(0.2 / 0.95)
    EXPECT_NEAR(s.llr(1, 0), std::log(0.3 / 0.05), 1e-12);
    EXPECT_NEAR(s.llr(0, 1), std::log(0.7 / 0.95), 1e-12);
    EXPECT_EQ(s.decide(2, 0), "h1");  // 2 * log 6 = 3.58
    EXPECT_EQ(s.decide(1, 0), "");
    EXPECT_EQ(s.decide(0, 6), "h0");  // 6 * log(0.7/0.95) = -1.83
    EXPECT_EQ(s.decide(0, 5), "");
}

TEST(Fisher, KnownTables) {
    EXPECT_NEAR(fisher_exact(3, 1, 1, 3), 0.4857143, 1e-6);  // the tea-tasting table
    EXPECT_NEAR(fisher_exact(10, 0, 0, 10), 1.0825088e-05, 1e-10);
    EXPECT_NEAR(fisher_exact(1, 9, 11, 3), 0.0027595, 1e-6);
    EXPECT_NEAR(fisher_exact(5, 5, 5, 5), 1.0, 1e-9);
}

TEST(Holm, StepDownAdjustment) {
    auto adjusted = holm({0.01, 0.04, 0.03});
    ASSERT_EQ(adjusted.size(), 3u);
    EXPECT_NEAR(adjusted[0], 0.03, 1e-12);
    EXPECT_NEAR(adjusted[1], 0.06, 1e-12);
    EXPECT_NEAR(adjusted[2], 0.06, 1e-12);
    EXPECT_EQ(holm({0.5, 0.9}), (std::vector<double>{1.0, 1.0}));  // monotone, capped at 1
}

TEST(Rule, DecidesOnTheIntervalNotThePointEstimate) {
    auto rule = Rule::parse("fail_rate >= 0.2");
    ASSERT_TRUE(rule) << rule.status().message();
    EXPECT_EQ(rule->decide(30, 40), "inconclusive");  // 10 of 40 fail: [0.14, 0.40]
    EXPECT_EQ(rule->decide(20, 40), "accept");        // 20 of 40: [0.35, 0.65]
    EXPECT_EQ(rule->decide(40, 40), "reject");        // none: [0, 0.088]
    auto both = Rule::parse("pass_rate > 0.5 and (pass@3 >= 0.9 or fail_rate < 0.1)");
    ASSERT_TRUE(both) << both.status().message();
    EXPECT_EQ(both->decide(40, 40), "accept");
    EXPECT_EQ(both->decide(0, 40), "reject");
}

TEST(Rule, BadRulesAreOneLineErrors) {
    for (const char* bad : {"", "fail_rate", "fail_rate >= ", "fail_rate >= 2", "speed > 0.1",
                            "pass@ > 0.5", "(fail_rate > 0.1", "fail_rate > 0.1 and"}) {
        auto r = Rule::parse(bad);
        EXPECT_FALSE(r) << bad;
        if (!r) EXPECT_NE(r.status().message().find("--rule"), std::string::npos);
    }
}

}  // namespace
}  // namespace retrace::analysis
