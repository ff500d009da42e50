// Delta debugging: the smallest set of differences between a passing and a
// failing run that makes the program fail (Zeller and Hildebrandt,
// "Simplifying and Isolating Failure-Inducing Input", 2002: ddmin, with the
// outcomes pass, fail and unresolved).
//
// The differences are numbered 0..n-1. A test applies a subset of them to
// the passing run (the failing run's values for those, the passing run's
// for the rest) and says how the program did. The set of all n fails (the
// failing run) and the empty set passes (the passing run); the caller has
// checked both. The result is 1-minimal: it fails, and taking away any one
// of its differences does not. A test that cannot be judged (the program
// asked for something neither run holds) is unresolved, which ddmin treats
// as "does not fail". Each distinct subset is tested once.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

namespace retrace::analysis {

enum class TestOutcome { pass, fail, unresolved };

struct Isolation {
    std::vector<std::size_t> cause;  // sorted; 1-minimal
    std::size_t tests = 0;           // distinct subsets tested
    std::size_t unresolved = 0;      // of those, how many were unresolved
};

using SubsetTest = std::function<TestOutcome(const std::vector<std::size_t>& subset)>;

Isolation isolate_cause(std::size_t n, const SubsetTest& test);

}  // namespace retrace::analysis
