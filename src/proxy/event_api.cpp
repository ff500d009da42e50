#include "retrace/proxy/event_api.hpp"

#include <set>

#include "retrace/conditions/traffic_facts.hpp"
#include "retrace/core/clock.hpp"
#include "retrace/core/digest.hpp"
#include "retrace/core/run_id.hpp"
#include "retrace/proxy/issue_ledger.hpp"
#include "retrace/trace/sdk_event.hpp"

namespace retrace::proxy {

using conditions::TrafficFacts;
using replay::event_match_request;
using replay::RecordedEvent;
using trace::Divergence;

// One message of POST /events, checked before anything is applied.
struct EventMessage {
    enum Phase { whole, start, end } phase = whole;
    core::EventKind kind = core::EventKind::custom;
    std::string name, span, parent;
    std::string input;  // canonical JSON text
    std::optional<std::string> output;
    core::Json error;  // null or {"type", "message"}
    core::Json schema, source;
    long long start_ns = 0, end_ns = 0;
    std::optional<long long> pid;
    bool group = false;
    // The SDK process's ledger and this event's number in it (issue_ledger.hpp).
    std::string ledger;
    long long issue = 0;
};

namespace {

using core::Json;

EventApiReply fail(int status, const std::string& type, const std::string& message) {
    // (a message may quote the path, as the client sent it)
    return {status, core::message_json({{"error", {{"type", type}, {"message", message}}}})};
}

// The answer to a message or a batch, built as text as it goes: a batch
// of many events would otherwise hold a tree of every answer.
class Answers {
  public:
    void push_back(const Json& answer) {
        m_text += m_text.empty() ? "[" : ",";
        m_text += answer.dump();
    }
    std::string text(bool batch) const {
        if (m_text.empty()) return batch ? "[]" : "null";
        return batch ? m_text + "]" : m_text.substr(1);
    }

  private:
    std::string m_text;
};

Result<std::string> text_field(const Json& j, const char* key, bool required) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
        if (required)
            return error(ErrorCode::invalid_input, std::string("'") + key + "' is missing");
        return std::string();
    }
    if (!it->is_string() || it->get<std::string>().empty())
        return error(ErrorCode::invalid_input,
                     std::string("'") + key + "' must be a non-empty string");
    return it->get<std::string>();
}

Result<long long> time_field(const Json& j, const char* key, long long fallback) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return fallback;
    if (!it->is_number_integer() || it->get<long long>() <= 0)
        return error(ErrorCode::invalid_input,
                     std::string("'") + key + "' must be a positive integer (unix ns)");
    return it->get<long long>();
}

Result<std::string> canonical_field(const Json& j, const char* key) {
    auto it = j.find(key);
    Json v = it == j.end() ? Json() : *it;
    auto text = core::canonicalize(v);
    if (!text)
        return error(
            ErrorCode::invalid_input,
            std::string("'") + key + "' cannot be canonicalized: " + text.status().message());
    return std::move(text).value();
}

Result<Json> error_field(const Json& j) {
    auto it = j.find("error");
    if (it == j.end() || it->is_null()) return Json();
    if (!it->is_object() || !it->contains("type") || !(*it)["type"].is_string())
        return error(ErrorCode::invalid_input,
                     "'error' must be null or an object with a string 'type' and a 'message'");
    Json e = {{"type", (*it)["type"]}, {"message", it->value("message", Json(""))}};
    if (!e["message"].is_string()) e["message"] = e["message"].dump();
    if (it->contains("args")) e["args"] = (*it)["args"];  // to rebuild the exception
    return e;
}

