#include "retrace/core/matching.hpp"

#include <algorithm>

#include "retrace/core/digest.hpp"
#include "retrace/core/hasher.hpp"

namespace retrace::core {

namespace {

bool is_identifier(std::string_view s) {
    if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    });
}

std::string key_step(const std::string& key) {
    return is_identifier(key) ? "." + key : "[" + Json(key).dump() + "]";
}

std::size_t erase_steps(Json& node, const std::vector<JsonPath::Step>& steps, std::size_t i) {
    const auto& step = steps[i];
    bool last = i + 1 == steps.size();
    std::size_t removed = 0;
    if (step.kind == JsonPath::Step::key) {
        if (!node.is_object()) return 0;
        auto it = node.find(step.name);
        if (it == node.end()) return 0;
        if (last) return node.erase(step.name);
        return erase_steps(*it, steps, i + 1);
    }
    if (step.kind == JsonPath::Step::index) {
        if (!node.is_array() || step.at >= node.size()) return 0;
        if (last) {
            node.erase(step.at);
            return 1;
        }
        return erase_steps(node[step.at], steps, i + 1);
    }
    if (!node.is_object() && !node.is_array()) return 0;
    if (last) {
        removed = node.size();
        node = node.is_object() ? Json::object() : Json::array();
        return removed;
    }
    for (auto& child : node) removed += erase_steps(child, steps, i + 1);
    return removed;
}

// Moves i back to the start of the UTF-8 sequence it falls in.
std::size_t char_start(std::string_view s, std::size_t i) {
    while (i > 0 && i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) --i;
    return i;
}

// Two strings that differ, each shown as a window around the difference:
// up to 20 characters of the common prefix and suffix, the middle clipped.
std::pair<std::string, std::string> string_windows(const std::string& a, const std::string& b) {
    constexpr std::size_t k_context = 20, k_middle = 40;
    std::size_t prefix = 0;
    while (prefix < a.size() && prefix < b.size() && a[prefix] == b[prefix]) ++prefix;
    prefix = char_start(a, prefix);
    std::size_t suffix = 0;
    while (suffix < a.size() - prefix && suffix < b.size() - prefix &&
           a[a.size() - 1 - suffix] == b[b.size() - 1 - suffix])
        ++suffix;
    auto window = [&](const std::string& s) {
        std::size_t from = prefix > k_context ? char_start(s, prefix - k_context) : 0;
        std::size_t mid_end = s.size() - suffix;
        std::string middle = s.substr(prefix, mid_end - prefix);
        if (middle.size() > k_middle) middle = clip(middle, k_middle);
        std::size_t to = suffix > k_context ? char_start(s, mid_end + k_context) : s.size();
        std::string out = from > 0 ? "..." : "";
        out += s.substr(from, prefix - from) + middle + s.substr(mid_end, to - mid_end);
        if (to < s.size()) out += "...";
        return Json(out).dump();
    };
    return {window(a), window(b)};
}

void diff_into(const Json& a, const Json& b, const std::string& path,
               std::vector<JsonDifference>& out, std::size_t limit) {
    if (out.size() >= limit || a == b) return;
    if (a.is_object() && b.is_object()) {
        std::vector<std::string> keys;
        for (const auto& [k, _] : a.items()) keys.push_back(k);
        for (const auto& [k, _] : b.items())
            if (!a.contains(k)) keys.push_back(k);
        std::sort(keys.begin(), keys.end());
        for (const auto& k : keys) {
            std::string p = path + key_step(k);
            if (!a.contains(k))
                out.push_back({p, "(absent)", clip(b[k].dump())});
            else if (!b.contains(k))
                out.push_back({p, clip(a[k].dump()), "(absent)"});
            else
                diff_into(a[k], b[k], p, out, limit);
            if (out.size() >= limit) return;
        }
        return;
    }
    if (a.is_array() && b.is_array()) {
        for (std::size_t i = 0; i < std::max(a.size(), b.size()) && out.size() < limit; ++i) {
            std::string p = path + "[" + std::to_string(i) + "]";
            if (i >= a.size())
                out.push_back({p, "(absent)", clip(b[i].dump())});
            else if (i >= b.size())
                out.push_back({p, clip(a[i].dump()), "(absent)"});
            else
                diff_into(a[i], b[i], p, out, limit);
        }
        return;
    }
    if (a.is_string() && b.is_string() &&
        (a.get_ref<const std::string&>().size() > 60 ||
         b.get_ref<const std::string&>().size() > 60)) {
        auto [before, after] = string_windows(a.get<std::string>(), b.get<std::string>());
        out.push_back({path, before, after});
        return;
    }
    out.push_back({path, clip(a.dump()), clip(b.dump())});
}

}  // namespace

