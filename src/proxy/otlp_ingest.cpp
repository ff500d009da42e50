// OTLP/HTTP trace ingest: POST /_retrace/v1/traces (where `record` points
// OTEL_EXPORTER_OTLP_ENDPOINT). Each span of the export becomes an event
// of the run, observed: a GenAI tool span (gen_ai.operation.name
// execute_tool) a tool event, any other span a custom one; its parent is
// the span's parent, and a model request whose traceparent names a span
// is that span's child (SpanTable::parent_for_request). docs/interop.md.
#include "retrace/core/base64.hpp"
#include "retrace/core/digest.hpp"
#include "retrace/core/redact.hpp"
#include "retrace/core/run_id.hpp"
#include "retrace/interop/otlp_protobuf.hpp"
#include "retrace/proxy/event_api.hpp"
#include "retrace/trace/sdk_event.hpp"

namespace retrace::proxy {

namespace {

using core::Json;

constexpr const char* k_tool_operation = "execute_tool";

EventApiReply refuse(int status, std::string message, bool protobuf) {
    // (at most 300 bytes of it, cut between characters)
    if (message.size() > 300) {
        std::size_t cut = 300;
        while (cut > 0 && (static_cast<unsigned char>(message[cut]) & 0xC0) == 0x80) --cut;
        message.resize(cut);
    }
    EventApiReply r;
    r.status = status;
    // (google.rpc.Status, as OTLP/HTTP answers a refused export; 3 is INVALID_ARGUMENT)
    if (protobuf) {
        r.content_type = "application/x-protobuf";
        r.body = interop::rpc_status_protobuf(3, message);
    } else {
        r.body = core::message_json({{"code", 3}, {"message", message}});
    }
    return r;
}

// A string attribute as stored: a URL's query and the recorder's access
// token (in the path of the URLs `record` gives the program) redacted.
std::string redact_url_parts(std::string text) {
    for (std::size_t at = text.find("/_t/"); at != std::string::npos;
         at = text.find("/_t/", at + 4)) {
        std::size_t end = text.find_first_of("/?#", at + 4);
        if (end == std::string::npos) end = text.size();
        if (end > at + 4) text.replace(at + 4, end - at - 4, core::k_redacted);
    }
    if (auto q = text.find('?'); q != std::string::npos && text.find("://") != std::string::npos)
        text = text.substr(0, q) + core::redact_query(text.substr(q));
    return text;
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
        Json value = secret ? Json(core::k_redacted)
                            : plain_value(kv.value("value", Json::object()), depth + 1);
        if (value.is_string()) value = redact_url_parts(value.get<std::string>());
        out[key] = std::move(value);
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
    int status_code = 0;  // 0 unset, 1 ok, 2 error
    std::string status_message;
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
                auto id = [&](const char* key) -> std::string {
                    auto it = s.find(key);
                    return it != s.end() && it->is_string() ? it->get<std::string>() : "";
                };
                span.trace_id = id("traceId");
                span.span_id = id("spanId");
                span.parent = id("parentSpanId");
                if (!core::is_trace_id(span.trace_id))
                    return error(ErrorCode::invalid_input,
                                 where + ": traceId must be 32 hex digits, not all zero");
                if (!core::is_span_id(span.span_id))
                    return error(ErrorCode::invalid_input,
                                 where + ": spanId must be 16 hex digits, not all zero");
                if (!span.parent.empty() && !core::is_span_id(span.parent))
                    return error(ErrorCode::invalid_input,
                                 where + ": parentSpanId must be 16 hex digits or empty");
                auto name = s.find("name");
                if (name == s.end() || !name->is_string())
                    return error(ErrorCode::invalid_input, where + ": name must be a string");
                span.name = name->get<std::string>();
                if (auto kind = s.find("kind"); kind != s.end()) {
                    if (!kind->is_number_integer())
                        return error(ErrorCode::invalid_input, where + ": kind must be an integer");
                    span.kind = kind->get<int>();
                }
                span.start_ns = nanos(s.value("startTimeUnixNano", Json()));
                span.end_ns = std::max(span.start_ns, nanos(s.value("endTimeUnixNano", Json())));
                span.attributes = plain_attributes(s.value("attributes", Json::array()));
                if (auto status = s.find("status"); status != s.end() && !status->is_null()) {
                    auto code = status->is_object() ? status->find("code") : status->end();
                    auto message = status->is_object() ? status->find("message") : status->end();
                    if (!status->is_object() ||
                        (code != status->end() && !code->is_number_integer()) ||
                        (message != status->end() && !message->is_string()))
                        return error(ErrorCode::invalid_input,
                                     where + ": status must be {code: integer, message: string}");
                    if (code != status->end()) span.status_code = code->get<int>();
                    if (message != status->end()) span.status_message = message->get<std::string>();
                }
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
        run.spans->saw_trace(s.trace_id);
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
        if (s.status_code != 0 || !s.status_message.empty())
            record.otel["status"] = {{"code", s.status_code}, {"message", s.status_message}};
        if (s.status_code == 2)
            record.error = {{"type", text_of(s.attributes, "error.type").empty()
                                         ? std::string("error")
                                         : text_of(s.attributes, "error.type")},
                            {"message", s.status_message}};
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
    const char* why = "spans already recorded";
    if (protobuf) {
        ok.content_type = "application/x-protobuf";
        ok.body = interop::otlp_response_protobuf(rejected, why);
    } else {
        Json answer = Json::object();
        if (rejected)
            answer["partialSuccess"] = {{"rejectedSpans", std::to_string(rejected)},
                                        {"errorMessage", why}};
        ok.body = answer.dump();
    }
    return ok;
}

}  // namespace retrace::proxy