// The fields every event shares: kind, name, span and parent, pid, time.
Status common_fields(const Json& j, EventMessage& m, bool need_kind) {
    RETRACE_ASSIGN(std::string kind, text_field(j, "kind", need_kind));
    auto known = core::parse_event_kind(kind);
    if (need_kind && !(known && core::is_sdk_event(*known)))
        return error(
            ErrorCode::invalid_input,
            "'kind' must be one of tool, retrieval, checkpoint, clock, random, custom; got '" +
                kind + "'");
    if (known) m.kind = *known;
    RETRACE_ASSIGN(m.name, text_field(j, "name", need_kind));
    RETRACE_ASSIGN(m.span, text_field(j, "span", false));
    RETRACE_ASSIGN(m.parent, text_field(j, "parent", false));
    for (const auto* id : {&m.span, &m.parent})
        if (!id->empty() && !core::is_span_id(*id))
            return error(ErrorCode::invalid_input,
                         "span ids are 16 lower-case hex digits, not all zero; got '" + *id + "'");
    if (auto it = j.find("pid"); it != j.end() && !it->is_null()) {
        if (!it->is_number_integer())
            return error(ErrorCode::invalid_input, "'pid' must be an integer");
        m.pid = it->get<long long>();
    }
    RETRACE_ASSIGN(m.ledger, text_field(j, "ledger", false));
    if (!m.ledger.empty() && !IssueLedger::valid_name(m.ledger))
        return error(
            ErrorCode::invalid_input,
            "'ledger' is at most 64 lower-case letters, digits and '-'; got '" + m.ledger + "'");
    if (auto it = j.find("issue"); it != j.end() && !it->is_null()) {
        if (!it->is_number_integer() || it->get<long long>() < 1)
            return error(ErrorCode::invalid_input, "'issue' must be a positive integer");
        m.issue = it->get<long long>();
    }
    long long now = core::unix_now_ns();
    RETRACE_ASSIGN(m.start_ns, time_field(j, "start_ns", now));
    RETRACE_ASSIGN(m.end_ns, time_field(j, "end_ns", now));
    return Status::ok();
}

Result<EventMessage> parse_message(const Json& j) {
    if (!j.is_object()) return error(ErrorCode::invalid_input, "an event must be a JSON object");
    EventMessage m;
    std::string phase = j.value("phase", Json("event")).is_string()
                            ? j.value("phase", std::string("event"))
                            : std::string("?");
    if (phase == "start")
        m.phase = EventMessage::start;
    else if (phase == "end")
        m.phase = EventMessage::end;
    else if (phase != "event")
        return error(ErrorCode::invalid_input,
                     "'phase' must be start, end or event; got '" + phase + "'");
    RETRACE_TRY(common_fields(j, m, m.phase != EventMessage::end));
    if (m.phase != EventMessage::whole && m.span.empty())
        return error(ErrorCode::invalid_input, "'phase' " + phase + " needs a 'span' id");
    if (m.phase != EventMessage::end) {
        RETRACE_ASSIGN(m.input, canonical_field(j, "input"));
        m.schema = j.value("schema", Json());
        m.source = j.value("source", Json());
        m.group = j.value("group", false) == true;
    }
    if (m.phase != EventMessage::start) {
        if (j.contains("output")) {
            RETRACE_ASSIGN(auto out, canonical_field(j, "output"));
            m.output = std::move(out);
        }
        RETRACE_ASSIGN(m.error, error_field(j));
    }
    return m;
}

}  // namespace

long long SpanTable::seq_of(const std::string& id) {
    std::lock_guard lock(m_mutex);
    Span& s = m_spans[id];
    if (s.seq == 0) s.seq = m_writer.next_seq();
    return s.seq;
}

bool SpanTable::open(const std::string& id, core::Event event, std::vector<store::Blob> blobs) {
    std::lock_guard lock(m_mutex);
    Span& s = m_spans[id];
    if (s.opened) return false;
    if (s.seq == 0) s.seq = m_writer.next_seq();
    event.seq = s.seq;
    s.opened = true;
    s.event = std::move(event);
    s.blobs = std::move(blobs);
    return true;
}

bool SpanTable::opened(const std::string& id) {
    std::lock_guard lock(m_mutex);
    auto it = m_spans.find(id);
    return it != m_spans.end() && it->second.opened;
}

bool SpanTable::finish(const std::string& id) {
    std::lock_guard lock(m_mutex);
    Span& s = m_spans[id];
    if (s.opened) return false;
    if (s.seq == 0) s.seq = m_writer.next_seq();
    s.opened = s.ended = true;
    return true;
}

