#include "retrace/core/canonical_json.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <set>
#include <vector>

namespace retrace::core {

namespace {

// Builds a Json value through nlohmann's SAX interface so that duplicate
// member names, which the DOM parser silently collapses, can be refused.
class StrictBuilder : public nlohmann::json_sax<Json> {
  public:
    Json result;
    std::string problem;
    // When set, each element of a top-level array goes here as it
    // completes instead of into the array; fn_error is its first error.
    const JsonElementFn* each = nullptr;
    std::size_t index = 0;
    Status fn_error;

    bool null() override { return add(Json(nullptr)); }
    bool boolean(bool v) override { return add(Json(v)); }
    bool number_integer(number_integer_t v) override { return add(Json(v)); }
    bool number_unsigned(number_unsigned_t v) override { return add(Json(v)); }
    bool number_float(number_float_t v, const string_t&) override {
        if (!std::isfinite(v)) return fail("number out of range");
        return add(Json(v));
    }
    bool string(string_t& v) override { return add(Json(std::move(v))); }
    bool binary(binary_t&) override { return fail("binary values are not JSON"); }
    bool start_object(std::size_t) override {
        if (m_stack.size() >= k_max_json_depth) return too_deep();
        m_stack.push_back({Json::object(), {}, {}});
        return true;
    }
    bool key(string_t& k) override {
        auto& frame = m_stack.back();
        if (!frame.keys.insert(k).second) return fail("duplicate object member name \"" + k + "\"");
        frame.key = k;
        return true;
    }
    bool end_object() override { return close(); }
    bool start_array(std::size_t) override {
        if (m_stack.size() >= k_max_json_depth) return too_deep();
        m_stack.push_back({Json::array(), {}, {}});
        return true;
    }
    bool end_array() override { return close(); }
    bool parse_error(std::size_t position, const std::string&,
                     const nlohmann::detail::exception& ex) override {
        if (problem.empty()) {
            std::string what = ex.what();
            auto cut = what.find("] ");
            problem = "invalid JSON at byte " + std::to_string(position) + ": " +
                      (cut == std::string::npos ? what : what.substr(cut + 2));
        }
        return false;
    }

  private:
    struct Frame {
        Json value;
        std::set<std::string> keys;
        std::string key;
    };

    bool fail(std::string why) {
        problem = std::move(why);
        return false;
    }
    bool too_deep() { return fail(nested_too_deep()); }
    bool add(Json v) {
        if (m_stack.empty()) {
            result = std::move(v);
        } else if (each && m_stack.size() == 1 && m_stack.front().value.is_array()) {
            fn_error = (*each)(index++, std::move(v));
            if (!fn_error.is_ok()) return fail(fn_error.message());
        } else if (m_stack.back().value.is_object()) {
            m_stack.back().value[m_stack.back().key] = std::move(v);
        } else {
            m_stack.back().value.push_back(std::move(v));
        }
        return true;
    }
    bool close() {
        Json v = std::move(m_stack.back().value);
        m_stack.pop_back();
        return add(std::move(v));
    }

    std::vector<Frame> m_stack;
};

// Returns the length of the valid UTF-8 sequence at s[i], or 0 if invalid
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
std::size_t utf8_sequence(std::string_view s, std::size_t i, char32_t* cp) {
    auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    unsigned char c = b(0);
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    std::size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    if (n == 0 || c > 0xF4 || i + n > s.size()) return 0;
    char32_t v = c & (0x7F >> n);
    for (std::size_t k = 1; k < n; ++k) {
        if ((b(k) & 0xC0) != 0x80) return 0;
        v = (v << 6) | (b(k) & 0x3F);
    }
    if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10FFFF)) ||
        (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return n;
}

bool to_utf16(std::string_view s, std::u16string& out) {
    out.clear();
    for (std::size_t i = 0; i < s.size();) {
        char32_t cp = 0;
        std::size_t n = utf8_sequence(s, i, &cp);
        if (n == 0) return false;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            out.push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
            out.push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
        } else {
            out.push_back(static_cast<char16_t>(cp));
        }
        i += n;
    }
    return true;
}

bool write_string(std::string_view s, std::string& out) {
    static constexpr char k_hex[] = "0123456789abcdef";
    out.push_back('"');
    for (std::size_t i = 0; i < s.size();) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c >= 0x80) {
            char32_t cp = 0;
            std::size_t n = utf8_sequence(s, i, &cp);
            if (n == 0) return false;
            out.append(s.substr(i, n));
            i += n;
            continue;
        }
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (c < 0x20) {
                    out += "\\u00";
                    out.push_back(k_hex[c >> 4]);
                    out.push_back(k_hex[c & 15]);
                } else {
                    out.push_back(static_cast<char>(c));
                }
        }
        ++i;
    }
    out.push_back('"');
    return true;
}

