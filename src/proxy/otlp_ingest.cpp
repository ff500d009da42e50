// OTLP/HTTP trace ingest: POST /_retrace/v1/traces (where `record` points
// OTEL_EXPORTER_OTLP_ENDPOINT). Each span of the export becomes an event
// of the run, observed: a GenAI tool span (gen_ai.operation.name
// execute_tool) a tool event, any other span a custom one; its parent is
// the span's parent, and a model request whose traceparent names a span
// is that span's child (SpanTable::parent_for_request). docs/interop.md.
#include "retrace/core/base64.hpp"
#include "retrace/core/digest.hpp"
#include "retrace/core/redact.hpp"
#include "retrace/interop/otlp_protobuf.hpp"
#include "retrace/proxy/event_api.hpp"
#include "retrace/trace/sdk_event.hpp"

namespace retrace::proxy {

namespace {

using core::Json;

constexpr const char* k_tool_operation = "execute_tool";

EventApiReply refuse(int status, const std::string& message, bool protobuf) {
    EventApiReply r;
    r.status = status;
    // (google.rpc.Status, as OTLP/HTTP answers a refused export)
    Json body = {{"code", 3}, {"message", message}};
    if (protobuf) {
        r.content_type = "application/x-protobuf";
        r.body.push_back(0x08);  // code = 3 (INVALID_ARGUMENT)
        r.body.push_back(3);
        std::string m = message.substr(0, 127);
        r.body.push_back(0x12);
        r.body.push_back(static_cast<char>(m.size()));
        r.body += m;
    } else {
        r.body = core::message_json(body);
    }
    return r;
}

bool is_hex_id(const Json& v, std::size_t digits) {
    if (!v.is_string()) return false;
    const auto& s = v.get_ref<const std::string&>();
    if (s.size() != digits || s == std::string(digits, '0')) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}

long long nanos(const Json& v) {
    if (v.is_number_unsigned() || v.is_number_integer()) return v.get<long long>();
    if (v.is_string()) {
        try {
            return static_cast<long long>(std::stoull(v.get<std::string>()));
        } catch (const std::exception&) {
        }
    }
    return 0;
}

Json plain_value(const Json& any, int depth = 0);

// OTLP's key-value list as a JSON object, secret-named keys redacted.
Json plain_attributes(const Json& list, int depth = 0) {
    Json out = Json::object();
    if (!list.is_array()) return out;
    for (const auto& kv : list) {
        if (!kv.is_object() || !kv.contains("key") || !kv["key"].is_string()) continue;
        std::string key = kv["key"].get<std::string>();
        auto dot = key.rfind('.');
        std::string last = dot == std::string::npos ? key : key.substr(dot + 1);
        bool secret = core::is_secret_param(key) || core::is_secret_header(last);
        out[key] = secret ? Json(core::k_redacted)
                          : plain_value(kv.value("value", Json::object()), depth + 1);
    }
    return out;
}

// AnyValue as the JSON value it holds.
Json plain_value(const Json& any, int depth) {
    if (!any.is_object() || depth > 32) return nullptr;
    if (auto it = any.find("stringValue"); it != any.end()) return *it;
    if (auto it = any.find("boolValue"); it != any.end()) return *it;
    if (auto it = any.find("intValue"); it != any.end()) {
        if (it->is_number_integer()) return *it;
        try {
            return std::stoll(it->get<std::string>());
        } catch (const std::exception&) {
            return *it;
        }
    }
    if (auto it = any.find("doubleValue"); it != any.end()) return *it;
    if (auto it = any.find("bytesValue"); it != any.end()) return *it;
    if (auto it = any.find("arrayValue"); it != any.end()) {
        Json out = Json::array();
        for (const auto& v : it->value("values", Json::array()))
            out.push_back(plain_value(v, depth + 1));
        return out;
    }
    if (auto it = any.find("kvlistValue"); it != any.end())
        return plain_attributes(it->value("values", Json::array()), depth + 1);
    return nullptr;
}

// A span, checked.
struct Span {
    std::string trace_id, span_id, parent;
    std::string name;
    int kind = 0;
    long long start_ns = 0, end_ns = 0;
    Json attributes;
    Json status;
    std::string scope;
};

Result<std::vector<Span>> spans_of(const Json& request) {
    std::vector<Span> out;
    auto list = [](const Json& j, const char* key) -> const Json& {
        static const Json empty = Json::array();
        auto it = j.is_object() ? j.find(key) : j.end();
        return it != j.end() && it->is_array() ? *it : empty;
    };
    std::size_t index = 0;
    for (const auto& rs : list(request, "resourceSpans"))
        for (const auto& ss : list(rs, "scopeSpans")) {
            std::string scope;
            if (ss.contains("scope") && ss["scope"].is_object())
                scope = ss["scope"].value("name", std::string());
            for (const auto& s : list(ss, "spans")) {
                std::string where = "span " + std::to_string(index++);
                if (!s.is_object())
                    return error(ErrorCode::invalid_input, where + " is not an object");
                Span span;
                if (!is_hex_id(s.value("traceId", Json()), 32))
                    return error(ErrorCode::invalid_input,
                                 where + ": traceId must be 32 hex digits, not all zero");
                if (!is_hex_id(s.value("spanId", Json()), 16))
                    return error(ErrorCode::invalid_input,
                                 where + ": spanId must be 16 hex digits, not all zero");
                span.trace_id = s["traceId"].get<std::string>();
                span.span_id = s["spanId"].get<std::string>();
                Json parent = s.value("parentSpanId", Json(""));
                if (parent != "" && !is_hex_id(parent, 16))
                    return error(ErrorCode::invalid_input,
                                 where + ": parentSpanId must be 16 hex digits or empty");
                span.parent = parent.get<std::string>();
                if (!s.value("name", Json()).is_string())
                    return error(ErrorCode::invalid_input, where + ": name must be a string");
                span.name = s["name"].get<std::string>();
                span.kind = s.value("kind", Json(0)).is_number_integer() ? s["kind"].get<int>() : 0;
                span.start_ns = nanos(s.value("startTimeUnixNano", Json()));
                span.end_ns = std::max(span.start_ns, nanos(s.value("endTimeUnixNano", Json())));
                span.attributes = plain_attributes(s.value("attributes", Json::array()));
                span.status = s.value("status", Json::object());
                span.scope = scope;
                out.push_back(std::move(span));
            }
        }
    return out;
}

std::string text_of(const Json& attributes, const char* key) {
    auto it = attributes.find(key);
    return it != attributes.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

EventApiReply EventApi::ingest_otlp(std::string_view body, std::string_view content_type,
                                    const RunTarget& run) const {
    std::string type(content_type.substr(0, content_type.find(';')));
    for (auto& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    bool protobuf = type == "application/x-protobuf" || type == "application/protobuf";
    if (!protobuf && type != "application/json")
        return refuse(415,
                      "OTLP/HTTP takes application/json or application/x-protobuf, not '" +
                          std::string(content_type) + "'",
                      false);
    Result<Json> request =
        protobuf ? interop::otlp_from_protobuf(body) : core::parse_json_strict(body);
    if (!request)  // (the protobuf reader names the body itself)
        return refuse(400,
                      protobuf ? request.status().message()
                               : "OTLP body is not JSON: " + request.status().message(),
                      protobuf);
    // Every span is checked before any is recorded: a bad export records nothing.
    auto spans = spans_of(*request);
    if (!spans) return refuse(400, "OTLP body: " + spans.status().message(), protobuf);

    long long rejected = 0;
    for (const auto& s : *spans) {
        if (run.spans->opened(s.span_id)) {  // sent again (an exporter's retry): once is enough
            ++rejected;
            continue;
        }
        bool tool = text_of(s.attributes, "gen_ai.operation.name") == k_tool_operation;
        core::Event e;
        e.kind = tool ? core::EventKind::tool : core::EventKind::custom;
        e.name = tool && !text_of(s.attributes, "gen_ai.tool.name").empty()
                     ? text_of(s.attributes, "gen_ai.tool.name")
                     : s.name;
        e.start_ns = s.start_ns;
        e.end_ns = s.end_ns;
        e.parent = s.parent.empty() ? 0 : run.spans->seq_of(s.parent);
        trace::SdkEvent record;
        record.span = s.span_id;
        record.observed = true;
        record.otel = {{"trace_id", s.trace_id}, {"kind", s.kind}, {"name", s.name}};
        if (!s.scope.empty()) record.otel["scope"] = s.scope;
        if (s.status.is_object() && (s.status.value("code", Json(0)) != Json(0) ||
                                     !s.status.value("message", std::string()).empty()))
            record.otel["status"] = s.status;
        if (s.status.is_object() && s.status.value("code", Json(0)) == Json(2))
            record.error = {{"type", text_of(s.attributes, "error.type").empty()
                                         ? std::string("error")
                                         : text_of(s.attributes, "error.type")},
                            {"message", s.status.value("message", std::string())}};
        // (canonical, then redacted as every SDK event's input is)
        auto canonical = core::canonicalize(s.attributes);
        std::string input = m_redactor.redact(canonical ? *canonical : "{}");
        record.input_redacted = canonical && input != *canonical;
        record.match = core::match_digest(
            m_secret, replay::event_match_request(e.kind, e.name, canonical ? *canonical : "{}"),
            {});
        e.request = core::Digest::of(input).to_string();
        std::vector<store::Blob> blobs = {{e.request, std::move(input)}};
        e.attrs = record.to_attrs();
        e.seq = run.spans->seq_of(s.span_id);
        if (!run.spans->finish(s.span_id)) {
            ++rejected;
            continue;
        }
        (void)run.writer->complete(std::move(e), std::move(blobs));
    }
    EventApiReply ok;
    if (protobuf) {
        ok.content_type = "application/x-protobuf";
        ok.body = "";  // an empty ExportTraceServiceResponse
        if (rejected) {
            // partial_success (1) { rejected_spans (1): N }
            std::string inner;
            inner.push_back(0x08);
            for (auto v = static_cast<unsigned long long>(rejected);; v >>= 7) {
                if (v < 0x80) {
                    inner.push_back(static_cast<char>(v));
                    break;
                }
                inner.push_back(static_cast<char>((v & 0x7f) | 0x80));
            }
            ok.body.push_back(0x0a);
            ok.body.push_back(static_cast<char>(inner.size()));
            ok.body += inner;
        }
    } else {
        Json answer = Json::object();
        if (rejected)
            answer["partialSuccess"] = {{"rejectedSpans", std::to_string(rejected)},
                                        {"errorMessage", "spans already recorded"}};
        ok.body = answer.dump();
    }
    return ok;
}

}  // namespace retrace::proxy
