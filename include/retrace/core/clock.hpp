// Wall-clock time as retrace records and prints it: Unix nanoseconds, UTC.
//
// Every part of retrace reads the time through one clock, the program's
// (unix_now_ns), so that a test can substitute a clock of its own for all of
// them at once (ScopedClock). Replayed programs are another matter: their
// clock reads are fed back by the determinism shim, not by this.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace retrace::core {

class Clock {
  public:
    virtual ~Clock() = default;
    // Unix time in nanoseconds. Thread safe.
    virtual long long unix_now_ns() const = 0;
};

// The system's wall clock (CLOCK_REALTIME).
const Clock& system_clock();

// The program's clock: the system's unless a ScopedClock is in force.
// Thread safe; costs one atomic load and a virtual call.
const Clock& program_clock();
inline long long unix_now_ns() {
    return program_clock().unix_now_ns();
}

// Makes `clock` the program's clock for its lifetime, then puts back the one
// before. For tests: the clock must outlive the guard, and guards nest
// (innermost wins) but are not for use from several threads at once.
class ScopedClock {
  public:
    explicit ScopedClock(const Clock& clock);
    ~ScopedClock();
    ScopedClock(const ScopedClock&) = delete;
    ScopedClock& operator=(const ScopedClock&) = delete;

  private:
    const Clock* m_previous;
};

// strftime of the UTC time unix_ns with format, e.g. "%Y-%m-%d %H:%M:%S".
std::string utc_time(long long unix_ns, const char* format);
// "2026-11-22T15:24:55.123Z": RFC 3339 in UTC with `digits` fractional
// digits (3: milliseconds, 9: nanoseconds).
std::string rfc3339(long long unix_ns, int digits = 3);
// Unix nanoseconds of an RFC 3339 / ISO 8601 date-time with an offset
// ("...Z", "...+01:00", "...+0100"), fraction optional; nullopt for
// anything else.
std::optional<long long> parse_rfc3339(std::string_view text);

}  // namespace retrace::core
