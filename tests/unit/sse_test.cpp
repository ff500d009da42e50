#include <gtest/gtest.h>

#include "retrace/core/sse.hpp"

using retrace::core::looks_like_sse;
using retrace::core::parse_sse;

TEST(Sse, OpenAiChunksAndDone) {
    auto events = parse_sse("data: {\"a\":1}\n\ndata: {\"a\":2}\n\ndata: [DONE]\n\n");
    ASSERT_EQ(events.size(), 3u);
    EXPECT_EQ(events[0].data, "{\"a\":1}");
    EXPECT_EQ(events[2].data, "[DONE]");
    EXPECT_EQ(events[0].event, "");
}

TEST(Sse, NamedEventsCrLfMultilineAndComments) {
    auto events = parse_sse(
        ": ping\r\nevent: message_start\r\ndata: {\"x\":\r\ndata: 1}\r\n\r\n"
        "event: ping\r\n\r\n");
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].event, "message_start");
    EXPECT_EQ(events[0].data, "{\"x\":\n1}");
    EXPECT_EQ(events[1].event, "ping");
    EXPECT_EQ(events[1].data, "");
}

TEST(Sse, CutStreamKeepsWhatArrived) {
    auto events = parse_sse("data: one\n\ndata: tw");
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[1].data, "tw");
    EXPECT_TRUE(parse_sse("").empty());
    EXPECT_TRUE(parse_sse("\n\n\n").empty());
}

TEST(Sse, TellsStreamsFromJson) {
    EXPECT_TRUE(looks_like_sse("text/event-stream; charset=utf-8", "{}"));
    EXPECT_FALSE(looks_like_sse("application/json", "data: x"));
    EXPECT_TRUE(looks_like_sse("", "\ndata: x\n\n"));
    EXPECT_TRUE(looks_like_sse("", "event: a\ndata: x\n\n"));
    EXPECT_FALSE(looks_like_sse("", "{\"data\": 1}"));
}
