#include "retrace/core/clock.hpp"

#include <chrono>
#include <ctime>

namespace retrace::core {

long long unix_now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
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
