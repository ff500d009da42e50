// A recorded HTTP exchange: what an `llm` or `http` event holds in its
// attributes (docs/cassette.md specifies them; this is that specification
// in code). The proxy writes it, and every reader (the cassette, show,
// diff, doctor, the provider probe) reads it through from_attrs, so no
// reader spells an attribute's name.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "retrace/core/canonical_json.hpp"
#include "retrace/trace/divergence.hpp"

namespace retrace::trace {

// A client that left before its answer was complete (it aborted, or its
// timeout fired): when, and how many of the answer's chunks it had been
// sent by then. The proxy stops reading the upstream when it notices.
struct ClientCancel {
    long long at_us = 0;          // offset from the request's start
    std::size_t chunks_sent = 0;  // entries of Exchange::chunks written to it
};

struct Exchange {
    std::string route;   // "openai", "anthropic", or a --route name
    std::string method;  // "POST"
    std::string path;    // after the route prefix: "/chat/completions"
    std::string query;   // "" or "?...", stored redacted
    // Lower-case names; credentials "[REDACTED]", other values redacted.
    core::Json request_headers = core::Json::object();
    std::string match;              // the request's match digest (core/matching.hpp)
    bool request_redacted = false;  // redaction changed the stored request body
    int status = 0;                 // as the client got it; 0 when it got no answer
    core::Json response_headers = core::Json::object();
    // The response body as it arrived: [offset from the request's start in
    // microseconds, bytes] per frame of a stream, per read otherwise.
    std::vector<std::pair<long long, std::size_t>> chunks;
    bool truncated = false;  // the upstream broke off the body
    // When the response header arrived, offset from the request's start
    // in microseconds (unset in recordings made before it was recorded).
    std::optional<long long> header_us;
    // When the request's first byte reached this machine (the kernel's
    // receive time, net/receive_time.hpp): ns before the exchange's start.
    // It keeps the order in which the program wrote requests on several
    // connections, which the proxy's I/O threads may take up in another
    // order. (An offset: a time since the epoch in ns is past what a JSON
    // number holds exactly.) Unset when the kernel gave none, and in older
    // recordings.
    std::optional<long long> received_ns_before;
    std::optional<ClientCancel> client_cancelled;  // the client gave up
    // In a replay's own run: the recorded event that answered, or that it
    // was sent upstream, or why the recording could not answer.
    std::optional<long long> replayed_from;
    bool live = false;
    std::optional<Divergence> divergence;

    // The event's attributes; optional parts only when set, as stored.
    core::Json to_attrs() const;
    // Back from stored attributes. Lenient, as readers of old or damaged
    // runs must be: a missing or mistyped field keeps its default.
    static Exchange from_attrs(const core::Json& attrs);
};

}  // namespace retrace::trace
