#include "retrace/interop/otlp_protobuf.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <vector>

#include "retrace/core/base64.hpp"
#include "retrace/core/canonical_json.hpp"
#include "retrace/core/digest.hpp"

namespace retrace::interop {

namespace {

using core::Json;

// How a field is written on the wire and in the JSON mapping.
enum class Type {
    string,
    hex_bytes,  // trace and span ids: bytes, hex in JSON (OTLP's exception to proto3 JSON)
    b64_bytes,  // other bytes: base64 in JSON
    uint32,
    int64,    // varint; a decimal string in JSON
    fixed64,  // a decimal string in JSON
    fixed32,
    enumeration,
    boolean,
    float64,
    message,
};

struct Message;

struct Field {
    int number;
    const char* name;  // the JSON mapping's lowerCamelCase name
    Type type;
    bool repeated = false;
    const Message* message = nullptr;  // for Type::message
};

struct Message {
    const char* name;
    std::vector<Field> fields;

    const Field* by_number(int number) const {
        for (const auto& f : fields)
            if (f.number == number) return &f;
        return nullptr;
    }
    const Field* by_name(std::string_view key) const {
        for (const auto& f : fields)
            if (key == f.name) return &f;
        return nullptr;
    }
};

// opentelemetry-proto: common/v1, resource/v1, trace/v1, collector/trace/v1.
// (Declared first, filled in below: AnyValue and KeyValue refer to each other.)
extern const Message k_any_value, k_key_value;
const Message k_array_value{"ArrayValue", {{1, "values", Type::message, true, &k_any_value}}};
const Message k_key_value_list{"KeyValueList", {{1, "values", Type::message, true, &k_key_value}}};
const Message k_any_value{"AnyValue",
                          {{1, "stringValue", Type::string},
                           {2, "boolValue", Type::boolean},
                           {3, "intValue", Type::int64},
                           {4, "doubleValue", Type::float64},
                           {5, "arrayValue", Type::message, false, &k_array_value},
                           {6, "kvlistValue", Type::message, false, &k_key_value_list},
                           {7, "bytesValue", Type::b64_bytes}}};
const Message k_key_value{
    "KeyValue", {{1, "key", Type::string}, {2, "value", Type::message, false, &k_any_value}}};
const Message k_resource{"Resource",
                         {{1, "attributes", Type::message, true, &k_key_value},
                          {2, "droppedAttributesCount", Type::uint32}}};
const Message k_scope{"InstrumentationScope",
                      {{1, "name", Type::string},
                       {2, "version", Type::string},
                       {3, "attributes", Type::message, true, &k_key_value},
                       {4, "droppedAttributesCount", Type::uint32}}};
const Message k_span_event{"Span.Event",
                           {{1, "timeUnixNano", Type::fixed64},
                            {2, "name", Type::string},
                            {3, "attributes", Type::message, true, &k_key_value},
                            {4, "droppedAttributesCount", Type::uint32}}};
const Message k_span_link{"Span.Link",
                          {{1, "traceId", Type::hex_bytes},
                           {2, "spanId", Type::hex_bytes},
                           {3, "traceState", Type::string},
                           {4, "attributes", Type::message, true, &k_key_value},
                           {5, "droppedAttributesCount", Type::uint32},
                           {6, "flags", Type::fixed32}}};
const Message k_status{"Status", {{2, "message", Type::string}, {3, "code", Type::enumeration}}};
const Message k_span{"Span",
                     {{1, "traceId", Type::hex_bytes},
                      {2, "spanId", Type::hex_bytes},
                      {3, "traceState", Type::string},
                      {4, "parentSpanId", Type::hex_bytes},
                      {5, "name", Type::string},
                      {6, "kind", Type::enumeration},
                      {7, "startTimeUnixNano", Type::fixed64},
                      {8, "endTimeUnixNano", Type::fixed64},
                      {9, "attributes", Type::message, true, &k_key_value},
                      {10, "droppedAttributesCount", Type::uint32},
                      {11, "events", Type::message, true, &k_span_event},
                      {12, "droppedEventsCount", Type::uint32},
                      {13, "links", Type::message, true, &k_span_link},
                      {14, "droppedLinksCount", Type::uint32},
                      {15, "status", Type::message, false, &k_status},
                      {16, "flags", Type::fixed32}}};
const Message k_scope_spans{"ScopeSpans",
                            {{1, "scope", Type::message, false, &k_scope},
                             {2, "spans", Type::message, true, &k_span},
                             {3, "schemaUrl", Type::string}}};
const Message k_resource_spans{"ResourceSpans",
                               {{1, "resource", Type::message, false, &k_resource},
                                {2, "scopeSpans", Type::message, true, &k_scope_spans},
                                {3, "schemaUrl", Type::string}}};
const Message k_request{"ExportTraceServiceRequest",
                        {{1, "resourceSpans", Type::message, true, &k_resource_spans}}};

constexpr int k_max_depth = 64;  // AnyValue nests; nothing legitimate goes this deep

enum Wire : unsigned { varint = 0, i64 = 1, len = 2, i32 = 5 };

Wire wire_of(Type t) {
    switch (t) {
        case Type::fixed64:
        case Type::float64:
            return i64;
        case Type::fixed32:
            return i32;
        case Type::string:
        case Type::hex_bytes:
        case Type::b64_bytes:
        case Type::message:
            return len;
        default:
            return varint;
    }
}

// Encoding

void put_varint(std::string& out, std::uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<char>((v & 0x7f) | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<char>(v));
}

void put_fixed(std::string& out, std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::optional<std::string> from_hex(std::string_view hex) {
    if (hex.size() % 2) return std::nullopt;
    std::string out;
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        auto digit = [](char c) -> int {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            if (c >= 'A' && c <= 'F') return c - 'A' + 10;
            return -1;
        };
        int hi = digit(hex[i]), lo = digit(hex[i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out.push_back(static_cast<char>(hi * 16 + lo));
    }
    return out;
}

// A 64-bit integer given as a JSON number or as its decimal text.
template <typename T>
std::optional<T> integer(const Json& v) {
    if (v.is_number_integer()) return v.get<T>();
    if (!v.is_string()) return std::nullopt;
    const std::string& s = v.get_ref<const std::string&>();
    if (s.empty()) return std::nullopt;
    try {
        std::size_t used = 0;
        T n;
        if constexpr (std::is_signed_v<T>)
            n = static_cast<T>(std::stoll(s, &used));
        else
            n = static_cast<T>(std::stoull(s, &used));
        if (used != s.size()) return std::nullopt;
        return n;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

Status encode(const Message& m, const Json& j, std::string& out, const std::string& where,
              int depth);

Status encode_value(const Field& f, const Json& v, std::string& out, const std::string& where,
                    int depth) {
    auto bad = [&](const char* expected) {
        return error(ErrorCode::invalid_input,
                     "OTLP JSON: " + where + " must be " + expected + ", not " + v.dump());
    };
    put_varint(out, (static_cast<std::uint64_t>(f.number) << 3) | wire_of(f.type));
    switch (f.type) {
        case Type::string:
            if (!v.is_string()) return bad("a string");
            put_varint(out, v.get_ref<const std::string&>().size());
            out += v.get_ref<const std::string&>();
            return {};
        case Type::hex_bytes:
        case Type::b64_bytes: {
            if (!v.is_string()) return bad("a string");
            const auto& text = v.get_ref<const std::string&>();
            auto bytes = f.type == Type::hex_bytes ? from_hex(text) : core::unbase64(text);
            if (!bytes) return bad(f.type == Type::hex_bytes ? "hex" : "base64");
            put_varint(out, bytes->size());
            out += *bytes;
            return {};
        }
        case Type::uint32:
        case Type::enumeration: {
            auto n = integer<std::int64_t>(v);
            if (!n || *n < 0 || *n > 0xffffffffLL) return bad("a 32-bit unsigned integer");
            put_varint(out, static_cast<std::uint64_t>(*n));
            return {};
        }
        case Type::int64: {
            auto n = integer<std::int64_t>(v);
            if (!n) return bad("a 64-bit integer");
            put_varint(out, static_cast<std::uint64_t>(*n));
            return {};
        }
        case Type::fixed64: {
            auto n = integer<std::uint64_t>(v);
            if (!n) return bad("a 64-bit unsigned integer");
            put_fixed(out, *n, 8);
            return {};
        }
        case Type::fixed32: {
            auto n = integer<std::int64_t>(v);
            if (!n || *n < 0 || *n > 0xffffffffLL) return bad("a 32-bit unsigned integer");
            put_fixed(out, static_cast<std::uint64_t>(*n), 4);
            return {};
        }
        case Type::boolean:
            if (!v.is_boolean()) return bad("true or false");
            put_varint(out, v.get<bool>() ? 1 : 0);
            return {};
        case Type::float64: {
            double d;
            if (v.is_number())
                d = v.get<double>();
            else if (v == "NaN")
                d = std::numeric_limits<double>::quiet_NaN();
            else if (v == "Infinity" || v == "-Infinity")
                d = (v == "Infinity" ? 1 : -1) * std::numeric_limits<double>::infinity();
            else
                return bad("a number");
            std::uint64_t bits;
            std::memcpy(&bits, &d, sizeof bits);
            put_fixed(out, bits, 8);
            return {};
        }
        case Type::message: {
            std::string inner;
            RETRACE_TRY(encode(*f.message, v, inner, where, depth + 1));
            put_varint(out, inner.size());
            out += inner;
            return {};
        }
    }
    return {};
}

Status encode(const Message& m, const Json& j, std::string& out, const std::string& where,
              int depth) {
    if (depth > k_max_depth)
        return error(ErrorCode::invalid_input, "OTLP JSON: " + where + " nests too deep");
    if (!j.is_object())
        return error(ErrorCode::invalid_input,
                     "OTLP JSON: " + where + " must be an object (" + m.name + ")");
    for (const auto& [key, value] : j.items())
        if (!m.by_name(key))
            return error(ErrorCode::invalid_input,
                         "OTLP JSON: " + where + "." + key + " is not a field of " + m.name);
    // (in field-number order, as protobuf's own encoders write)
    for (const auto& field : m.fields) {
        auto it = j.find(field.name);
        if (it == j.end() || it->is_null()) continue;
        const Field* f = &field;
        const Json& value = *it;
        std::string at = where + "." + field.name;
        if (f->repeated) {
            if (!value.is_array())
                return error(ErrorCode::invalid_input, "OTLP JSON: " + at + " must be an array");
            for (std::size_t i = 0; i < value.size(); ++i)
                RETRACE_TRY(
                    encode_value(*f, value[i], out, at + "[" + std::to_string(i) + "]", depth));
        } else {
            RETRACE_TRY(encode_value(*f, value, out, at, depth));
        }
    }
    return {};
}

// Decoding

class Reader {
  public:
    Reader(std::string_view bytes, std::size_t base) : m_bytes(bytes), m_base(base) {}
    bool done() const { return m_at >= m_bytes.size(); }
    std::size_t offset() const { return m_base + m_at; }

    std::optional<std::uint64_t> varint() {
        std::uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (done()) return std::nullopt;
            auto c = static_cast<unsigned char>(m_bytes[m_at++]);
            v |= static_cast<std::uint64_t>(c & 0x7f) << shift;
            if (!(c & 0x80)) return v;
        }
        return std::nullopt;
    }
    std::optional<std::uint64_t> fixed(int bytes) {
        if (m_bytes.size() - m_at < static_cast<std::size_t>(bytes)) return std::nullopt;
        std::uint64_t v = 0;
        for (int i = 0; i < bytes; ++i)
            v |= static_cast<std::uint64_t>(static_cast<unsigned char>(m_bytes[m_at + i]))
                 << (8 * i);
        m_at += static_cast<std::size_t>(bytes);
        return v;
    }
    std::optional<std::string_view> length_delimited() {
        auto n = varint();
        if (!n || *n > m_bytes.size() - m_at) return std::nullopt;
        auto s = m_bytes.substr(m_at, static_cast<std::size_t>(*n));
        m_at += static_cast<std::size_t>(*n);
        return s;
    }

  private:
    std::string_view m_bytes;
    std::size_t m_base;
    std::size_t m_at = 0;
};

Status truncated(std::size_t offset, const char* what) {
    return error(ErrorCode::invalid_input,
                 "OTLP protobuf body: " + std::string(what) + " at byte " + std::to_string(offset));
}

Result<Json> decode(const Message& m, std::string_view bytes, std::size_t base, int depth) {
    if (depth > k_max_depth) return truncated(base, "messages nested too deep");
    Json j = Json::object();
    Reader r(bytes, base);
    while (!r.done()) {
        std::size_t at = r.offset();
        auto tag = r.varint();
        if (!tag) return truncated(at, "a truncated field tag");
        int number = static_cast<int>(*tag >> 3);
        unsigned wire = static_cast<unsigned>(*tag & 7);
        const Field* f = m.by_number(number);
        if (f && wire != wire_of(f->type) &&
            !(f->repeated && wire == len && wire_of(f->type) != len))
            return truncated(at, "a field of the wrong wire type");
        Json value;
        if (wire == varint) {
            auto v = r.varint();
            if (!v) return truncated(at, "a truncated varint");
            if (!f) continue;
            if (f->type == Type::boolean)
                value = *v != 0;
            else if (f->type == Type::int64)
                value = std::to_string(static_cast<std::int64_t>(*v));
            else
                value = static_cast<std::uint64_t>(static_cast<std::uint32_t>(*v));
        } else if (wire == i64 || wire == i32) {
            auto v = r.fixed(wire == i64 ? 8 : 4);
            if (!v) return truncated(at, "a truncated fixed-width value");
            if (!f) continue;
            if (f->type == Type::float64) {
                double d;
                std::memcpy(&d, &*v, sizeof d);
                // (proto3's JSON mapping spells what JSON numbers cannot hold)
                value = std::isnan(d)   ? Json("NaN")
                        : std::isinf(d) ? Json(d > 0 ? "Infinity" : "-Infinity")
                                        : Json(d);
            } else if (f->type == Type::fixed64) {
                value = std::to_string(*v);
            } else {
                value = *v;
            }
        } else if (wire == len) {
            auto s = r.length_delimited();
            if (!s) return truncated(at, "a length past the end of the body");
            if (!f) continue;
            if (f->type == Type::message) {
                RETRACE_ASSIGN(value, decode(*f->message, *s, r.offset() - s->size(), depth + 1));
            } else if (f->type == Type::string) {
                if (!core::is_utf8(*s)) return truncated(at, "a string that is not UTF-8");
                value = std::string(*s);
            } else if (f->type == Type::hex_bytes) {
                value = core::to_hex(*s);
            } else if (f->type == Type::b64_bytes) {
                value = core::base64(*s);
            } else {
                return truncated(at, "a packed field");  // OTLP has no packed scalars
            }
        } else {
            return truncated(at, "an unknown wire type");
        }
        if (f->repeated)
            j[f->name].push_back(std::move(value));
        else
            j[f->name] = std::move(value);
    }
    return j;
}

}  // namespace

Result<std::string> otlp_to_protobuf(const Json& request) {
    std::string out;
    RETRACE_TRY(encode(k_request, request, out, "$", 0));
    return out;
}

std::string rpc_status_protobuf(int code, std::string_view message) {
    std::string out;
    put_varint(out, (1 << 3) | varint);
    put_varint(out, static_cast<std::uint64_t>(code));
    put_varint(out, (2 << 3) | len);
    put_varint(out, message.size());
    out += message;
    return out;
}

std::string otlp_response_protobuf(long long rejected_spans, std::string_view error_message) {
    if (rejected_spans <= 0) return "";
    std::string partial;  // ExportTracePartialSuccess {1: rejected_spans, 2: error_message}
    put_varint(partial, (1 << 3) | varint);
    put_varint(partial, static_cast<std::uint64_t>(rejected_spans));
    put_varint(partial, (2 << 3) | len);
    put_varint(partial, error_message.size());
    partial += error_message;
    std::string out;
    put_varint(out, (1 << 3) | len);
    put_varint(out, partial.size());
    return out + partial;
}

Result<Json> otlp_from_protobuf(std::string_view bytes) {
    return decode(k_request, bytes, 0, 0);
}

}  // namespace retrace::interop