// Integers a double holds exactly print as themselves (ECMA-262 writes
// every integer below 1e21 without exponent); larger ones as the double
// they become.
constexpr std::int64_t k_exact_integer = std::int64_t{1} << 53;

void write_integer(std::int64_t i, std::string& out) {
    if (i < -k_exact_integer || i > k_exact_integer) {
        out += format_number(static_cast<double>(i));
        return;
    }
    char buf[24];
    auto res = std::to_chars(buf, buf + sizeof buf, i);
    out.append(buf, res.ptr);
}

Status write_value(const Json& v, std::string& out, std::size_t depth);

Status write_object(const Json& v, std::string& out, std::size_t depth) {
    // Members are held sorted by their UTF-8 bytes, which is the order of
    // UTF-16 code units as long as every name is ASCII: then as they come.
    bool ascii = true;
    for (auto it = v.begin(); it != v.end() && ascii; ++it)
        for (unsigned char c : it.key()) ascii = ascii && c < 0x80;
    if (ascii) {
        out.push_back('{');
        bool first = true;
        for (auto it = v.begin(); it != v.end(); ++it) {
            if (!first) out.push_back(',');
            first = false;
            write_string(it.key(), out);
            out.push_back(':');
            RETRACE_TRY(write_value(it.value(), out, depth + 1));
        }
        out.push_back('}');
        return Status::ok();
    }
    struct Member {
        std::u16string key16;
        const std::string* key;
        const Json* value;
    };
    std::vector<Member> members;
    members.reserve(v.size());
    for (auto it = v.begin(); it != v.end(); ++it) {
        Member m{{}, &it.key(), &it.value()};
        if (!to_utf16(it.key(), m.key16))
            return error(ErrorCode::invalid_input, "invalid UTF-8 in an object member name");
        members.push_back(std::move(m));
    }
    std::sort(members.begin(), members.end(),
              [](const Member& a, const Member& b) { return a.key16 < b.key16; });
    out.push_back('{');
    for (std::size_t i = 0; i < members.size(); ++i) {
        if (i) out.push_back(',');
        write_string(*members[i].key, out);
        out.push_back(':');
        RETRACE_TRY(write_value(*members[i].value, out, depth + 1));
    }
    out.push_back('}');
    return Status::ok();
}

Status write_value(const Json& v, std::string& out, std::size_t depth) {
    // (values read by parse_json_strict are within the bound; this keeps one
    // built otherwise from recursing without limit)
    if (v.is_structured() && depth >= k_max_json_depth)
        return error(ErrorCode::invalid_input, nested_too_deep());
    switch (v.type()) {
        case Json::value_t::null:
            out += "null";
            break;
        case Json::value_t::boolean:
            out += v.get<bool>() ? "true" : "false";
            break;
        case Json::value_t::number_integer:
            write_integer(v.get<std::int64_t>(), out);
            break;
        case Json::value_t::number_unsigned: {
            auto u = v.get<std::uint64_t>();
            if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
                write_integer(static_cast<std::int64_t>(u), out);  // (which sees to the range)
            else
                out += format_number(static_cast<double>(u));
            break;
        }
        case Json::value_t::number_float: {
            double d = v.get<double>();
            if (!std::isfinite(d))
                return error(ErrorCode::invalid_input, "NaN and Infinity are not JSON numbers");
            out += format_number(d);
            break;
        }
        case Json::value_t::string:
            if (!write_string(v.get_ref<const std::string&>(), out))
                return error(ErrorCode::invalid_input, "invalid UTF-8 in a string");
            break;
        case Json::value_t::array: {
            out.push_back('[');
            bool first = true;
            for (const auto& e : v) {
                if (!first) out.push_back(',');
                first = false;
                RETRACE_TRY(write_value(e, out, depth + 1));
            }
            out.push_back(']');
            break;
        }
        case Json::value_t::object:
            return write_object(v, out, depth);
        default:
            return error(ErrorCode::invalid_input, "binary values are not JSON");
    }
    return Status::ok();
}

// nlohmann decodes "\ud800" alone without complaint in some versions; scan
// the raw text for \u escapes forming lone surrogates.
std::optional<std::string> find_lone_surrogate(std::string_view text) {
    auto hex4 = [&](std::size_t i, unsigned* out) {
        if (i + 4 > text.size()) return false;
        unsigned v = 0;
        for (std::size_t k = 0; k < 4; ++k) {
            char c = text[i + k];
            int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
                    : (c >= 'a' && c <= 'f')                    ? c - 'a' + 10
                    : (c >= 'A' && c <= 'F')                    ? c - 'A' + 10
                                                                : -1;
            if (d < 0) return false;
            v = v * 16 + static_cast<unsigned>(d);
        }
        *out = v;
        return true;
    };
    for (std::size_t i = 0; i + 1 < text.size(); ++i) {
        if (text[i] != '\\') continue;
        if (text[i + 1] != 'u') {
            ++i;  // skip the escaped character (it may be a backslash)
            continue;
        }
        unsigned u = 0;
        if (!hex4(i + 2, &u)) continue;
        std::string esc(text.substr(i, 6));
        if (u >= 0xDC00 && u <= 0xDFFF) return esc;
        if (u >= 0xD800 && u <= 0xDBFF) {
            unsigned low = 0;
            if (i + 12 > text.size() || text[i + 6] != '\\' || text[i + 7] != 'u' ||
                !hex4(i + 8, &low) || low < 0xDC00 || low > 0xDFFF)
                return esc;
            i += 11;
            continue;
        }
        i += 5;
    }
    return std::nullopt;
}

}  // namespace

