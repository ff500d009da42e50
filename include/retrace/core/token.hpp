// Access tokens: what a recorder's loopback server asks of every request,
// so that only the program it runs (which gets the token in its
// environment) can add to its run.
#pragma once

#include <string>
#include <string_view>

namespace retrace::core {

// 32 hex digits (128 bits) from the operating system's randomness.
std::string random_token();

// Whether a presented token is the expected one, in time that does not
// depend on where they differ.
bool token_matches(std::string_view presented, std::string_view expected);

}  // namespace retrace::core
