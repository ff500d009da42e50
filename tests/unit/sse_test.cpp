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

// Found by sse_fuzz: a `data` line with no value made an event with neither
// data nor a name, which the format says is dropped.
TEST(Sse, AnEventOfEmptyDataAndNoNameIsDropped) {
    auto events = parse_sse(
        "data\n\ndata:\n\ndata: \n\nevent: ping\ndata:\n\ndata: x\n\ndata:\ndata:\n\ndata");
    ASSERT_EQ(events.size(), 3u);
    EXPECT_EQ(events[0].event, "ping");  // (a name keeps it)
    EXPECT_EQ(events[0].data, "");
    EXPECT_EQ(events[1].data, "x");
    EXPECT_EQ(events[2].data, "\n");  // (two empty lines of data are one line end)
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

TEST(Sse, EventViewsAgreeWithParsedEventsAndPointIntoTheBody) {
    const std::string body =
        "event: a\ndata: one\ndata: two\n\ndata: three\n\n: c\nid: 7\ndata: x\ndata: y\ndata: z\n\n"
        "data: last";
    std::vector<std::string> seen;
    std::size_t in_body = 0;
    retrace::core::for_each_sse(body, [&](const retrace::core::SseEventView& e) {
        seen.push_back(std::string(e.event) + "|" + std::string(e.data) + "|" + std::string(e.id));
        if (e.data.data() >= body.data() && e.data.data() < body.data() + body.size()) ++in_body;
    });
    std::vector<std::string> parsed;
    for (const auto& e : parse_sse(body)) parsed.push_back(e.event + "|" + e.data + "|" + e.id);
    EXPECT_EQ(seen, (std::vector<std::string>{"a|one\ntwo|", "|three|", "|x\ny\nz|7", "|last|"}));
    EXPECT_EQ(seen, parsed);
    EXPECT_EQ(in_body, 2u);  // the single-line ones; joined data is a copy
}

TEST(Sse, EveryLineEndingMixedInOneStream) {
    // "\r" alone, "\n" alone and "\r\n" each end a line; "\n\r" is two line
    // ends (an empty line: the event is dispatched).
    auto events = parse_sse(
        "data: a\rdata: b\ndata: c\r\n\r"
        "event: e\n\rdata: d\r\r"
        "data: long line with no carriage return before its line feed\n\n"
        "data: cut\r");
    ASSERT_EQ(events.size(), 5u);
    EXPECT_EQ(events[0].data, "a\nb\nc");
    EXPECT_EQ(events[1].event, "e");
    EXPECT_EQ(events[1].data, "");
    EXPECT_EQ(events[2].data, "d");
    EXPECT_EQ(events[3].data, "long line with no carriage return before its line feed");
    EXPECT_EQ(events[4].data, "cut");
}
