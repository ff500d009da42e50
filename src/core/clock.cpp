#include "retrace/core/clock.hpp"

#include <atomic>
#include <chrono>
#include <ctime>

namespace retrace::core {

namespace {

class SystemClock final : public Clock {
  public:
    long long unix_now_ns() const override {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }
};

const SystemClock k_system_clock;
std::atomic<const Clock*> g_clock{&k_system_clock};

}  // namespace

const Clock& system_clock() {
    return k_system_clock;
}

const Clock& program_clock() {
    return *g_clock.load(std::memory_order_acquire);
}

ScopedClock::ScopedClock(const Clock& clock)
    : m_previous(g_clock.exchange(&clock, std::memory_order_acq_rel)) {}

ScopedClock::~ScopedClock() {
    g_clock.store(m_previous, std::memory_order_release);
}

std::string utc_time(long long unix_ns, const char* format) {
    std::time_t secs = static_cast<std::time_t>(unix_ns / 1000000000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[128];
    std::size_t n = std::strftime(buf, sizeof buf, format, &tm);
    return std::string(buf, n);
}

}  // namespace retrace::core
