// The event API: what a run does besides HTTP (tool calls, retrieval, clock
// reads, random draws, checkpoints, spans), recorded and replayed through
// the proxy's own loopback server under /_retrace/v1/. The SDKs are its
// clients; docs/event-api.md is its reference.
//
//   POST /_retrace/v1/events   record events (one object or an array, in order)
//   POST /_retrace/v1/replay   during replay: the recorded answer of the next
//                              matching event, or a divergence
//
// Spans: the SDKs name spans with W3C span ids (16 hex digits) of their own,
// so a program never waits for the recorder to learn an event's number. The
// span table maps each id to an event number, given on its first mention:
// the span's start, a child naming it as parent, or a model request whose
// `traceparent` header names it. Parents therefore always get lower numbers
// than their children.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "retrace/core/redact.hpp"
#include "retrace/proxy/proxy.hpp"
#include "retrace/replay/cassette.hpp"
#include "retrace/store/run_writer.hpp"

namespace retrace::proxy {

// The SDK spans of one run: their event numbers and the ones still open.
class SpanTable {
  public:
    explicit SpanTable(store::RunWriter& writer) : m_writer(writer) {}

    // The event number of span id, given on its first mention.
    long long seq_of(const std::string& id);
    // Opens span id with its event (seq and parent filled in by the caller)
    // and the blobs it refers to; false when it was already opened.
    bool open(const std::string& id, core::Event event, std::vector<store::Blob> blobs);
    // Whether span id was started (or completed) already.
    bool opened(const std::string& id);
    // Marks span id as an event completed in one piece (its number taken
    // with seq_of); false when it was already opened.
    bool finish(const std::string& id);
    // Takes the open event of span id, to be completed; nullopt when the
    // span is unknown or already ended.
    std::optional<std::pair<core::Event, std::vector<store::Blob>>> end(const std::string& id);
    // The parent a model request gets: the span its traceparent header names
    // when that span is one this run will hold (below), else the innermost
    // open grouping span when those form a single chain, else 0.
    // run_trace_id is the run's own trace (core::trace_id_of): the SDKs'
    // spans are always the run's. A span of another trace is the program's
    // own OpenTelemetry span, which arrives by OTLP after the request: it
    // counts when this table adopts foreign traces (the runs of `record` and
    // `replay`, whose programs' traces are pointed at the recorder), or when
    // a span of that trace has arrived already (the gateway's clients, who
    // may send their spans elsewhere: a span named and never sent would be
    // an event of nothing).
    long long parent_for_request(std::string_view traceparent, std::string_view run_trace_id);
    void adopt_foreign_traces() {
        std::lock_guard lock(m_mutex);
        m_adopt_foreign = true;
    }
    // A trace whose spans arrived by OTLP.
    void saw_trace(const std::string& trace_id) {
        std::lock_guard lock(m_mutex);
        m_traces.insert(trace_id);
    }
    // Completes every span still open or only mentioned, marked unfinished,
    // so the run can be sealed (the program exited inside them).
    void close_all(long long end_ns);

  private:
    struct Span {
        long long seq = 0;
        bool opened = false, ended = false;
        core::Event event;
        std::vector<store::Blob> blobs;
    };
    store::RunWriter& m_writer;
    std::mutex m_mutex;
    std::map<std::string, Span> m_spans;
    bool m_adopt_foreign = false;
    std::set<std::string> m_traces;  // trace ids seen through OTLP
};

struct EventApiReply {
    int status = 200;
    std::string body;  // JSON, or protobuf for an OTLP protobuf request
    // What was kept from the client (a shielded divergence's full report),
    // for the server's own output; empty when nothing was.
    std::string withheld;
    std::string content_type = "application/json";
};

struct EventMessage;  // one checked message (event_api.cpp)

class EventApi {
  public:
    // replay: what answers SDK calls during a replay (null while recording).
    // secret keys the match digests. shield_divergences: a divergence's
    // report, which quotes the recording, goes to `withheld` and the client
    // learns only that nothing matched (the gateway's clients, who have not
    // proved they may read the recording).
    EventApi(std::string secret, replay::AnswerSource* replay, const core::Redactor& redactor,
             bool shield_divergences = false)
        : m_secret(std::move(secret)),
          m_replay(replay),
          m_redactor(redactor),
          m_shield(shield_divergences) {}

    // Handles a request to /_retrace/<path>; never throws, never blocks on
    // I/O (it waits only for room in the run's write queue). The content
    // type and encoding matter to OTLP (/v1/traces) only.
    EventApiReply handle(std::string_view method, std::string_view path, std::string_view body,
                         const RunTarget& run, std::string_view content_type = {},
                         std::string_view content_encoding = {}) const;

  private:
    // POST /_retrace/v1/traces: an OTLP/HTTP trace export (JSON or
    // protobuf), each span an observed event of the run (otlp_ingest.cpp).
    EventApiReply ingest_otlp(std::string_view body, std::string_view content_type,
                              const RunTarget& run) const;
    EventApiReply record_events(std::string_view body, const RunTarget& run) const;
    core::Json apply(const EventMessage& m, const RunTarget& run) const;
    EventApiReply replay_event(std::string_view body, const RunTarget& run) const;

    std::string m_secret;
    replay::AnswerSource* m_replay;
    const core::Redactor& m_redactor;
    bool m_shield;
};

}  // namespace retrace::proxy
