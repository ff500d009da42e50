#include "retrace/conditions/traffic_facts.hpp"

#include <algorithm>
#include <iterator>

#include "retrace/core/digest.hpp"
#include "retrace/core/identity.hpp"
#include "retrace/core/sse.hpp"

namespace retrace::conditions {

namespace {

using core::Json;

// Request fields that change what a model produces (delivery options such
// as `stream` do not).
constexpr std::string_view k_decoding[] = {"temperature",
                                           "top_p",
                                           "top_k",
                                           "seed",
                                           "max_tokens",
                                           "max_completion_tokens",
                                           "max_output_tokens",
                                           "n",
                                           "stop",
                                           "stop_sequences",
                                           "frequency_penalty",
                                           "presence_penalty",
                                           "logit_bias",
                                           "logprobs",
                                           "top_logprobs",
                                           "response_format",
                                           "reasoning",
                                           "reasoning_effort",
                                           "thinking",
                                           "tool_choice",
                                           "parallel_tool_calls",
                                           "text",
                                           "truncation",
                                           "service_tier",
                                           "dimensions",
                                           "encoding_format",
                                           "modalities"};

// Response headers that name the provider's API or server version.
constexpr std::string_view k_version_headers[] = {"openai-version", "anthropic-version",
                                                  "x-vllm-version", "server"};

std::string canonical(const Json& v) {
    auto text = core::canonicalize(v);
    return text ? *text : v.dump();
}

std::string digest_of(const Json& v) {
    return core::Digest::of(canonical(v)).to_string();
}

Json set_to_json(const std::set<std::string>& values, bool parse) {
    Json out = Json::array();
    for (const auto& v : values) out.push_back(parse ? Json::parse(v) : Json(v));
    return out;
}

std::string api_key_of(const std::vector<std::pair<std::string, std::string>>& headers) {
    for (const auto& [name, value] : headers) {
        if (name == "x-api-key" || name == "api-key") return value;
        if (name == "authorization" && value.size() > 7 &&
            (value.starts_with("Bearer ") || value.starts_with("bearer ")))
            return value.substr(7);
    }
    return "";
}

// What a response message reports about the backend: its served model and
// system_fingerprint, at the top level or inside the object the Responses
// API (`response`) and Anthropic streams (`message`) wrap the message in.
// Read with a SAX pass, without building a tree, and left as soon as both
// are known at the top level (a chat stream's frames name them first): a
// stream has a message per frame, and every frame is scanned.
using Reported = std::set<std::pair<std::string, std::string>>;  // (backend field, raw value)

// Where the SAX parser reads a message, shared by its iterators, so that
// the scan can move it past a container it does not read (an embedding's
// 1,536 numbers, a completion's choices): the parser then sees that
// container empty, and neither lexes nor converts what was in it.
struct Cursor {
    const char* begin;
    const char* at;
    const char* end;

    std::size_t taken() const { return static_cast<std::size_t>(at - begin); }  // read or skipped

    // Called just after an opening bracket was read: moves to the bracket
    // that closes it (strings and nesting followed, not validated), which the
    // parser reads next; to the end when there is none (then it fails).
    void skip_container() {
        const char* p = at;
        int depth = 1;
        for (; p < end; ++p) {
            char c = *p;
            if (c == '"') {
                for (++p; p < end && *p != '"'; ++p)
                    if (*p == '\\') ++p;
                if (p >= end) break;
            } else if (c == '[' || c == '{') {
                ++depth;
            } else if ((c == ']' || c == '}') && --depth == 0) {
                break;
            }
        }
        at = std::min(p, end);
    }
};

class BackendScan final : public nlohmann::json_sax<Json> {
  public:
    BackendScan(Reported& found, Cursor& cursor) : m_found(found), m_cursor(cursor) {}

    bool null() override { return value(); }
    bool boolean(bool) override { return value(); }
    bool number_integer(number_integer_t) override { return value(); }
    bool number_unsigned(number_unsigned_t) override { return value(); }
    bool number_float(number_float_t, const string_t&) override { return value(); }
    bool binary(binary_t&) override { return value(); }
    bool string(string_t& v) override {
        if (!m_open.empty() && m_open.back()) {
            bool root = m_open.size() == 1;
            if (m_key == "model") {
                m_found.emplace("served_models", v);
                m_root_model = m_root_model || root;
            } else if (m_key == "system_fingerprint") {
                m_found.emplace("system_fingerprints", v);
                m_root_fingerprint = m_root_fingerprint || root;
            }
        }
        return value() && !(m_root_model && m_root_fingerprint);
    }
    bool key(string_t& k) override {
        m_key = k;
        return true;
    }
    bool start_object(std::size_t) override {
        // The root object, or a wrapper inside one that is read.
        bool read =
            m_open.empty() || (m_open.back() && (m_key == "response" || m_key == "message"));
        m_open.push_back(read);
        m_key.clear();
        if (!read) m_cursor.skip_container();
        return true;
    }
    bool end_object() override { return close(); }
    bool start_array(std::size_t) override {  // never read
        m_open.push_back(false);
        m_key.clear();
        m_cursor.skip_container();
        return true;
    }
    bool end_array() override { return close(); }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
        failed = true;
        return false;
    }

