// The exchange, process, SDK event and divergence formats (trace/): what the proxy stores is
// what every reader gets back, in the shape docs/cassette.md specifies.
#include <gtest/gtest.h>

#include "retrace/trace/divergence.hpp"
#include "retrace/trace/exchange.hpp"
#include "retrace/trace/process.hpp"
#include "retrace/trace/sdk_event.hpp"

namespace retrace::trace {
namespace {

using core::Json;

Exchange recorded_exchange() {
    Exchange x;
    x.route = "openai";
    x.method = "POST";
    x.path = "/chat/completions";
    x.request_headers = {{"authorization", "[REDACTED]"}, {"content-type", "application/json"}};
    x.match = "hmac-sha256:00ff";
    x.status = 200;
    x.response_headers = {{"content-type", "text/event-stream"}};
    x.chunks = {{120, 40}, {150300, 38}};
    return x;
}

// Through the store: canonical text, parsed back.
Json stored(const Json& attrs) {
    auto text = core::canonicalize(attrs);
    EXPECT_TRUE(text.is_ok());
    auto back = core::parse_json_strict(*text);
    EXPECT_TRUE(back.is_ok());
    return *back;
}

TEST(TraceFormat, ARecordedExchangeHasTheDocumentedAttributesAndNoMore) {
    Json a = recorded_exchange().to_attrs();
    std::vector<std::string> keys;
    for (const auto& [k, v] : a.items()) keys.push_back(k);
    EXPECT_EQ(keys,
              (std::vector<std::string>{"chunks", "match", "method", "path", "request_headers",
                                        "response_headers", "route", "status", "truncated"}));
    EXPECT_EQ(a["chunks"], Json::parse("[[120,40],[150300,38]]"));
    EXPECT_EQ(a["truncated"], false);
}

TEST(TraceFormat, AnExchangeComesBackAsItWasStored) {
    Exchange x = recorded_exchange();
    x.query = "?api-version=[REDACTED]";
    x.request_redacted = true;
    x.truncated = true;
    x.replayed_from = 7;
    x.live = true;
    x.header_us = 950;
    x.received_ns_before = 1250300;
    x.client_cancelled = ClientCancel{301200, 1};
    Divergence d;
    d.reason = "no recorded request matches";
    d.nearest = 3;
    d.diff = {{"$.messages[0].content", "\"hi\"", "\"hello\""}};
    x.divergence = d;
    Exchange y = Exchange::from_attrs(stored(x.to_attrs()));
    EXPECT_EQ(y.to_attrs(), x.to_attrs());
    EXPECT_EQ(y.chunks, x.chunks);
    EXPECT_EQ(y.replayed_from, 7);
    EXPECT_EQ(y.header_us, 950);
    EXPECT_EQ(y.received_ns_before, 1250300);
    ASSERT_TRUE(y.client_cancelled);
    EXPECT_EQ(y.client_cancelled->at_us, 301200);
    EXPECT_EQ(y.client_cancelled->chunks_sent, 1u);
    ASSERT_TRUE(y.divergence);
    EXPECT_EQ(y.divergence->nearest, 3);
    EXPECT_EQ(y.divergence->diff.size(), 1u);
    EXPECT_EQ(y.divergence->diff[0].after, "\"hello\"");
}

TEST(TraceFormat, MissingOrMistypedAttributesKeepTheirDefaults) {
    Json a = {{"route", 5},
              {"status", "200"},
              {"chunks", Json::parse("[[1,2],[3],\"x\",[4,-1],[5,6]]")},
              {"truncated", "yes"},
              {"replayed_from", "7"},
              {"header_us", 1.5},
              {"divergence", "no"}};
    Exchange x = Exchange::from_attrs(a);
    EXPECT_EQ(x.route, "");
    EXPECT_EQ(x.status, 0);
    EXPECT_EQ(x.chunks, (std::vector<std::pair<long long, std::size_t>>{{1, 2}, {5, 6}}));
    EXPECT_FALSE(x.truncated);
    EXPECT_FALSE(x.replayed_from);
    EXPECT_FALSE(x.header_us);
    EXPECT_FALSE(x.client_cancelled);
    EXPECT_FALSE(x.divergence);
    EXPECT_EQ(Exchange::from_attrs(Json()).to_attrs(), Exchange{}.to_attrs());
    Exchange c =
        Exchange::from_attrs({{"client_cancelled", {{"at_us", "9"}, {"chunks_sent", -2}}}});
    ASSERT_TRUE(c.client_cancelled);
    EXPECT_EQ(c.client_cancelled->at_us, 0);
    EXPECT_EQ(c.client_cancelled->chunks_sent, 0u);
}

TEST(TraceFormat, AClientThatGaveUpIsStoredWithWhenAndHowFarItRead) {
    Exchange x = recorded_exchange();
    x.header_us = 90;
    x.client_cancelled = ClientCancel{150400, 2};
    Json a = x.to_attrs();
    EXPECT_EQ(a["header_us"], 90);
    EXPECT_EQ(a["client_cancelled"], Json::parse(R"({"at_us":150400,"chunks_sent":2})"));
}

Divergence request_divergence() {
    Divergence d;
    d.request = "POST /openai/chat/completions";
    d.reason = "no recorded request matches";
    d.nearest = 2;
    d.diff = {{"$.messages[1].content", "\"a\"", "\"b\""},
              {"$.temperature", "0", "1"},
              {"$.seed", "1", "2"},
              {"$.top_p", "1", "0.5"}};
    return d;
}

TEST(TraceFormat, ADivergenceIsToldInOneLineNamingTheFirstThreeDifferences) {
    EXPECT_EQ(request_divergence().message(),
              "retrace replay diverged: POST /openai/chat/completions: no recorded request "
              "matches; nearest recorded request is #2; $.messages[1].content: \"a\" -> \"b\"; "
              "$.temperature: 0 -> 1; $.seed: 1 -> 2");
    Divergence call;
    call.of = Divergence::Of::call;
    call.request = "tool get_weather";
    call.reason = "no recorded call matches";
    call.nearest = 4;
    call.diff = {{"$.city", "\"Paris\"", "\"Rome\""}};
    call.nearest_raw = "(not told to the program)";
    EXPECT_EQ(call.message(),
              "retrace replay diverged: tool get_weather: no recorded call matches; nearest "
              "recorded call is #4; input.city: \"Paris\" -> \"Rome\"");
    Divergence raw;
    raw.request = "POST /api/upload";
    raw.reason = "no recorded request matches";
    raw.nearest_raw = "the bodies are not JSON";
    EXPECT_EQ(raw.message(),
              "retrace replay diverged: POST /api/upload: no recorded request matches; the "
              "bodies are not JSON");
}

TEST(TraceFormat, ADivergenceIsStoredReportedAndPrintedFromOneValue) {
    Divergence d = request_divergence();
    d.nearest_raw = "note";
    Json attrs = d.to_attrs();
    EXPECT_EQ(attrs["nearest"], 2);
    EXPECT_EQ(attrs["diff"][0],
              Json({{"path", "$.messages[1].content"}, {"recorded", "\"a\""}, {"now", "\"b\""}}));
    EXPECT_FALSE(attrs.contains("request"));  // the event's name says it
    Divergence back = Divergence::from_attrs(stored(attrs));
    EXPECT_EQ(back.to_attrs(), attrs);
    Json report = d.to_json();
    EXPECT_EQ(report["request"], "POST /openai/chat/completions");
    EXPECT_EQ(report["note"], "note");
    EXPECT_TRUE(Divergence{}.to_json()["nearest"].is_null());
    auto lines = d.report_lines();
    ASSERT_EQ(lines.size(), 6u);
    EXPECT_EQ(lines[0],
              "POST /openai/chat/completions: no recorded request matches (nearest "
              "recorded: #2)");
    EXPECT_EQ(lines[1], "  $.messages[1].content: \"a\" -> \"b\"");
    EXPECT_EQ(lines[5], "  note");
}

TEST(TraceFormat, AProcessEventHoldsTheCommandAndHowItEnded) {
    ProcessRecord p;
    p.argv = {"python3", "agent.py"};
    p.exit_code = 1;
    p.stdout_digest = "sha256:aa";
    p.stderr_digest = "sha256:bb";
    p.stdout_bytes = 12;
    core::Event e = p.to_event(1, "python3", 10, 20);
    EXPECT_EQ(e.kind, core::EventKind::process);
    EXPECT_EQ(e.seq, 1);
    std::vector<std::string> keys;
    for (const auto& [k, v] : e.attrs.items()) keys.push_back(k);
    EXPECT_EQ(keys, (std::vector<std::string>{"argv", "exit_code", "signal", "stderr",
                                              "stderr_bytes", "stdout", "stdout_bytes"}));
    ProcessRecord back = ProcessRecord::from_attrs(stored(e.attrs));
    EXPECT_EQ(back.to_attrs(), e.attrs);
    EXPECT_EQ(back.exit_code, 1);
    EXPECT_FALSE(back.determinism);

    p.determinism = Json::array({{{"stream", "s-1"}}});
    EXPECT_EQ(ProcessRecord::from_attrs(stored(p.to_attrs())).determinism, p.determinism);
    p.layout = "fixed";
    EXPECT_EQ(ProcessRecord::from_attrs(stored(p.to_attrs())).layout, "fixed");
    // Lenient: a damaged event keeps the defaults.
    ProcessRecord damaged = ProcessRecord::from_attrs(
        {{"argv", {"a", 5, "b"}}, {"exit_code", "1"}, {"stdout_bytes", -4}});
    EXPECT_EQ(damaged.argv, (std::vector<std::string>{"a", "b"}));
    EXPECT_FALSE(damaged.exit_code);
    EXPECT_EQ(damaged.stdout_bytes, 0u);
}

TEST(TraceFormat, AnSdkEventStoresOnlyWhatIsSet) {
    SdkEvent plain;
    plain.match = "hmac-sha256:01";
    EXPECT_EQ(plain.to_attrs(), Json({{"match", "hmac-sha256:01"}}));

    SdkEvent full = plain;
    full.span = "00f067aa0ba902b7";
    full.pid = 4242;
    full.input_redacted = true;
    full.error = {{"type", "TimeoutError"}, {"message", "slow"}};
    full.replayed_from = 3;
    full.divergence = request_divergence();
    full.observed = true;
    full.otel = {{"trace_id", "5b8efff798038103d269b633813fc60c"}, {"kind", 1}};
    SdkEvent back = SdkEvent::from_attrs(stored(full.to_attrs()));
    EXPECT_TRUE(back.observed);
    EXPECT_EQ(back.otel["kind"], 1);
    EXPECT_EQ(back.to_attrs(), full.to_attrs());
    EXPECT_EQ(back.pid, 4242);
    EXPECT_EQ(back.error["type"], "TimeoutError");
    ASSERT_TRUE(back.divergence);
    EXPECT_EQ(back.divergence->nearest, 2);

    SdkEvent damaged = SdkEvent::from_attrs({{"group", "yes"},
                                             {"pid", "12"},
                                             {"replayed_from", 1.5},
                                             {"divergence", 3},
                                             {"observed", 1},
                                             {"otel", "x"}});
    EXPECT_FALSE(damaged.observed);
    EXPECT_TRUE(damaged.otel.is_null());
    EXPECT_FALSE(damaged.group);
    EXPECT_FALSE(damaged.pid);
    EXPECT_FALSE(damaged.replayed_from);
    EXPECT_FALSE(damaged.divergence);
    EXPECT_EQ(SdkEvent::from_attrs(Json()).to_attrs(), Json::object());
}

}  // namespace
}  // namespace retrace::trace
