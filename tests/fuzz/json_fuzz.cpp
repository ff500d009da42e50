// Canonical JSON (core/canonical_json.cpp): what every request body, event
// and pack record passes through. Properties: the strict parser and the
// one that hands out array elements agree on every text, on success and
// on the values; what parses has a canonical form, and that form is a
// fixed point (it parses back to the same canonical text); nothing that
// parses nests deeper than the bound; a finite double's text reads back
// as the same double.
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz_support.hpp"
#include "retrace/core/canonical_json.hpp"

using namespace retrace;
using core::Json;
using fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);

    auto strict = core::parse_json_strict(text);
    std::vector<Json> elements;
    bool unindexed = false;
    auto streamed =
        core::parse_json_elements(text, [&](std::optional<std::size_t> index, Json&& v) {
            if (!index)
                unindexed = true;
            else
                require(*index == elements.size(), "array elements handed in order");
            elements.push_back(std::move(v));
            return Status::ok();
        });
    require(strict.is_ok() == streamed.is_ok(), "both parsers accept the same texts");

    if (strict) {
        require(!core::nests_deeper_than(text), "a parsed text nests within the bound");
        if (*streamed) {
            require(strict->is_array() && !unindexed, "only an array is handed out by element");
            require(strict->size() == elements.size(), "every element handed out");
            for (std::size_t i = 0; i < elements.size(); ++i)
                require(elements[i] == (*strict)[i], "elements equal the parsed array's");
        } else {
            require(
                !strict->is_array() && unindexed && elements.size() == 1 && elements[0] == *strict,
                "a text that is not an array is handed whole, once");
        }
        auto canonical = core::canonicalize(*strict);
        fuzz::require_ok(canonical, "what parses strictly has a canonical form");
        auto again = core::canonicalize_text(*canonical);
        require(again.is_ok() && *again == *canonical, "canonical text is a fixed point");
    }

    // Numbers: a finite double's ECMAScript text reads back as itself.
    if (size >= sizeof(double)) {
        double d;
        std::memcpy(&d, data, sizeof d);
        if (std::isfinite(d)) {
            std::string s = core::format_number(d);
            double back = 0;
            auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), back);
            require(ec == std::errc() && end == s.data() + s.size(), "number text parses");
            require(back == d, "number text reads back as the same double");
        }
    }
    return 0;
}