    bool failed = false;  // not JSON (stopping early is not a failure)

  private:
    bool value() {
        m_key.clear();
        return true;
    }
    bool close() {
        m_open.pop_back();
        m_key.clear();
        return true;
    }
    Reported& m_found;
    Cursor& m_cursor;
    std::vector<bool> m_open;  // per open container: are its members read
    std::string m_key;
    bool m_root_model = false, m_root_fingerprint = false;
};

// The SAX parser's iterator over a message: the beginning one reads and
// moves the cursor, the end one stays where the message ends.
class CursorReader {
  public:
    using iterator_category = std::input_iterator_tag;
    using value_type = char;
    using difference_type = std::ptrdiff_t;
    using pointer = const char*;
    using reference = const char&;

    explicit CursorReader(Cursor* cursor) : m_cursor(cursor), m_end(nullptr) {}
    explicit CursorReader(const char* end) : m_cursor(nullptr), m_end(end) {}
    reference operator*() const { return *m_cursor->at; }
    CursorReader& operator++() {
        ++m_cursor->at;
        return *this;
    }
    CursorReader operator++(int) {
        CursorReader before = *this;
        ++*this;
        return before;
    }
    bool operator==(const CursorReader& o) const { return position() == o.position(); }
    bool operator!=(const CursorReader& o) const { return !(*this == o); }

  private:
    const char* position() const { return m_cursor ? m_cursor->at : m_end; }
    Cursor* m_cursor;
    const char* m_end;
};

// Adds to `found` what the messages of one response report. A message
// found not to be JSON says nothing (one left early is not read to its
// end). A message that begins with the very bytes the previous one was
// left after (a chat stream's frames repeat id, object, created, model and
// fingerprint before their delta) would be read the same way to the same
// stop, so it is not read again.
class BackendReader {
  public:
    explicit BackendReader(Reported& found) : m_found(found) {}

    void read(std::string_view message) {
        if (!m_prefix.empty() && message.starts_with(m_prefix)) return;
        m_prefix.clear();
        Reported mine;
        Cursor cursor{message.data(), message.data(), message.data() + message.size()};
        BackendScan scan(mine, cursor);
        bool whole = Json::sax_parse(CursorReader(&cursor), CursorReader(cursor.end), &scan);
        if (scan.failed) return;
        m_found.merge(mine);
        if (!whole)
            m_prefix.assign(message.substr(0, std::min(cursor.taken() + 1, message.size())));
    }

  private:
    Reported& m_found;
    std::string m_prefix;  // what the previous message was read to, when left early
};

}  // namespace

std::string credential_fingerprint(std::string_view secret, std::string_view api_key) {
    return "hmac-sha256:" + core::hmac_sha256(secret, api_key).hex();
}

void TrafficFacts::declared(std::string_view route, std::string_view path, const Json& body) {
    std::string provider(route);
    std::string model = body.value("model", Json("")).is_string() ? body.value("model", "") : "";
    if (model.empty()) model = "(unnamed)";
    auto& fields = m_models[provider][model];
    fields["endpoints"].insert(canonical(Json(std::string(path))));
    for (auto name : k_decoding) {
        auto it = body.find(std::string(name));
        if (it != body.end()) fields[std::string(name)].insert(canonical(*it));
    }
    // System prompts: Anthropic's `system`, the Responses API's
    // `instructions`, and system/developer messages or input items.
    if (body.contains("system")) m_prompts[provider].insert(digest_of(body["system"]));
    if (body.contains("instructions") && !body["instructions"].is_null())
        m_prompts[provider].insert(digest_of(body["instructions"]));
    for (const char* list : {"messages", "input"}) {
        if (!body.contains(list) || !body[list].is_array()) continue;
        for (const auto& m : body[list]) {
            if (!m.is_object()) continue;
            std::string role = m.value("role", Json("")).is_string() ? m.value("role", "") : "";
            if ((role == "system" || role == "developer") && m.contains("content"))
                m_prompts[provider].insert(digest_of(m["content"]));
        }
    }
    if (body.contains("tools") && body["tools"].is_array()) {
        for (const auto& t : body["tools"]) {
            if (!t.is_object()) continue;
            // Chat completions nest the schema under `function`.
            const Json& schema =
                t.contains("function") && t["function"].is_object() ? t["function"] : t;
            std::string name =
                schema.value("name", Json("")).is_string() ? schema.value("name", "") : "";
            m_tools[name.empty() ? "(" + t.value("type", std::string("unnamed")) + ")" : name]
                .insert(digest_of(schema));
        }
    }
}