std::optional<std::pair<core::Event, std::vector<store::Blob>>> SpanTable::end(
    const std::string& id) {
    std::lock_guard lock(m_mutex);
    auto it = m_spans.find(id);
    if (it == m_spans.end() || !it->second.opened || it->second.ended) return std::nullopt;
    it->second.ended = true;
    return std::pair{std::move(it->second.event), std::move(it->second.blobs)};
}

long long SpanTable::parent_for_request(std::string_view traceparent,
                                        std::string_view run_trace_id) {
    // version "-" trace-id "-" parent-id "-" flags
    if (traceparent.size() >= 55 && traceparent[2] == '-' && traceparent[35] == '-' &&
        traceparent[52] == '-') {
        std::string trace(traceparent.substr(3, 32)), id(traceparent.substr(36, 16));
        bool ours = trace == run_trace_id;
        if (!ours) {
            std::lock_guard lock(m_mutex);
            ours = m_adopt_foreign || m_traces.count(trace);
        }
        if (ours && core::is_span_id(id)) return seq_of(id);
    }
    std::lock_guard lock(m_mutex);
    // The open grouping spans (retrace.span, whose start and end the SDKs
    // deliver before going on; a tool's span may still be in flight) and
    // which of them have an open child: a single chain has exactly one open
    // span without one, its innermost.
    std::set<long long> open, with_open_child;
    for (const auto& [_, s] : m_spans)
        if (s.opened && !s.ended && trace::SdkEvent::from_attrs(s.event.attrs).group) {
            open.insert(s.seq);
            if (s.event.parent) with_open_child.insert(s.event.parent);
        }
    long long innermost = 0;
    for (long long seq : open)
        if (!with_open_child.count(seq)) {
            if (innermost) return 0;  // two branches: ambiguous
            innermost = seq;
        }
    return innermost;
}

void SpanTable::close_all(long long end_ns) {
    std::lock_guard lock(m_mutex);
    for (auto& [id, s] : m_spans) {
        if (s.ended) continue;
        s.ended = true;
        core::Event e = s.opened ? std::move(s.event) : core::Event{};
        auto record = trace::SdkEvent::from_attrs(e.attrs);
        if (!s.opened) {  // only ever named by a child or a traceparent
            e.seq = s.seq;
            e.kind = core::EventKind::custom;
            e.name = "(span " + id + ", never started)";
            e.start_ns = end_ns;
            record.span = id;
        }
        e.end_ns = end_ns;
        record.unfinished = true;
        e.attrs = record.to_attrs();
        (void)m_writer.complete(std::move(e), std::move(s.blobs));
    }
}

EventApiReply EventApi::handle(std::string_view method, std::string_view path,
                               std::string_view body, const RunTarget& run,
                               std::string_view content_type,
                               std::string_view content_encoding) const {
    if (!run.spans) return fail(404, "retrace_event_error", "this server records no SDK events");
    bool events = path == "/v1/events", replay = path == "/v1/replay",
         traces = path == "/v1/traces";
    if (!events && !replay && !traces)
        return fail(404, "retrace_event_error",
                    "no such endpoint: /_retrace" + std::string(path) +
                        " (POST /_retrace/v1/events, POST /_retrace/v1/replay, POST "
                        "/_retrace/v1/traces for OTLP)");
    if (method != "POST")
        return fail(405, "retrace_event_error", "/_retrace" + std::string(path) + " takes POST");
    if (traces && !content_encoding.empty() && content_encoding != "identity")
        return fail(415, "retrace_event_error",
                    "OTLP bodies are taken uncompressed (Content-Encoding: " +
                        std::string(content_encoding) +
                        "): set OTEL_EXPORTER_OTLP_COMPRESSION=none");
    try {
        if (traces) return ingest_otlp(body, content_type, run);
        return events ? record_events(body, run) : replay_event(body, run);
    } catch (const std::exception& e) {  // a JSON type error in a field not checked above
        return fail(400, "retrace_event_error", e.what());
    }
}

