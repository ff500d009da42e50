// ddmin over a run pair's differences: one cause, two that fail only
// together, unresolved tests, and the number of tests it takes.
#include "retrace/analysis/delta_debug.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

using namespace retrace::analysis;

namespace {

bool has(const std::vector<std::size_t>& s, std::size_t x) {
    return std::binary_search(s.begin(), s.end(), x);
}

}  // namespace

TEST(DeltaDebug, OneCauseAmongManyInLogarithmicTests) {
    for (std::size_t n : {1u, 2u, 10u, 50u, 100u, 1000u})
        for (std::size_t cause : {std::size_t{0}, n / 3, n - 1}) {
            auto r = isolate_cause(n, [&](const std::vector<std::size_t>& s) {
                return has(s, cause) ? TestOutcome::fail : TestOutcome::pass;
            });
            EXPECT_EQ(r.cause, std::vector<std::size_t>{cause}) << n;
            EXPECT_LE(static_cast<double>(r.tests), 2 * std::log2(static_cast<double>(n)) + 4)
                << "n " << n << " cause " << cause;
        }
}

TEST(DeltaDebug, TwoThatFailOnlyTogetherAreBothNamed) {
    std::size_t tests = 0;
    auto r = isolate_cause(20, [&](const std::vector<std::size_t>& s) {
        ++tests;
        return has(s, 3) && has(s, 17) ? TestOutcome::fail : TestOutcome::pass;
    });
    EXPECT_EQ(r.cause, (std::vector<std::size_t>{3, 17}));
    EXPECT_EQ(r.tests, tests) << "each distinct subset tested once";
}

TEST(DeltaDebug, UnresolvedTestsAreCountedAndTheCauseStillFound) {
    // A subset holding 5 without 6 asks for something neither run holds.
    auto r = isolate_cause(16, [](const std::vector<std::size_t>& s) {
        if (has(s, 5) && !has(s, 6)) return TestOutcome::unresolved;
        return has(s, 11) ? TestOutcome::fail : TestOutcome::pass;
    });
    EXPECT_EQ(r.cause, std::vector<std::size_t>{11});
    EXPECT_EQ(r.unresolved, 0u) << "control: on this path no half split 5 from 6";
    auto u = isolate_cause(16, [](const std::vector<std::size_t>& s) {
        if (has(s, 7) && !has(s, 8)) return TestOutcome::unresolved;
        return has(s, 2) ? TestOutcome::fail : TestOutcome::pass;
    });
    EXPECT_EQ(u.cause, std::vector<std::size_t>{2});
    EXPECT_GE(u.unresolved, 1u) << "the half {0..7} splits 7 from 8";
}

TEST(DeltaDebug, NothingToIsolate) {
    auto r = isolate_cause(0, [](const std::vector<std::size_t>&) { return TestOutcome::fail; });
    EXPECT_TRUE(r.cause.empty());
    EXPECT_EQ(r.tests, 0u);
}