bool TrafficFacts::first_sight(std::string_view kind, std::string_view digest) {
    if (digest.empty()) return true;
    constexpr std::size_t k_max_seen = 100000;
    std::string key = std::string(kind) + " " + std::string(digest);
    std::lock_guard lock(m_mutex);
    if (m_seen.size() >= k_max_seen) m_seen.clear();
    return m_seen.insert(std::move(key)).second;
}

void TrafficFacts::observe(const ObservedExchange& x) {
    if (x.route != "openai" && x.route != "anthropic") return;
    Json request;  // null unless read
    if (first_sight(std::string(x.route) + " " + std::string(x.path), x.request_digest))
        if (auto parsed = core::parse_json_strict(x.request_body)) request = std::move(*parsed);
    Reported reported;
    std::string content_type;
    if (x.response_headers && x.response_headers->contains("content-type") &&
        (*x.response_headers)["content-type"].is_string())
        content_type = (*x.response_headers)["content-type"].get<std::string>();
    if (x.status >= 200 && x.status < 300 && first_sight(content_type, x.response_digest)) {
        if (core::looks_like_sse(content_type, x.response_body)) {
            BackendReader reader(reported);
            core::for_each_sse(x.response_body,
                               [&](const core::SseEventView& e) { reader.read(e.data); });
        } else {
            BackendReader(reported).read(x.response_body);
        }
    }
    std::string key = x.request_headers ? api_key_of(*x.request_headers) : "";
    std::lock_guard lock(m_mutex);
    if (request.is_object()) declared(x.route, x.path, request);
    auto& backend = m_backend[std::string(x.route)];
    for (const auto& [field, value] : reported) backend[field].insert(canonical(Json(value)));
    if (!key.empty() && key != k_placeholder_key)
        backend["credentials"].insert(canonical(Json(credential_fingerprint(m_secret, key))));
    if (x.response_headers)
        for (auto name : k_version_headers) {
            auto it = x.response_headers->find(std::string(name));
            if (it != x.response_headers->end() && it->is_string())
                backend["versions." + std::string(name)].insert(canonical(*it));
        }
}

void TrafficFacts::declare_tool(const std::string& name, const Json& schema) {
    std::lock_guard lock(m_mutex);
    m_tools[name].insert(digest_of(schema));
}

void TrafficFacts::declare_source(const std::string& name, const Json& source) {
    std::lock_guard lock(m_mutex);
    m_sources[name].insert(canonical(source));
}

void TrafficFacts::merge_into(Json& conditions) const {
    std::lock_guard lock(m_mutex);
    Json models = Json::object(), prompts = Json::object(), tools = Json::object(),
         backend = Json::object();
    for (const auto& [provider, by_model] : m_models)
        for (const auto& [model, fields] : by_model)
            for (const auto& [field, values] : fields)
                models[provider][model][field] = set_to_json(values, true);
    for (const auto& [provider, digests] : m_prompts)
        prompts[provider] = set_to_json(digests, false);
    for (const auto& [name, digests] : m_tools) tools[name] = set_to_json(digests, false);
    for (const auto& [provider, fields] : m_backend)
        for (const auto& [field, values] : fields) {
            if (values.empty()) continue;
            if (field.starts_with("versions."))
                backend[provider]["versions"][field.substr(9)] = set_to_json(values, true);
            else
                backend[provider][field] = set_to_json(values, true);
        }
    conditions["models"] = models;
    conditions["prompts"] = prompts;
    conditions["tools"] = tools;
    conditions["backend"] = backend;
    if (!m_sources.empty()) {
        if (!conditions.contains("data") || !conditions["data"].is_object())
            conditions["data"] = Json::object();
        for (const auto& [name, sources] : m_sources)
            conditions["data"]["retrieval"][name] = set_to_json(sources, true);
    }
}

}  // namespace retrace::conditions
