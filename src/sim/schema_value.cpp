#include "retrace/sim/schema_value.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace retrace::sim {

namespace {

// Beyond this many nested `$ref`s, optional parts are left out and arrays
// are empty, so that a recursive schema (a tree, a linked list) ends.
constexpr int k_max_ref_depth = 3;

class Drawer {
  public:
    Drawer(const Json& root, Rng& rng) : m_root(root), m_rng(rng) {}

    Json value(const Json& schema, int depth) {
        if (schema.is_boolean() || !schema.is_object()) return words(2);
        if (schema.contains("$ref") && schema["$ref"].is_string())
            return from_ref(schema["$ref"].get<std::string>(), depth);
        if (schema.contains("const")) return schema["const"];
        if (auto e = schema.find("enum"); e != schema.end() && e->is_array() && !e->empty())
            return (*e)[m_rng.below(e->size())];
        for (const char* key : {"anyOf", "oneOf"})
            if (auto alts = schema.find(key);
                alts != schema.end() && alts->is_array() && !alts->empty())
                return value(pick_alternative(*alts, depth), depth);
        if (auto all = schema.find("allOf"); all != schema.end() && all->is_array())
            return value(merged(schema, *all), depth);
        std::string type = type_of(schema);
        if (type == "integer") return integer(schema);
        if (type == "number") return number(schema);
        if (type == "boolean") return m_rng.below(2) == 1;
        if (type == "null") return nullptr;
        if (type == "array") return array(schema, depth);
        if (type == "object") return object(schema, depth);
        return string(schema);
    }

  private:
    std::string type_of(const Json& schema) {
        auto t = schema.find("type");
        if (t != schema.end() && t->is_string()) return t->get<std::string>();
        if (t != schema.end() && t->is_array() && !t->empty()) {
            // Several types (["string", "null"]): a value of one of them,
            // null only when it is the only one.
            std::vector<std::string> types;
            for (const auto& x : *t)
                if (x.is_string() && x != "null") types.push_back(x.get<std::string>());
            if (types.empty()) return "null";
            return types[m_rng.below(types.size())];
        }
        if (schema.contains("properties")) return "object";
        if (schema.contains("items") || schema.contains("prefixItems")) return "array";
        return "string";
    }

    Json from_ref(const std::string& ref, int depth) {
        if (ref.rfind("#", 0) != 0) return words(2);
        // A JSON pointer into the root: "#", "#/$defs/Node", "#/definitions/x".
        const Json* at = &m_root;
        std::size_t i = 1;
        while (i < ref.size() && ref[i] == '/') {
            std::size_t end = ref.find('/', i + 1);
            std::string token =
                unescape(ref.substr(i + 1, end == std::string::npos ? end : end - i - 1));
            if (!at->is_object() || !at->contains(token)) return words(2);
            at = &(*at)[token];
            i = end == std::string::npos ? ref.size() : end;
        }
        return value(*at, depth + 1);
    }

    // A JSON pointer token as written ("~1" for "/", "~0" for "~").
    static std::string unescape(const std::string& token) {
        std::string out;
        for (std::size_t i = 0; i < token.size(); ++i) {
            if (token[i] == '~' && i + 1 < token.size() &&
                (token[i + 1] == '0' || token[i + 1] == '1')) {
                out.push_back(token[++i] == '1' ? '/' : '~');
                continue;
            }
            out.push_back(token[i]);
        }
        return out;
    }

    // Deep in a recursion, the alternative that ends it (null, or one
    // without a reference); otherwise a random one, preferring a value to
    // null as a model would.
    const Json& pick_alternative(const Json& alts, int depth) {
        auto is_null = [](const Json& s) { return s.is_object() && s.value("type", "") == "null"; };
        if (depth >= k_max_ref_depth) {
            for (const auto& a : alts)
                if (is_null(a)) return a;
            for (const auto& a : alts)
                if (!a.is_object() || !a.contains("$ref")) return a;
        }
        std::vector<const Json*> values;
        for (const auto& a : alts)
            if (!is_null(a)) values.push_back(&a);
        if (values.empty()) return alts[0];
        return *values[m_rng.below(values.size())];
    }

