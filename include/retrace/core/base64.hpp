// Standard base64 (RFC 4648, with padding), as DSSE envelopes, HAR bodies
// and OTLP's JSON bytes values write it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace retrace::core {

std::string base64(std::string_view bytes);
// The bytes of padded standard base64 text; nullopt for anything else.
std::optional<std::string> unbase64(std::string_view text);

}  // namespace retrace::core
