// Lenient field readers for the documents interop reads (request bodies,
// stored headers): a missing or mistyped field is null or "".
#pragma once

#include <string>

#include "retrace/core/canonical_json.hpp"

namespace retrace::interop::fields {

inline const core::Json& member(const core::Json& j, const char* key) {
    static const core::Json null;
    if (!j.is_object()) return null;
    auto it = j.find(key);
    return it == j.end() ? null : *it;
}

inline std::string str(const core::Json& j, const char* key) {
    const core::Json& v = member(j, key);
    return v.is_string() ? v.get<std::string>() : std::string();
}

}  // namespace retrace::interop::fields