    // allOf: the members' properties, required lists and other keywords together.
    static Json merged(const Json& schema, const Json& all) {
        Json out = schema;
        out.erase("allOf");
        for (const auto& part : all) {
            if (!part.is_object()) continue;
            for (const auto& [k, v] : part.items()) {
                if (k == "properties" && v.is_object()) {
                    for (const auto& [name, sub] : v.items()) out["properties"][name] = sub;
                } else if (k == "required" && v.is_array()) {
                    for (const auto& r : v) out["required"].push_back(r);
                } else if (!out.contains(k)) {
                    out[k] = v;
                }
            }
        }
        return out;
    }

    static std::optional<double> bound(const Json& schema, const char* key) {
        auto it = schema.find(key);
        if (it == schema.end() || !it->is_number()) return std::nullopt;
        return it->get<double>();
    }

    Json integer(const Json& schema) {
        auto lo = bound(schema, "minimum"), hi = bound(schema, "maximum");
        if (auto x = bound(schema, "exclusiveMinimum")) lo = std::floor(*x) + 1;
        if (auto x = bound(schema, "exclusiveMaximum")) hi = std::ceil(*x) - 1;
        long long step = 1;
        if (auto m = bound(schema, "multipleOf"); m && *m >= 1) step = static_cast<long long>(*m);
        if (!lo && !hi && step == 1) return static_cast<long long>(m_rng.below(100));
        // Within the bounds, near zero as a model's numbers are: a schema's
        // bounds are often the widest an integer type holds (zod's .int()
        // says +-(2^53 - 1)).
        double low_d = lo ? std::ceil(*lo) : -1e18, high_d = hi ? std::floor(*hi) : 1e18;
        double from = low_d > 0 ? low_d : high_d < 0 ? std::max(low_d, high_d - 99) : 0;
        auto low = static_cast<long long>(from);
        auto high = static_cast<long long>(std::min(high_d, from + 99));
        low = (low + (low >= 0 ? step - 1 : 0)) / step * step;  // the first multiple at or above
        if (high < low) return low;
        auto count = static_cast<std::uint64_t>((high - low) / step + 1);
        return low + static_cast<long long>(m_rng.below(count)) * step;
    }

    Json number(const Json& schema) {
        auto lo = bound(schema, "minimum"), hi = bound(schema, "maximum");
        auto xlo = bound(schema, "exclusiveMinimum"), xhi = bound(schema, "exclusiveMaximum");
        if (auto m = bound(schema, "multipleOf"); m && *m > 0) {
            // A multiple of m: an integer count of m within the bounds.
            for (auto* b : {&lo, &hi, &xlo, &xhi})
                if (*b) *b = **b / *m;
            Json scaled = Json::object();
            if (lo) scaled["minimum"] = *lo;
            if (hi) scaled["maximum"] = *hi;
            if (xlo) scaled["exclusiveMinimum"] = *xlo;
            if (xhi) scaled["exclusiveMaximum"] = *xhi;
            return static_cast<double>(integer(scaled).get<long long>()) * *m;
        }
        if (!lo && !hi && !xlo && !xhi) return static_cast<double>(m_rng.below(10000)) / 100.0;
        double low = lo ? *lo : xlo ? *xlo : std::min((hi ? *hi : *xhi) - 100, 0.0);
        double high = hi ? *hi : xhi ? *xhi : std::max(low + 100, 100.0);
        if (low <= 0 && high >= 100) low = std::max(low, 0.0), high = 100;  // near zero
        // Two decimals, strictly inside the bounds that are exclusive.
        double v = low + (high - low) * (0.05 + 0.9 * m_rng.unit());
        v = std::round(v * 100) / 100;
        if ((xlo && v <= *xlo) || (xhi && v >= *xhi) || v < low || v > high) v = (low + high) / 2;
        return v;
    }

    Json array(const Json& schema, int depth) {
        long long min = schema.value("minItems", 0LL), max = schema.value("maxItems", -1LL);
        const Json* prefix = schema.contains("prefixItems") && schema["prefixItems"].is_array()
                                 ? &schema["prefixItems"]
                                 : nullptr;
        Json items = schema.value("items", Json::object());
        if (items.is_boolean() && !items.get<bool>()) items = nullptr;
        long long n = depth >= k_max_ref_depth ? 0 : 1 + static_cast<long long>(m_rng.below(3));
        if (prefix) n = std::max<long long>(n, static_cast<long long>(prefix->size()));
        if (items.is_null()) n = prefix ? static_cast<long long>(prefix->size()) : 0;
        n = std::max(n, min);
        if (max >= 0) n = std::min(n, max);
        bool unique = schema.value("uniqueItems", false);
        Json out = Json::array();
        for (long long i = 0; i < n; ++i) {
            const Json& sub = prefix && i < static_cast<long long>(prefix->size())
                                  ? (*prefix)[static_cast<std::size_t>(i)]
                                  : items;
            Json v = value(sub, depth);
            // A repeat where items must differ: a few more draws, then stop
            // short (an enum of two cannot fill three unique items).
            for (int tries = 0; unique && tries < 8 && contains(out, v); ++tries)
                v = value(sub, depth);
            if (unique && contains(out, v)) break;
            out.push_back(std::move(v));
        }
        return out;
    }

