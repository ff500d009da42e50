#include "format.hpp"

#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <iostream>

#include "retrace/core/clock.hpp"

namespace retrace::cli {

std::string format_time(long long unix_ns) {
    return core::utc_time(unix_ns, "%Y-%m-%d %H:%M:%S");
}

std::string format_duration(long long ns) {
    char buf[32];
    double ms = static_cast<double>(ns) / 1e6;
    if (ms < 1000)
        std::snprintf(buf, sizeof buf, "%.0fms", ms);
    else if (ms < 60000)
        std::snprintf(buf, sizeof buf, "%.2fs", ms / 1000);
    else
        std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(ms / 60000),
                      static_cast<long long>(ms / 1000) % 60);
    return buf;
}

std::string format_bytes(long long bytes) {
    char buf[32];
    if (bytes < 1024)
        std::snprintf(buf, sizeof buf, "%lld B", bytes);
    else if (bytes < 1024 * 1024)
        std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(bytes) / 1024);
    else
        std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1024 * 1024));
    return buf;
}

std::string short_digest(const std::string& digest) {
    if (digest.rfind("sha256:", 0) == 0 && digest.size() >= 19) return digest.substr(7, 12);
    return digest;
}

void print_json(const core::Json& j) {
    // (stored text that is not UTF-8, a program's stdout, prints with U+FFFD
    // for the bytes that are not, as `retrace serve` sends it)
    std::cout << j.dump(2, ' ', false, core::Json::error_handler_t::replace) << "\n";
}

bool use_color() {
    return isatty(STDOUT_FILENO) && !std::getenv("NO_COLOR");
}

}  // namespace retrace::cli
