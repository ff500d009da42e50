// Lenient readers of stored attributes, for the trace formats' from_attrs:
// a missing or mistyped field gives its default, as readers of old or
// damaged runs must.
#pragma once

#include <optional>
#include <string>

#include "retrace/core/canonical_json.hpp"

namespace retrace::trace::attrs {

inline std::string text(const core::Json& a, const char* key) {
    auto it = a.find(key);
    return it != a.end() && it->is_string() ? it->get<std::string>() : std::string();
}

inline bool flag(const core::Json& a, const char* key) {
    auto it = a.find(key);
    return it != a.end() && it->is_boolean() && it->get<bool>();
}

inline core::Json object(const core::Json& a, const char* key) {
    auto it = a.find(key);
    return it != a.end() && it->is_object() ? *it : core::Json::object();
}

inline std::optional<long long> integer(const core::Json& a, const char* key) {
    auto it = a.find(key);
    if (it == a.end() || !it->is_number_integer()) return std::nullopt;
    return it->get<long long>();
}

}  // namespace retrace::trace::attrs
