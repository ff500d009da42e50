// Small helpers for human output.
#pragma once

#include <string>

#include "retrace/core/canonical_json.hpp"

namespace retrace::cli {

// "2026-11-22 10:43:01" in UTC.
std::string format_time(long long unix_ns);
// "1.24s", "312ms", "2m05s".
std::string format_duration(long long ns);
// "12 B", "3.4 KiB".
std::string format_bytes(long long bytes);
// First 12 hex digits of "sha256:..." (or the text unchanged if not a digest).
std::string short_digest(const std::string& digest);
// Prints one JSON document, indented, to stdout.
void print_json(const core::Json& j);
// True when stdout is a terminal and NO_COLOR is unset.
bool use_color();

}  // namespace retrace::cli
