// A run as an OTLP trace (docs/interop.md has the mapping).
#include <filesystem>
#include <map>

#include "json_fields.hpp"
#include "retrace/core/digest.hpp"
#include "retrace/core/llm_response.hpp"
#include "retrace/core/outcome.hpp"
#include "retrace/core/run_id.hpp"
#include "retrace/interop/otlp.hpp"
#include "retrace/store/verify.hpp"
#include "retrace/trace/exchange.hpp"
#include "retrace/trace/process.hpp"
#include "retrace/trace/sdk_event.hpp"

namespace retrace::interop {

namespace {

using core::EventKind;
using core::Json;

constexpr int k_kind_internal = 1, k_kind_client = 3;
constexpr int k_status_ok = 1, k_status_error = 2;

// An attribute value (AnyValue): structured values as their JSON text, as
// the conventions say where a backend cannot hold them.
Json any_value(const Json& v) {
    if (v.is_string()) return {{"stringValue", v}};
    if (v.is_boolean()) return {{"boolValue", v}};
    if (v.is_number_integer()) return {{"intValue", std::to_string(v.get<long long>())}};
    if (v.is_number()) return {{"doubleValue", v}};
    if (v.is_array()) {
        bool scalars = true;
        for (const auto& e : v) scalars = scalars && e.is_primitive() && !e.is_null();
        if (scalars) {
            Json values = Json::array();
            for (const auto& e : v) values.push_back(any_value(e));
            return {{"arrayValue", {{"values", values}}}};
        }
    }
    return {{"stringValue", v.dump()}};
}

class Attributes {
  public:
    Attributes& set(const std::string& key, const Json& value) {
        if (!value.is_null() && !(value.is_string() && value.get_ref<const std::string&>().empty()))
            m_list.push_back({{"key", key}, {"value", any_value(value)}});
        return *this;
    }
    Json take() { return std::move(m_list); }

