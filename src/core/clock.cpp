#include "retrace/core/clock.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
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

std::string rfc3339(long long unix_ns, int digits) {
    static constexpr long long k_scale[] = {1000000000, 100000000, 10000000, 1000000, 100000,
                                            10000,      1000,      100,      10,      1};
    digits = std::clamp(digits, 0, 9);
    std::string out = utc_time(unix_ns, "%Y-%m-%dT%H:%M:%S");
    if (digits > 0) {
        char frac[16];
        std::snprintf(frac, sizeof frac, ".%0*lld", digits,
                      (unix_ns % 1000000000) / k_scale[digits]);
        out += frac;
    }
    return out + "Z";
}

std::optional<long long> parse_rfc3339(std::string_view t) {
    auto digits = [&](std::size_t at, std::size_t n) -> std::optional<int> {
        if (at + n > t.size()) return std::nullopt;
        int v = 0;
        for (std::size_t i = at; i < at + n; ++i) {
            if (t[i] < '0' || t[i] > '9') return std::nullopt;
            v = v * 10 + (t[i] - '0');
        }
        return v;
    };
    auto year = digits(0, 4), month = digits(5, 2), day = digits(8, 2), hour = digits(11, 2),
         minute = digits(14, 2), second = digits(17, 2);
    if (!year || !month || !day || !hour || !minute || !second || t[4] != '-' || t[7] != '-' ||
        (t[10] != 'T' && t[10] != 't' && t[10] != ' ') || t[13] != ':' || t[16] != ':' ||
        *month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 ||
        *second > 60)
        return std::nullopt;
    std::size_t at = 19;
    long long frac_ns = 0;
    if (at < t.size() && t[at] == '.') {
        long long scale = 100000000;
        std::size_t start = ++at;
        for (; at < t.size() && t[at] >= '0' && t[at] <= '9'; ++at) {
            frac_ns += (t[at] - '0') * scale;
            scale /= 10;
        }
        if (at == start) return std::nullopt;
    }
    long long offset_s = 0;
    if (at < t.size() && (t[at] == 'Z' || t[at] == 'z')) {
        ++at;
    } else if (at < t.size() && (t[at] == '+' || t[at] == '-')) {
        // +01:00, or ISO 8601's basic +0100
        bool colon = at + 3 < t.size() && t[at + 3] == ':';
        auto oh = digits(at + 1, 2), om = digits(at + (colon ? 4 : 3), 2);
        if (!oh || !om) return std::nullopt;
        offset_s = (*oh * 3600LL + *om * 60LL) * (t[at] == '-' ? -1 : 1);
        at += colon ? 6 : 5;
    } else {
        return std::nullopt;
    }
    if (at != t.size()) return std::nullopt;
    std::tm tm{};
    tm.tm_year = *year - 1900;
    tm.tm_mon = *month - 1;
    tm.tm_mday = *day;
    tm.tm_hour = *hour;
    tm.tm_min = *minute;
    tm.tm_sec = *second;
    long long secs = static_cast<long long>(timegm(&tm)) - offset_s;
    return secs * 1000000000LL + frac_ns;
}

}  // namespace retrace::core
