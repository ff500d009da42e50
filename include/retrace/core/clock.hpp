// Wall-clock time as retrace records and prints it: Unix nanoseconds, UTC.
#pragma once

#include <string>

namespace retrace::core {

long long unix_now_ns();
// strftime of the UTC time unix_ns with format, e.g. "%Y-%m-%d %H:%M:%S".
std::string utc_time(long long unix_ns, const char* format);

}  // namespace retrace::core