  private:
    Json m_list = Json::array();
};

using fields::member;

std::string operation_of(const trace::Exchange& x) {
    if (x.path.find("embeddings") != std::string::npos) return "embeddings";
    if (x.path.ends_with("/completions") && !x.path.ends_with("/chat/completions"))
        return "text_completion";
    return "chat";
}

struct SpanFacts {
    std::string name;
    int kind = k_kind_internal;
    Attributes attrs;
    std::optional<std::string> error;  // the status message when it failed
    std::string error_type;
};

// What a replay's run says of an event: the recorded event that answered,
// a call made for real, or a request the recording had no answer to.
void replay_facts(SpanFacts& s, const std::optional<long long>& replayed_from, bool live,
                  const std::optional<trace::Divergence>& divergence) {
    if (replayed_from) s.attrs.set("retrace.replay.answered_by", *replayed_from);
    if (live) s.attrs.set("retrace.replay.live", true);
    if (divergence) {
        s.attrs.set("retrace.replay.divergence", divergence->reason);
        s.error = "the recording had no answer: " + divergence->reason;
        s.error_type = "retrace_divergence";
    }
}

void exchange_facts(SpanFacts& s, store::Store& store, const core::Event& e,
                    const OtlpOptions& options) {
    auto x = trace::Exchange::from_attrs(e.attrs);
    s.kind = k_kind_client;
    s.attrs.set("http.request.method", x.method)
        .set("url.path", x.route == "openai" ? "/v1" + x.path : x.path)
        .set("retrace.route", x.route);
    if (x.status) s.attrs.set("http.response.status_code", x.status);
    if (x.status == 0) {
        s.error = "no answer reached the program";
        s.error_type = "no_response";
    } else if (x.status >= 400) {
        s.error = "status " + std::to_string(x.status);
        s.error_type = std::to_string(x.status);
    }
    if (x.truncated) {
        s.error = "the upstream broke off the body";
        s.error_type = "truncated";
    }
    if (x.client_cancelled) {
        s.error = "the program gave up before the answer was complete";
        s.error_type = "cancelled";
    }
    replay_facts(s, x.replayed_from, x.live, x.divergence);
    if (e.kind != EventKind::llm) {
        s.name = x.method;
        return;
    }
    std::string request = store::blob_text(store, e.request);
    std::string response = store::blob_text(store, e.response);
    std::string content_type = fields::str(x.response_headers, "content-type");
    std::string operation = operation_of(x);
    auto parsed = core::parse_json_strict(request);
    Json req = parsed && parsed->is_object() ? *parsed : Json::object();
    std::string model = member(req, "model").is_string() ? req["model"].get<std::string>() : "";
    s.name = model.empty() ? operation : operation + " " + model;
    s.attrs.set("gen_ai.operation.name", operation)
        .set("gen_ai.provider.name", x.route == "anthropic" ? "anthropic" : "openai")
        .set("gen_ai.request.model", model);
    for (auto [from, to] : {std::pair{"temperature", "gen_ai.request.temperature"},
                            {"top_p", "gen_ai.request.top_p"},
                            {"top_k", "gen_ai.request.top_k"},
                            {"max_tokens", "gen_ai.request.max_tokens"},
                            {"max_completion_tokens", "gen_ai.request.max_tokens"},
                            {"max_output_tokens", "gen_ai.request.max_tokens"},
                            {"seed", "gen_ai.request.seed"},
                            {"frequency_penalty", "gen_ai.request.frequency_penalty"},
                            {"presence_penalty", "gen_ai.request.presence_penalty"},
                            {"stop_sequences", "gen_ai.request.stop_sequences"}})
        if (member(req, from).is_array()) {
            s.attrs.set(to, req[from]);
        } else if (member(req, from).is_number()) {
            // (the conventions' types: counts are integers, the rest doubles)
            std::string_view name(to);
            bool integer =
                name.ends_with("max_tokens") || name.ends_with("top_k") || name.ends_with("seed");
            s.attrs.set(to,
                        integer ? Json(req[from].get<long long>()) : Json(req[from].get<double>()));
        }
    if (const Json& stop = member(req, "stop"); stop.is_string())
        s.attrs.set("gen_ai.request.stop_sequences", Json::array({stop}));
    else if (stop.is_array())
        s.attrs.set("gen_ai.request.stop_sequences", stop);
    if (member(req, "n").is_number_integer() && req["n"].get<long long>() != 1)
        s.attrs.set("gen_ai.request.choice.count", req["n"]);
    auto r = core::assemble_response(x.route, content_type, response);
    s.attrs.set("gen_ai.response.id", r.id).set("gen_ai.response.model", r.model);
    Json reasons = Json::array();
    if (!r.choices.empty()) {
        for (const auto& c : r.choices)
            if (!c.finish_reason.empty()) reasons.push_back(c.finish_reason);
    } else if (!r.finish_reason.empty()) {
        reasons.push_back(r.finish_reason);
    }
    if (!reasons.empty()) s.attrs.set("gen_ai.response.finish_reasons", reasons);
    if (r.input_tokens) s.attrs.set("gen_ai.usage.input_tokens", *r.input_tokens);
    if (r.output_tokens) s.attrs.set("gen_ai.usage.output_tokens", *r.output_tokens);
    if (x.route != "anthropic") s.attrs.set("openai.response.system_fingerprint", r.fingerprint);
    if (r.stream) s.attrs.set("retrace.response.stream", true);
    if (!r.error.empty() && s.error_type.empty()) s.error_type = "provider_error";
    if (!r.error.empty()) s.error = r.error;
    if (options.content) {
        auto m = genai_messages(x.route, request, content_type, response);
        if (!m.system.empty()) s.attrs.set("gen_ai.system_instructions", m.system.dump());
        if (!m.input.empty() && operation != "embeddings")  // (embeddings' inputs are no messages)
            s.attrs.set("gen_ai.input.messages", m.input.dump());
        if (!m.output.empty()) s.attrs.set("gen_ai.output.messages", m.output.dump());
    }
}

void sdk_facts(SpanFacts& s, store::Store& store, const core::Event& e,
               const OtlpOptions& options) {
    auto sdk = trace::SdkEvent::from_attrs(e.attrs);
    bool tool = e.kind == EventKind::tool;
    s.name = tool ? "execute_tool " + e.name : e.name;
    if (tool)
        s.attrs.set("gen_ai.operation.name", "execute_tool")
            .set("gen_ai.tool.name", e.name)
            .set("gen_ai.tool.type", "function");
    if (sdk.group) s.attrs.set("retrace.span.group", true);
    if (options.content) {
        std::string in = sdk.group ? "" : store::blob_text(store, e.request);
        std::string out = store::blob_text(store, e.response);
        if (in != "null")
            s.attrs.set(tool ? "gen_ai.tool.call.arguments" : "retrace.event.input", in);
        if (out != "null")
            s.attrs.set(tool ? "gen_ai.tool.call.result" : "retrace.event.output", out);
    }
    if (sdk.error.is_object()) {
        s.error_type = sdk.error.value("type", std::string("error"));
        s.error = sdk.error.value("message", s.error_type);
    }
    if (sdk.unfinished) {
        s.attrs.set("retrace.event.unfinished", true);
        s.error = "the program exited inside it";
        if (s.error_type.empty()) s.error_type = "unfinished";
    }
    replay_facts(s, sdk.replayed_from, sdk.live, sdk.divergence);
}

void process_facts(SpanFacts& s, const core::Event& e) {
    auto p = trace::ProcessRecord::from_attrs(e.attrs);
    s.name = e.name;
    s.attrs.set("process.command_args", p.argv);
    if (!p.argv.empty())
        s.attrs.set("process.executable.name",
                    std::filesystem::path(p.argv.front()).filename().string());
    if (p.exit_code) s.attrs.set("process.exit.code", *p.exit_code);
    if (p.signal) s.attrs.set("retrace.process.signal", p.signal);
    if (p.exit_code.value_or(0) != 0 || p.signal != 0) {
        s.error = p.signal ? "killed by signal " + std::to_string(p.signal)
                           : "exit code " + std::to_string(p.exit_code.value_or(0));
        s.error_type = "exit_code";
    }
}

}  // namespace

std::string span_id_of(std::string_view run_id, long long seq) {
    return core::Digest::of(std::string(run_id) + "/" + std::to_string(seq)).hex().substr(0, 16);
}

Result<Json> otlp_trace(store::Store& store, const std::string& run_id,
                        const OtlpOptions& options) {
    RETRACE_ASSIGN(auto run, store.get_run(run_id));
    if (!run) return error(ErrorCode::not_found, "no run " + run_id);
    RETRACE_ASSIGN(auto rows, store.events(run_id));
    RETRACE_ASSIGN(auto check, store::verify_run(store, run_id));

    std::map<long long, std::string> span_ids;
    long long process_seq = 0;
    std::string service = run->name.value_or("");
    for (const auto& row : rows) {
        const auto& e = row.event;
        std::string sdk_span;
        if (core::is_sdk_event(e.kind)) sdk_span = trace::SdkEvent::from_attrs(e.attrs).span;
        span_ids[e.seq] = core::is_span_id(sdk_span) ? sdk_span : span_id_of(run_id, e.seq);
        if (e.kind == EventKind::process && !process_seq) {
            process_seq = e.seq;
            auto p = trace::ProcessRecord::from_attrs(e.attrs);
            if (service.empty() && !p.argv.empty())
                service = std::filesystem::path(p.argv.front()).filename().string();
        }
    }

    std::string trace_id = core::trace_id_of(run_id);
    Json spans = Json::array();
    for (const auto& row : rows) {
        const auto& e = row.event;
        SpanFacts s;
        if (core::is_exchange(e.kind))
            exchange_facts(s, store, e, options);
        else if (e.kind == EventKind::process)
            process_facts(s, e);
        else
            sdk_facts(s, store, e, options);
        s.attrs.set("retrace.event.seq", e.seq).set("retrace.event.kind", core::to_string(e.kind));
        if (!s.error_type.empty()) s.attrs.set("error.type", s.error_type);
        Json span = {{"traceId", trace_id},
                     {"spanId", span_ids[e.seq]},
                     {"name", s.name.empty() ? std::string(core::to_string(e.kind)) : s.name},
                     {"kind", s.kind},
                     {"startTimeUnixNano", std::to_string(e.start_ns)},
                     {"endTimeUnixNano", std::to_string(std::max(e.end_ns, e.start_ns))},
                     {"attributes", s.attrs.take()},
                     {"status", s.error ? Json{{"code", k_status_error}, {"message", *s.error}}
                                        : Json{{"code", k_status_ok}}}};
        long long parent = e.parent ? e.parent : (e.seq != process_seq ? process_seq : 0);
        if (parent && span_ids.count(parent)) span["parentSpanId"] = span_ids[parent];
        spans.push_back(std::move(span));
    }

    Attributes resource;
    resource.set("service.name", service.empty() ? "retrace" : service)
        .set("retrace.run.id", run->id)
        .set("retrace.run.name", run->name.value_or(""))
        .set("retrace.run.state", run->state)
        .set("retrace.run.replay_of", run->replay_of.value_or(""))
        .set("retrace.conditions.digest", run->conditions_digest)
        .set("retrace.record.digest", run->record_digest.value_or(""));
    if (run->exit_code) resource.set("retrace.run.exit_code", *run->exit_code);
    resource.set("retrace.verify", check.ok ? (check.incomplete ? "incomplete" : "intact")
                                            : "damaged: " + check.problem);
    if (run->outcome) {
        auto parsed = core::parse_json_strict(*run->outcome);
        auto outcome = core::RunOutcome::from_json(parsed ? *parsed : Json::object());
        if (!outcome.missing_outputs.empty())
            resource.set("retrace.run.missing_outputs", outcome.missing_outputs);
    }
    Json scope = {{"name", "retrace"}, {"version", RETRACE_VERSION}};
    return Json{
        {"resourceSpans",
         Json::array(
             {{{"resource", {{"attributes", resource.take()}}},
               {"scopeSpans", Json::array({{{"scope", scope}, {"spans", std::move(spans)}}})}}})}};
}

}  // namespace retrace::interop
