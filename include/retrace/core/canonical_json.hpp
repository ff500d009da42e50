// RFC 8785 JSON Canonicalization Scheme (JCS).
//
// Object members sorted by the UTF-16 code units of their names; numbers as
// IEEE-754 doubles printed like ECMAScript's Number.prototype.toString;
// strings with the minimal escapes of RFC 8785 section 3.2.2.2. Canonical
// text is what every digest of JSON in retrace is taken over.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "retrace/core/result.hpp"

namespace retrace::core {

using Json = nlohmann::json;

// Parses JSON text strictly: duplicate object names, lone surrogates,
// invalid UTF-8, trailing content and non-finite numbers are errors
// (ErrorCode::invalid_input, message names the problem).
Result<Json> parse_json_strict(std::string_view text);

// Canonical text of a value. Fails on non-finite numbers or invalid UTF-8.
Result<std::string> canonicalize(const Json& value);

// parse_json_strict, then canonicalize.
Result<std::string> canonicalize_text(std::string_view text);

// ECMAScript Number::toString of a finite double ("1e+21", "0.002", "-0" -> "0").
std::string format_number(double value);

}  // namespace retrace::core
