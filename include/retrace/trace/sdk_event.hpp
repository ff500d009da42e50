// An SDK event (tool, retrieval, clock, random, checkpoint, custom) as the event API
// stores it: what an event's attributes hold besides its input and output
// blobs. The event API writes it; the cassette, show and the span table
// read it through from_attrs. docs/event-api.md specifies it.
#pragma once

#include <optional>
#include <string>

#include "retrace/core/canonical_json.hpp"
#include "retrace/trace/divergence.hpp"

namespace retrace::trace {

struct SdkEvent {
    std::string match;             // the match digest of (kind, name, input)
    std::string span;              // the SDK's span id, when it gave one
    std::optional<long long> pid;  // the process that sent it
    bool group = false;            // a grouping span (retrace.span): no input of its own
    bool input_redacted = false;   // redaction changed the stored input
    core::Json error;              // what the call raised ({type, message}), or null
    bool unfinished = false;       // the program exited inside it
    // In a replay's own run: the recorded event that answered, or that the
    // program ran the real call, or why the recording could not answer.
    std::optional<long long> replayed_from;
    bool live = false;
    std::optional<Divergence> divergence;
    // An OpenTelemetry span the program sent (OTLP, docs/interop.md):
    // observed as it happened, never an answer replay gives. otel holds
    // what the span said besides its attributes (the event's input):
    // {trace_id, kind, status, scope}.
    bool observed = false;
    core::Json otel;  // null unless observed

    core::Json to_attrs() const;
    // Lenient: a missing or mistyped field keeps its default.
    static SdkEvent from_attrs(const core::Json& attrs);
};

}  // namespace retrace::trace
