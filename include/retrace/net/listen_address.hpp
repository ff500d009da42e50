// Where a server listens, as `--listen HOST:PORT` gives it, and whether that
// is this machine alone. The gateway and `retrace serve` refuse another
// address unless told, so both ask here.
#pragma once

#include <string>
#include <utility>

#include "retrace/core/result.hpp"

namespace retrace::net {

// "HOST:PORT", "[::1]:PORT", or "PORT" alone (on 127.0.0.1): the host and
// a port of 0 (ephemeral) to 65535. invalid_input otherwise.
Result<std::pair<std::string, int>> parse_listen(const std::string& listen);

// Whether host is a loopback address (127.0.0.0/8, ::1); false for a name.
bool is_loopback(const std::string& host);

}  // namespace retrace::net