Result<JsonPath> JsonPath::parse(std::string_view text) {
    JsonPath p;
    p.m_text = text;
    auto bad = [&](std::string_view why) {
        return error(ErrorCode::invalid_input,
                     "bad JSONPath '" + std::string(text) + "': " + std::string(why));
    };
    if (text.empty() || text[0] != '$') return bad("must start with $");
    std::size_t i = 1;
    while (i < text.size()) {
        if (text[i] == '.') {
            std::size_t end = text.find_first_of(".[", i + 1);
            if (end == std::string_view::npos) end = text.size();
            std::string name(text.substr(i + 1, end - i - 1));
            if (name.empty()) return bad("empty name after '.'");
            p.m_steps.push_back(name == "*" ? Step{Step::any, "", 0} : Step{Step::key, name, 0});
            i = end;
        } else if (text[i] == '[') {
            std::size_t end = text.find(']', i);
            if (end == std::string_view::npos) return bad("unclosed [");
            std::string_view inside = text.substr(i + 1, end - i - 1);
            if (inside == "*") {
                p.m_steps.push_back({Step::any, "", 0});
            } else if (inside.size() >= 2 && (inside.front() == '"' || inside.front() == '\'') &&
                       inside.back() == inside.front()) {
                p.m_steps.push_back(
                    {Step::key, std::string(inside.substr(1, inside.size() - 2)), 0});
            } else if (!inside.empty() && std::all_of(inside.begin(), inside.end(), [](char c) {
                           return std::isdigit(static_cast<unsigned char>(c));
                       })) {
                p.m_steps.push_back({Step::index, "", std::stoul(std::string(inside))});
            } else {
                return bad("want [N], [*] or [\"name\"]");
            }
            i = end + 1;
        } else {
            return bad("want . or [ after a step");
        }
    }
    if (p.m_steps.empty()) return bad("names the whole document");
    return p;
}

std::size_t JsonPath::erase_from(Json& doc) const {
    return m_steps.empty() ? 0 : erase_steps(doc, m_steps, 0);
}

bool is_meaning_header(std::string_view n) {
    return n == "anthropic-version" || n == "anthropic-beta" || n == "openai-beta";
}

std::string match_text(const MatchRequest& r, const std::vector<JsonPath>& ignore) {
    std::vector<std::string> headers;
    for (const auto& [name, value] : r.headers)
        if (is_meaning_header(name)) headers.push_back(name + ": " + value + "\n");
    std::sort(headers.begin(), headers.end());
    std::string header_text;
    for (const auto& h : headers) header_text += h;
    TaggedHasher h("retrace.request/1");
    h.field("method", r.method).field("route", r.route).field("path", r.path);
    h.field("query", r.query).field("headers", header_text);
    auto parsed = r.body.empty() ? Result<Json>(error(ErrorCode::invalid_input, "empty"))
                                 : parse_json_strict(r.body);
    if (parsed) {
        for (const auto& p : ignore) p.erase_from(*parsed);
        if (auto canonical = canonicalize(*parsed)) {
            h.field("json", *canonical);
            return h.text();
        }
    }
    h.field("raw", r.body);  // not JSON: matched byte for byte
    return h.text();
}

std::string match_digest(std::string_view secret, const MatchRequest& r,
                         const std::vector<JsonPath>& ignore) {
    return "hmac-sha256:" + hmac_sha256(secret, match_text(r, ignore)).hex();
}

std::vector<JsonDifference> json_diff(const Json& a, const Json& b, std::size_t limit) {
    std::vector<JsonDifference> out;
    diff_into(a, b, "$", out, limit);
    return out;
}

std::string clip(std::string_view text, std::size_t width) {
    if (text.size() <= width) return std::string(text);
    std::size_t cut = width - 3;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // UTF-8
    return std::string(text.substr(0, cut)) + "...";
}

}  // namespace retrace::core
