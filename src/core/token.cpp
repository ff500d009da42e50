#include "retrace/core/token.hpp"

#include <sys/random.h>

#include <stdexcept>

#include "retrace/core/digest.hpp"

namespace retrace::core {

std::string random_token() {
    unsigned char raw[16];
    if (getrandom(raw, sizeof raw, 0) != static_cast<ssize_t>(sizeof raw))
        throw std::runtime_error("getrandom failed");
    return to_hex(std::string_view(reinterpret_cast<const char*>(raw), sizeof raw));
}

bool token_matches(std::string_view presented, std::string_view expected) {
    if (presented.size() != expected.size() || expected.empty()) return false;
    unsigned char diff = 0;
    for (std::size_t i = 0; i < expected.size(); ++i)
        diff |= static_cast<unsigned char>(presented[i] ^ expected[i]);
    return diff == 0;
}

}  // namespace retrace::core