    static bool contains(const Json& array, const Json& v) {
        return std::find(array.begin(), array.end(), v) != array.end();
    }

    Json object(const Json& schema, int depth) {
        Json out = Json::object();
        auto props = schema.find("properties");
        if (props == schema.end() || !props->is_object()) return out;
        std::vector<std::string> required;
        if (auto r = schema.find("required"); r != schema.end() && r->is_array())
            for (const auto& name : *r)
                if (name.is_string()) required.push_back(name.get<std::string>());
        for (const auto& [name, sub] : props->items()) {
            // Deep in a recursion only what is required, so that it ends.
            bool needed = std::find(required.begin(), required.end(), name) != required.end();
            if (depth >= k_max_ref_depth && !needed) continue;
            out[name] = value(sub, depth);
        }
        return out;
    }

    Json string(const Json& schema) {
        std::string s = formatted(schema.value("format", ""));
        if (!s.empty()) return s;  // (a format's values have their own length)
        s = words(2);
        auto min = static_cast<std::size_t>(std::max(0LL, schema.value("minLength", 0LL)));
        long long max = schema.value("maxLength", -1LL);
        while (s.size() < min) {
            s.push_back(' ');
            s += random_word(m_rng);
        }
        if (max >= 0 && s.size() > static_cast<std::size_t>(max)) {
            s.resize(static_cast<std::size_t>(max));
            while (!s.empty() && s.back() == ' ' && s.size() > min) s.pop_back();
        }
        return s;
    }

    // A value in the given string format, or "" for none the sim knows.
    std::string formatted(const std::string& format) {
        char buf[64];
        auto n = [&](std::uint64_t below) { return static_cast<unsigned>(m_rng.below(below)); };
        if (format == "date-time") {
            std::snprintf(buf, sizeof buf, "2026-%02u-%02uT%02u:%02u:00Z", 1 + n(12), 1 + n(28),
                          n(24), n(60));
            return buf;
        }
        if (format == "date") {
            std::snprintf(buf, sizeof buf, "2026-%02u-%02u", 1 + n(12), 1 + n(28));
            return buf;
        }
        if (format == "time") {
            std::snprintf(buf, sizeof buf, "%02u:%02u:00Z", n(24), n(60));
            return buf;
        }
        if (format == "email") return std::string(random_word(m_rng)) + "@example.com";
        if (format == "uri" || format == "url")
            return "https://example.com/" + std::string(random_word(m_rng));
        if (format == "hostname") return std::string(random_word(m_rng)) + ".example.com";
        if (format == "ipv4") {
            std::snprintf(buf, sizeof buf, "192.0.2.%u", 1 + n(254));
            return buf;
        }
        if (format == "ipv6") {
            std::snprintf(buf, sizeof buf, "2001:db8::%x", 1 + n(0xfffe));
            return buf;
        }
        if (format == "uuid") {
            std::uint64_t a = m_rng.next(), b = m_rng.next();
            std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%012llx",
                          static_cast<unsigned>(a >> 32), static_cast<unsigned>(a >> 16) & 0xffff,
                          static_cast<unsigned>(a) & 0xfff,
                          0x8000 | (static_cast<unsigned>(b >> 48) & 0x3fff),
                          static_cast<unsigned long long>(b & 0xffffffffffffULL));
            return buf;
        }
        return "";
    }

    std::string words(int count) {
        std::string out;
        for (int i = 0; i < count; ++i) {
            if (i) out += ' ';
            out += random_word(m_rng);
        }
        return out;
    }

    const Json& m_root;
    Rng& m_rng;
};

}  // namespace

Json value_for_schema(const Json& schema, Rng& rng) {
    return Drawer(schema, rng).value(schema, 0);
}

}  // namespace retrace::sim