std::string nested_too_deep() {
    return "JSON nested deeper than " + std::to_string(k_max_json_depth) + " levels";
}

bool nests_deeper_than(std::string_view text, std::size_t limit) {
    std::size_t depth = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                ++i;  // the escaped character, which may be a quote
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > limit) return true;
        } else if ((c == ']' || c == '}') && depth > 0) {
            --depth;
        }
    }
    return false;
}

std::string message_json(const Json& value) {
    return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string format_number(double value) {
    if (value == 0) return "0";  // also -0
    char buf[64];
    // Shortest round-trip digits in scientific form: d[.ddd]e[+-]x
    auto res = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
    std::string sci(buf, res.ptr);
    bool negative = sci[0] == '-';
    if (negative) sci.erase(0, 1);
    auto e = sci.find('e');
    std::string digits = sci.substr(0, e);
    digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
    int exp10 = std::stoi(sci.substr(e + 1));
    int k = static_cast<int>(digits.size());
    int n = exp10 + 1;  // ECMA-262 Number::toString: value = digits x 10^(n-k)
    std::string out = negative ? "-" : "";
    if (k <= n && n <= 21) {
        out += digits + std::string(static_cast<std::size_t>(n - k), '0');
    } else if (0 < n && n <= 21) {
        out += digits.substr(0, static_cast<std::size_t>(n)) + "." +
               digits.substr(static_cast<std::size_t>(n));
    } else if (-6 < n && n <= 0) {
        out += "0." + std::string(static_cast<std::size_t>(-n), '0') + digits;
    } else {
        int x = n - 1;
        out += digits.substr(0, 1);
        if (k > 1) out += "." + digits.substr(1);
        out += x < 0 ? "e-" : "e+";
        out += std::to_string(std::abs(x));
    }
    return out;
}

namespace {

// Runs the strict builder over text: the builder's own error (or fn's,
// when it streams) first, then the parser's.
Status build_strict(std::string_view text, StrictBuilder& builder) {
    if (auto lone = find_lone_surrogate(text))
        return error(ErrorCode::invalid_input, "lone surrogate " + *lone + " in string");
    // JSON never holds a raw NUL (in a string it must be escaped), and
    // nlohmann's lexer would take one for the end of the input: "1\0x"
    // would parse as 1 with anything at all after it.
    if (auto nul = text.find('\0'); nul != std::string_view::npos)
        return error(ErrorCode::invalid_input,
                     "invalid JSON: NUL byte at byte " + std::to_string(nul));
    bool ok = false;
    try {
        ok = Json::sax_parse(text.begin(), text.end(), &builder, Json::input_format_t::json, true);
    } catch (const std::exception& ex) {
        return error(ErrorCode::invalid_input, std::string("invalid JSON: ") + ex.what());
    }
    if (!builder.fn_error.is_ok()) return builder.fn_error;
    if (!ok)
        return error(ErrorCode::invalid_input,
                     builder.problem.empty() ? "invalid JSON" : builder.problem);
    return Status::ok();
}

}  // namespace

Result<Json> parse_json_strict(std::string_view text) {
    StrictBuilder builder;
    RETRACE_TRY(build_strict(text, builder));
    return std::move(builder.result);
}

Result<bool> parse_json_elements(std::string_view text, const JsonElementFn& fn) {
    StrictBuilder builder;
    builder.each = &fn;
    RETRACE_TRY(build_strict(text, builder));
    if (builder.result.is_array()) return true;
    RETRACE_TRY(fn(std::nullopt, std::move(builder.result)));
    return false;
}

Result<std::string> canonicalize(const Json& value) {
    std::string out;
    out.reserve(256);
    RETRACE_TRY(write_value(value, out, 0));
    return out;
}

Result<std::string> canonicalize_text(std::string_view text) {
    RETRACE_ASSIGN(Json v, parse_json_strict(text));
    return canonicalize(v);
}

bool is_utf8(std::string_view text) {
    char32_t cp;
    for (std::size_t i = 0; i < text.size();) {
        std::size_t n = utf8_sequence(text, i, &cp);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

}  // namespace retrace::core
