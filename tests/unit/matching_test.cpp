#include <gtest/gtest.h>

#include "retrace/core/matching.hpp"

using namespace retrace::core;

namespace {

MatchRequest chat(std::string_view body) {
    return MatchRequest{"POST", "openai", "/chat/completions", "", {}, body};
}

const std::string k_secret(64, 'a');

}  // namespace

TEST(Matching, KeyOrderAndNumberSpellingDoNotMatter) {
    auto a = match_digest(k_secret, chat(R"({"model":"m","temperature":1.0,"n":1})"), {});
    auto b = match_digest(k_secret, chat(R"({ "n": 1, "temperature": 1, "model": "m" })"), {});
    EXPECT_EQ(a, b);
    EXPECT_EQ(a.rfind("hmac-sha256:", 0), 0u);
    EXPECT_NE(a, match_digest(k_secret, chat(R"({"model":"m","temperature":0.5,"n":1})"), {}));
}

TEST(Matching, EveryPartCounts) {
    auto base = chat(R"({"model":"m"})");
    auto d = match_digest(k_secret, base, {});
    auto other = base;
    other.method = "PUT";
    EXPECT_NE(d, match_digest(k_secret, other, {}));
    other = base;
    other.route = "anthropic";
    EXPECT_NE(d, match_digest(k_secret, other, {}));
    other = base;
    other.path = "/responses";
    EXPECT_NE(d, match_digest(k_secret, other, {}));
    other = base;
    other.query = "?x=1";
    EXPECT_NE(d, match_digest(k_secret, other, {}));
    other = base;
    other.headers = {{"anthropic-version", "2023-06-01"}};
    EXPECT_NE(d, match_digest(k_secret, other, {}));
    // Headers that do not change the meaning (and credentials) do not count.
    other.headers = {
        {"authorization", "Bearer x"}, {"user-agent", "y"}, {"x-stainless-retry-count", "1"}};
    EXPECT_EQ(d, match_digest(k_secret, other, {}));
    // Keyed: another store's secret gives another digest.
    EXPECT_NE(d, match_digest(std::string(64, 'b'), base, {}));
}

TEST(Matching, NonJsonBodiesMatchByBytes) {
    auto d = match_digest(k_secret, chat("not json {"), {});
    EXPECT_EQ(d, match_digest(k_secret, chat("not json {"), {}));
    EXPECT_NE(d, match_digest(k_secret, chat("not json  {"), {}));
    EXPECT_NE(match_text(chat("{\"a\":1}"), {}).find("json "), std::string::npos);
    EXPECT_NE(match_text(chat("{\"a\":1,\"a\":2}"), {}).find("raw "), std::string::npos);
}

TEST(Matching, IgnoredPathsDropVolatileFields) {
    auto ignore = std::vector{JsonPath::parse("$.metadata.request_time").value(),
                              JsonPath::parse("$.messages[*].id").value()};
    auto a =
        chat(R"({"model":"m","metadata":{"request_time":1,"k":2},"messages":[{"id":"x","c":1}]})");
    auto b =
        chat(R"({"model":"m","metadata":{"request_time":9,"k":2},"messages":[{"id":"y","c":1}]})");
    EXPECT_NE(match_digest(k_secret, a, {}), match_digest(k_secret, b, {}));
    EXPECT_EQ(match_digest(k_secret, a, ignore), match_digest(k_secret, b, ignore));
}

TEST(JsonPathTest, ParsesAndErases) {
    Json doc = Json::parse(R"({"a":{"b":1,"c":2},"l":[{"x":1},{"x":2,"y":3}],"odd key":4})");
    EXPECT_EQ(JsonPath::parse("$.a.b").value().erase_from(doc), 1u);
    EXPECT_EQ(JsonPath::parse("$.l[*].x").value().erase_from(doc), 2u);
    EXPECT_EQ(JsonPath::parse("$[\"odd key\"]").value().erase_from(doc), 1u);
    EXPECT_EQ(JsonPath::parse("$.l[1]").value().erase_from(doc), 1u);
    EXPECT_EQ(JsonPath::parse("$.nothing.here").value().erase_from(doc), 0u);
    EXPECT_EQ(doc, Json::parse(R"({"a":{"c":2},"l":[{}]})"));
    for (auto bad : {"", "a.b", "$", "$.", "$[", "$[x]", "$.a..b", "$a"})
        EXPECT_FALSE(JsonPath::parse(bad)) << bad;
}

TEST(JsonDiff, NamesPathsOfChangedLeaves) {
    Json a = Json::parse(R"({"model":"m","messages":[{"role":"user","content":"hi"}],"t":0})");
    Json b = Json::parse(
        R"({"model":"m","messages":[{"role":"user","content":"hello"},{"role":"x"}],"seed":1})");
    auto d = json_diff(a, b);
    ASSERT_EQ(d.size(), 4u);
    EXPECT_EQ(d[0].path, "$.messages[0].content");
    EXPECT_EQ(d[0].before, "\"hi\"");
    EXPECT_EQ(d[0].after, "\"hello\"");
    EXPECT_EQ(d[1].path, "$.messages[1]");
    EXPECT_EQ(d[1].before, "(absent)");
    EXPECT_EQ(d[2].path, "$.seed");
    EXPECT_EQ(d[3].path, "$.t");
    EXPECT_EQ(d[3].after, "(absent)");
    EXPECT_TRUE(json_diff(a, a).empty());
    EXPECT_EQ(json_diff(Json::parse(R"({"a b":1})"), Json::parse(R"({"a b":2})"))[0].path,
              "$[\"a b\"]");
    EXPECT_EQ(json_diff(a, b, 1).size(), 1u);
}

TEST(JsonDiff, ClipKeepsUtf8Whole) {
    EXPECT_EQ(clip("short"), "short");
    std::string s = std::string(76, 'x') + "ééé";
    auto c = clip(s, 80);
    EXPECT_EQ(c.substr(c.size() - 3), "...");
    EXPECT_LE(c.size(), 80u);
}

TEST(JsonDiff, LongStringsShowTheChangeInContext) {
    std::string head(100, 'h'), tail(100, 't');
    Json a = {{"s", head + "be brief" + tail}};
    Json b = {{"s", head + "be very brief" + tail}};
    auto d = json_diff(a, b);
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].before,
              "\"..." + std::string(17, 'h') + "be brief" + std::string(15, 't') + "...\"");
    EXPECT_EQ(d[0].after,
              "\"..." + std::string(17, 'h') + "be very brief" + std::string(15, 't') + "...\"");
    // Short strings are shown whole.
    EXPECT_EQ(json_diff(Json{{"s", "hi"}}, Json{{"s", "hello"}})[0].after, "\"hello\"");
    // Multi-byte characters are never split.
    Json c = {{"s", std::string(70, 'x') + "é" + "abc"}},
         e = {{"s", std::string(70, 'x') + "è" + "abc"}};
    auto u = json_diff(c, e);
    EXPECT_NE(u[0].before.find("é"), std::string::npos);
    EXPECT_NE(u[0].after.find("è"), std::string::npos);
}
