// The kinds of a run's events, the one list of them (DESIGN.md, "event").
// An event's kind is part of what the chain hashes, as its text; everywhere
// else it is this enum, so a kind is never a string compared by hand.
#pragma once

#include <optional>
#include <string_view>

namespace retrace::core {

enum class EventKind {
    llm,         // a model exchange (the openai and anthropic routes)
    http,        // any other HTTP exchange (a --route)
    tool,        // SDK events: a tool call,
    retrieval,   //   a retrieval result,
    clock,       //   a clock read (retrace.now()),
    random,      //   a random draw (retrace.random()),
    checkpoint,  //   a checkpoint of agent state,
    custom,      //   anything else, and spans that only group others
    process,     // the recorded command: argv, exit code, stdout, stderr
};

// The kind's text as stored and hashed: "llm", "tool", ...
std::string_view to_string(EventKind kind);
// The kind a text names, or nullopt for none.
std::optional<EventKind> parse_event_kind(std::string_view text);

// llm and http: a recorded HTTP exchange (trace/exchange.hpp).
bool is_exchange(EventKind kind);
// What the SDKs record through the event API (docs/event-api.md).
bool is_sdk_event(EventKind kind);
// The kind of an exchange through a proxy route: llm for the model
// providers' routes, http for the rest.
EventKind exchange_kind(std::string_view route);

}  // namespace retrace::core
