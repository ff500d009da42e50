// Event kinds: one list, their stored text, and how they are classed.
#include <gtest/gtest.h>

#include "retrace/core/event_kind.hpp"
#include "retrace/core/identity.hpp"

namespace retrace::core {
namespace {

constexpr EventKind k_all[] = {EventKind::llm,        EventKind::http,   EventKind::tool,
                               EventKind::retrieval,  EventKind::clock,  EventKind::random,
                               EventKind::checkpoint, EventKind::custom, EventKind::process};

TEST(EventKind, EveryKindIsStoredAsItsNameAndReadBack) {
    std::vector<std::string> names;
    for (EventKind k : k_all) {
        names.emplace_back(to_string(k));
        EXPECT_EQ(parse_event_kind(to_string(k)), k);
    }
    EXPECT_EQ(names, (std::vector<std::string>{"llm", "http", "tool", "retrieval", "clock",
                                               "random", "checkpoint", "custom", "process"}));
    for (const char* unknown : {"", "LLM", "tools", "span"})
        EXPECT_FALSE(parse_event_kind(unknown)) << unknown;
}

TEST(EventKind, ExchangesSdkEventsAndTheProcessArePartsOfOneList) {
    for (EventKind k : k_all) {
        int classes = is_exchange(k) + is_sdk_event(k) + (k == EventKind::process);
        EXPECT_EQ(classes, 1) << to_string(k);
    }
    EXPECT_TRUE(is_exchange(EventKind::http));
    EXPECT_TRUE(is_sdk_event(EventKind::custom));
    EXPECT_EQ(exchange_kind("openai"), EventKind::llm);
    EXPECT_EQ(exchange_kind("anthropic"), EventKind::llm);
    EXPECT_EQ(exchange_kind("search"), EventKind::http);
}

TEST(EventKind, AnEventOfAnUnknownKindIsRefused) {
    Event e;
    e.seq = 1;
    e.kind = EventKind::tool;
    e.name = "t";
    Json j = e.to_json();
    EXPECT_EQ(j["kind"], "tool");
    ASSERT_TRUE(Event::from_json(j).is_ok());  // the control
    j["kind"] = "teleport";
    auto bad = Event::from_json(j);
    ASSERT_FALSE(bad.is_ok());
    EXPECT_EQ(bad.status().message(), "unknown event kind 'teleport'");
}

}  // namespace
}  // namespace retrace::core
