// The program's one clock: what every reader of the time sees, and how a
// test substitutes its own.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>

#include "retrace/core/clock.hpp"
#include "retrace/core/identity.hpp"
#include "retrace/core/run_id.hpp"
#include "retrace/run/run_setup.hpp"

namespace retrace::core {
namespace {

class FixedClock final : public Clock {
  public:
    explicit FixedClock(long long ns) : m_ns(ns) {}
    long long unix_now_ns() const override { return m_ns; }

  private:
    long long m_ns;
};

long long system_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

TEST(Clock, TheProgramClockIsTheSystemClockByDefault) {
    long long before = system_ns();
    long long now = unix_now_ns();
    long long after = system_ns();
    EXPECT_LE(before, now);
    EXPECT_LE(now, after);
    EXPECT_EQ(&program_clock(), &system_clock());
}

TEST(Clock, ASubstitutedClockIsWhatEveryReaderSees) {
    const long long t = 1'767'225'600'123'000'000;  // 2026-01-01T00:00:00.123Z
    FixedClock fixed(t);
    {
        ScopedClock scope(fixed);
        EXPECT_EQ(unix_now_ns(), t);
        EXPECT_EQ(RunId::generate().unix_ms(), static_cast<std::uint64_t>(t / 1000000));
        auto run = run::new_run(Json::object(), std::nullopt, std::nullopt);
        ASSERT_TRUE(run.is_ok()) << run.status().message();
        EXPECT_EQ(run->row.started_ns, t);
        EXPECT_EQ(run->metadata["started_at"], "2026-01-01T00:00:00.123Z");
        FixedClock later(t + 5);
        {
            ScopedClock inner(later);  // the innermost wins
            EXPECT_EQ(unix_now_ns(), t + 5);
        }
        EXPECT_EQ(unix_now_ns(), t);
    }
    // and the system clock is back
    EXPECT_EQ(&program_clock(), &system_clock());
    EXPECT_GT(unix_now_ns(), t);
}

TEST(Clock, ARunIsSealedWithItsEndAndDurationOnTheProgramClock) {
    const long long t = 1'767'225'600'000'000'000;
    FixedClock start(t);
    std::optional<run::NewRun> fresh;
    {
        ScopedClock scope(start);
        auto made = run::new_run(Json::object(), std::string("r"), std::nullopt);
        ASSERT_TRUE(made.is_ok()) << made.status().message();
        fresh = std::move(made).value();
    }
    Json sealed = run::sealed_metadata(*fresh, t + 2'500'000'000);
    EXPECT_EQ(sealed["ended_ns"], ns_text(t + 2'500'000'000));
    EXPECT_EQ(sealed["duration_ms"], 2500);
    EXPECT_EQ(sealed["name"], "r");  // what the run started with is kept
    EXPECT_EQ(sealed["started_ns"], fresh->metadata["started_ns"]);
}

}  // namespace
}  // namespace retrace::core