// Applies one checked message to the run; its answer.
Json EventApi::apply(const EventMessage& m, const RunTarget& run) const {
    // Once it is numbered (or refused), a request waiting for it may go on.
    struct Received {
        const EventMessage& m;
        IssueLedger* issues;
        ~Received() {
            if (issues && !m.ledger.empty() && m.issue > 0) issues->received(m.ledger, m.issue);
        }
    } received{m, run.issues};
    if (m.phase == EventMessage::end) {
        auto open = run.spans->end(m.span);
        if (!open) return {{"error", "span " + m.span + " is not open"}};
        auto& [e, blobs] = *open;
        e.end_ns = m.end_ns;
        std::string output = m_redactor.redact(m.output.value_or("null"));
        if (m.output) {
            e.response = core::Digest::of(output).to_string();
            blobs.push_back({e.response, std::move(output)});
        }
        auto record = trace::SdkEvent::from_attrs(e.attrs);
        record.error = m.error;
        e.attrs = record.to_attrs();
        Json answer = {{"id", e.seq}, {"digest", record.match}};
        (void)run.writer->complete(std::move(e), std::move(blobs));
        return answer;
    }
    core::Event e;
    e.kind = m.kind;
    e.name = m.name;
    e.start_ns = m.start_ns;
    e.end_ns = m.end_ns;
    e.parent = m.parent.empty() ? 0 : run.spans->seq_of(m.parent);
    std::string match =
        core::match_digest(m_secret, event_match_request(m.kind, m.name, m.input), {});
    trace::SdkEvent record;
    record.match = match;
    record.span = m.span;
    record.pid = m.pid;
    record.group = m.group;
    std::vector<store::Blob> blobs;
    std::string input = m_redactor.redact(m.input);
    record.input_redacted = input != m.input;
    e.attrs = record.to_attrs();
    e.request = core::Digest::of(input).to_string();
    blobs.push_back({e.request, std::move(input)});
    if (run.facts) {
        if (m.kind == core::EventKind::tool && !m.schema.is_null())
            run.facts->declare_tool(m.name, m.schema);
        if (m.kind == core::EventKind::retrieval && !m.source.is_null())
            run.facts->declare_source(m.name, m.source);
    }
    if (m.phase == EventMessage::start) {
        if (!run.spans->open(m.span, e, std::move(blobs)))
            return {{"error", "span " + m.span + " was already started"}};
        return {{"id", run.spans->seq_of(m.span)}, {"digest", match}};
    }
    e.seq = m.span.empty() ? run.writer->next_seq() : run.spans->seq_of(m.span);
    std::string output = m_redactor.redact(m.output.value_or("null"));
    if (m.output) {
        e.response = core::Digest::of(output).to_string();
        blobs.push_back({e.response, std::move(output)});
    }
    record.error = m.error;
    e.attrs = record.to_attrs();
    if (!m.span.empty() && !run.spans->finish(m.span))
        return {{"error", "span " + m.span + " was already started"}};
    Json answer = {{"id", e.seq}, {"digest", match}};
    (void)run.writer->complete(std::move(e), std::move(blobs));
    return answer;
}

EventApiReply EventApi::record_events(std::string_view body, const RunTarget& run) const {
    // Every message is checked before any is applied: bad input records
    // nothing. The body is read twice, to check and then to apply, one
    // message at a time: a large batch is never held as a tree.
    std::optional<Status> bad;
    auto check = [&](std::optional<std::size_t> i, Json&& j) -> Status {
        auto m = parse_message(j);
        if (m) return Status::ok();
        bad = error(
            ErrorCode::invalid_input,
            (i ? "event " + std::to_string(*i) + ": " : std::string()) + m.status().message());
        return *bad;
    };
    auto checked = core::parse_json_elements(body, check);
    if (bad) return fail(400, "retrace_event_error", bad->message());
    if (!checked)
        return fail(400, "retrace_event_error", "body is not JSON: " + checked.status().message());
    Answers answers;
    auto applied = core::parse_json_elements(body, [&](std::optional<std::size_t>, Json&& j) {
        auto m = parse_message(j);
        if (m) answers.push_back(apply(*m, run));
        return m.status();
    });
    if (!applied) return fail(500, "retrace_event_error", applied.status().message());
    return {200, answers.text(*checked)};
}

