// RFC 8785 JSON Canonicalization Scheme (JCS).
//
// Object members sorted by the UTF-16 code units of their names; numbers as
// IEEE-754 doubles printed like ECMAScript's Number.prototype.toString;
// strings with the minimal escapes of RFC 8785 section 3.2.2.2. Canonical
// text is what every digest of JSON in retrace is taken over.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "retrace/core/result.hpp"

namespace retrace::core {

using Json = nlohmann::json;

// How deeply arrays and objects may nest in JSON that retrace reads or
// writes. Reading and writing a value, copying and comparing it, recurse
// once per level; input from a client is refused past this bound, so no
// client can exhaust a thread's stack. Real requests stay far below it (a
// structured-output schema nests a few dozen levels at most).
inline constexpr std::size_t k_max_json_depth = 512;

// The message of an error for JSON nested deeper than k_max_json_depth.
std::string nested_too_deep();

// Whether text (JSON or not) opens more than `limit` arrays and objects
// inside one another, strings aside. One pass, no allocation: a cheap check
// before handing a client's body to code that reads JSON by recursion.
bool nests_deeper_than(std::string_view text, std::size_t limit = k_max_json_depth);

// Parses JSON text strictly: duplicate object names, lone surrogates,
// invalid UTF-8, trailing content, non-finite numbers and nesting deeper
// than k_max_json_depth are errors (ErrorCode::invalid_input, message names
// the problem). Never recurses: the parser and the builder keep their own
// stacks.
Result<Json> parse_json_strict(std::string_view text);

// Parses JSON text as parse_json_strict does, but hands each element of a
// top-level array to fn (with its index) as soon as the element is
// complete, never holding the array; a text that is not an array is handed
// whole, once, without an index. Returns whether the text was an array.
// Elements before a syntax error further on have been handed already: a
// caller that must not act on a bad text validates in a first pass. Stops
// at fn's first error and returns it.
using JsonElementFn = std::function<Status(std::optional<std::size_t> index, Json&& value)>;
Result<bool> parse_json_elements(std::string_view text, const JsonElementFn& fn);

// Canonical text of a value. Fails on non-finite numbers, invalid UTF-8 and
// nesting deeper than k_max_json_depth.
Result<std::string> canonicalize(const Json& value);

// parse_json_strict, then canonicalize.
Result<std::string> canonicalize_text(std::string_view text);

// The JSON text of a message whose strings may quote a client's bytes (a
// path, a header): invalid UTF-8 is written as U+FFFD where nlohmann's
// dump() would throw. For answers and logs, never for digested text.
std::string message_json(const Json& value);

// Whether text is valid UTF-8 (no overlong forms, surrogates or code points
// above U+10FFFF): what JSON and YAML may carry as text.
bool is_utf8(std::string_view text);

// ECMAScript Number::toString of a finite double ("1e+21", "0.002", "-0" -> "0").
std::string format_number(double value);

}  // namespace retrace::core
