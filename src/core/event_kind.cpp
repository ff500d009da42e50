#include "retrace/core/event_kind.hpp"

#include <array>
#include <utility>

namespace retrace::core {

namespace {

constexpr std::array<std::pair<EventKind, std::string_view>, 9> k_names = {{
    {EventKind::llm, "llm"},
    {EventKind::http, "http"},
    {EventKind::tool, "tool"},
    {EventKind::retrieval, "retrieval"},
    {EventKind::clock, "clock"},
    {EventKind::random, "random"},
    {EventKind::checkpoint, "checkpoint"},
    {EventKind::custom, "custom"},
    {EventKind::process, "process"},
}};

}  // namespace

std::string_view to_string(EventKind kind) {
    for (const auto& [k, name] : k_names)
        if (k == kind) return name;
    return "custom";  // (unreachable: every enumerator is named above)
}

std::optional<EventKind> parse_event_kind(std::string_view text) {
    for (const auto& [k, name] : k_names)
        if (name == text) return k;
    return std::nullopt;
}

bool is_exchange(EventKind kind) {
    return kind == EventKind::llm || kind == EventKind::http;
}

bool is_sdk_event(EventKind kind) {
    return !is_exchange(kind) && kind != EventKind::process;
}

EventKind exchange_kind(std::string_view route) {
    return route == "openai" || route == "anthropic" ? EventKind::llm : EventKind::http;
}

}  // namespace retrace::core