EventApiReply EventApi::replay_event(std::string_view body, const RunTarget& run) const {
    if (!m_replay)
        return fail(409, "retrace_not_replaying",
                    "this run is being recorded, not replayed (RETRACE_MODE=record)");
    auto parsed = core::parse_json_strict(body);
    if (!parsed)
        return fail(400, "retrace_event_error", "body is not JSON: " + parsed.status().message());
    if (!parsed->is_object()) return fail(400, "retrace_event_error", "body must be a JSON object");
    EventMessage m;
    if (Status s = common_fields(*parsed, m, true); !s.is_ok())
        return fail(400, "retrace_event_error", s.message());
    auto input = canonical_field(*parsed, "input");
    if (!input) return fail(400, "retrace_event_error", input.status().message());
    m.input = std::move(input).value();
    if (m.kind == core::EventKind::tool && parsed->contains("schema") && run.facts)
        run.facts->declare_tool(m.name, (*parsed)["schema"]);
    if (m.kind == core::EventKind::retrieval && parsed->contains("source") && run.facts)
        run.facts->declare_source(m.name, (*parsed)["source"]);

    // A span id names one event: a second use records nothing.
    if (!m.span.empty() && run.spans->opened(m.span))
        return fail(400, "retrace_event_error", "span " + m.span + " was already started");
    std::string digest = m_replay->event_digest(m.kind, m.name, m.input);
    core::Event e;
    e.kind = m.kind;
    e.name = m.name;
    e.start_ns = m.start_ns;
    e.parent = m.parent.empty() ? 0 : run.spans->seq_of(m.parent);
    trace::SdkEvent record;
    record.match = digest;
    record.span = m.span;
    record.pid = m.pid;
    std::string input_text = m_redactor.redact(m.input);
    record.input_redacted = input_text != m.input;
    e.request = core::Digest::of(input_text).to_string();
    std::vector<store::Blob> blobs = {{e.request, std::move(input_text)}};
    auto number = [&] {
        return m.span.empty() ? run.writer->next_seq() : run.spans->seq_of(m.span);
    };

    using Action = replay::EventAnswer::Action;
    replay::EventAnswer answered =
        m_replay->answer_event(m.kind, m.name, m.input, digest, !m.span.empty());
    if (answered.action == Action::recorded) {
        const RecordedEvent* x = answered.recorded;
        e.seq = number();
        e.end_ns = core::unix_now_ns();
        record.replayed_from = x->seq;
        Json answer = {{"id", e.seq}, {"replayed_from", x->seq}};
        if (!x->output.empty()) {
            e.response = core::Digest::of(x->output).to_string();
            blobs.push_back({e.response, x->output});
            auto output = core::parse_json_strict(x->output);
            answer["output"] = output ? *output : Json(x->output);
        } else {
            answer["output"] = nullptr;
        }
        if (!x->error.is_null()) answer["error"] = record.error = x->error;
        e.attrs = record.to_attrs();
        if (!m.span.empty()) (void)run.spans->finish(m.span);
        (void)run.writer->complete(std::move(e), std::move(blobs));
        return {200, answer.dump()};
    }
    if (answered.action == Action::live) {
        // The program runs the real call and ends the span with its result.
        record.live = true;
        e.attrs = record.to_attrs();
        run.spans->open(m.span, e, std::move(blobs));
        return {200, Json{{"id", run.spans->seq_of(m.span)}, {"live", true}}.dump()};
    }
    const Divergence& d = *answered.divergence;
    Json divergence = d.to_attrs();
    e.seq = number();
    e.end_ns = core::unix_now_ns();
    record.divergence = d;
    e.attrs = record.to_attrs();
    if (!m.span.empty()) (void)run.spans->finish(m.span);
    (void)run.writer->complete(std::move(e), std::move(blobs));
    if (m_shield)
        return {409,
                Json{{"error",
                      {{"type", "retrace_divergence"},
                       {"message",
                        "retrace: no recorded answer matches this event (the "
                        "difference is in the gateway's output and in run " +
                            run.writer->run_id() + ")"}}}}
                    .dump(),
                "run " + run.writer->run_id() + ": " + d.message()};
    return {409, Json{{"error", {{"type", "retrace_divergence"}, {"message", d.message()}}},
                      {"divergence", divergence}}
                     .dump()};
}

}  // namespace retrace::proxy
