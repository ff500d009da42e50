#include "retrace/proxy/event_api.hpp"

#include <gtest/gtest.h>

#include "retrace/conditions/traffic_facts.hpp"
#include "retrace/core/run_id.hpp"
#include "retrace/interop/otlp_protobuf.hpp"
#include "retrace/trace/sdk_event.hpp"
#include "test_support.hpp"

namespace retrace::proxy {

using conditions::TrafficFacts;
using replay::Cassette;

namespace {

using core::Json;

class EventApiTest : public ::testing::Test {
  protected:
    void SetUp() override {
        auto s = store::open_sqlite_store(m_dir.path() / "store", true);
        ASSERT_TRUE(s) << s.status().message();
        m_store = std::move(s).value();
        m_secret = m_store->secret().value();
        store::RunRow row = test::incomplete_run();
        m_run_id = row.id;
        auto writer = store::RunWriter::start(*m_store, row, {});
        ASSERT_TRUE(writer) << writer.status().message();
        m_writer = std::move(writer).value();
        m_spans = std::make_unique<SpanTable>(*m_writer);
        m_facts = std::make_unique<TrafficFacts>(m_secret);
    }

    EventApiReply post(const std::string& path, const Json& body, Cassette* cassette = nullptr,
                       bool shield = false) {
        EventApi api(m_secret, cassette, m_redactor, shield);
        return api.handle("POST", path, body.dump(),
                          {m_writer.get(), m_facts.get(), m_spans.get()});
    }

    EventApiReply post_otlp(const std::string& body, const std::string& type) {
        EventApi api(m_secret, nullptr, m_redactor);
        return api.handle("POST", "/v1/traces", body,
                          {m_writer.get(), m_facts.get(), m_spans.get()}, type);
    }

    std::vector<store::EventRow> events() {
        EXPECT_TRUE(m_writer->flush().is_ok());
        return m_store->events(m_run_id).value();
    }

    std::string traceparent(const std::string& span) {
        return "00-" + core::trace_id_of(m_run_id) + "-" + span + "-01";
    }

    test::TempDir m_dir;
    std::unique_ptr<store::Store> m_store;
    std::string m_secret, m_run_id;
    std::unique_ptr<store::RunWriter> m_writer;
    std::unique_ptr<SpanTable> m_spans;
    std::unique_ptr<TrafficFacts> m_facts;
    core::Redactor m_redactor;
};

const std::string k_a = "00000000000000a1", k_b = "00000000000000b2", k_c = "00000000000000c3";

TEST_F(EventApiTest, RecordsAWholeEventWithItsInputOutputAndError) {
    auto r = post("/v1/events", {{"kind", "tool"},
                                 {"name", "weather"},
                                 {"input", {{"city", "Paris"}}},
                                 {"output", {{"t", 21}}},
                                 {"error", {{"type", "ValueError"}, {"message", "x"}}}});
    ASSERT_EQ(r.status, 200) << r.body;
    Json answer = Json::parse(r.body);
    EXPECT_EQ(answer["id"], 1);
    EXPECT_EQ(answer["digest"].get<std::string>().rfind("hmac-sha256:", 0), 0u);
    auto rows = events();
    ASSERT_EQ(rows.size(), 1u);
    const auto& e = rows[0].event;
    EXPECT_EQ(e.kind, core::EventKind::tool);
    EXPECT_EQ(e.name, "weather");
    EXPECT_EQ(m_store->get_blob(e.request).value().value(), R"({"city":"Paris"})");
    EXPECT_EQ(m_store->get_blob(e.response).value().value(), R"({"t":21})");
    EXPECT_EQ(e.attrs["error"]["type"], "ValueError");
    EXPECT_EQ(e.attrs["match"], answer["digest"]);
}

TEST_F(EventApiTest, ABadEventInABatchRecordsNothing) {
    Json batch = Json::array({{{"kind", "tool"}, {"name", "ok"}, {"input", 1}},
                              {{"kind", "tool"}, {"name", "bad"}, {"span", "nothex"}}});
    auto r = post("/v1/events", batch);
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.body.find("event 1: span ids are 16 lower-case hex digits"), std::string::npos);
    for (const Json& bad : {Json{{"kind", "llm"}, {"name", "x"}}, Json{{"name", "x"}},
                            Json{{"kind", "tool"}, {"name", ""}}, Json{{"phase", "end"}},
                            Json{{"kind", "tool"}, {"name", "x"}, {"start_ns", "yesterday"}},
                            Json{{"kind", "tool"}, {"name", "x"}, {"error", "oops"}}, Json(3)})
        EXPECT_EQ(post("/v1/events", bad).status, 400) << bad.dump();
    EXPECT_TRUE(events().empty());
}

// A batch is read twice, to check and to apply, one event at a time: a
// body that goes bad after good events records none of them.
// Found by event_api_fuzz: the 404 quoted a path that is not UTF-8, and
// writing the answer threw instead of answering.
TEST_F(EventApiTest, APathThatIsNotUtf8GetsA404InJson) {
    EventApi api(m_secret, nullptr, m_redactor);
    auto r =
        api.handle("POST", "/v1/\xff\xfe", "{}", {m_writer.get(), m_facts.get(), m_spans.get()});
    EXPECT_EQ(r.status, 404);
    auto body = core::parse_json_strict(r.body);
    ASSERT_TRUE(body) << r.body;
    EXPECT_NE((*body)["error"]["message"].get<std::string>().find("/v1/\xef\xbf\xbd\xef\xbf\xbd"),
              std::string::npos)
        << r.body;
    // The control: a path that is UTF-8 is quoted as it is.
    auto plain =
        api.handle("POST", "/v1/nothing", "{}", {m_writer.get(), m_facts.get(), m_spans.get()});
    EXPECT_EQ(plain.status, 404);
    EXPECT_NE(plain.body.find("/v1/nothing"), std::string::npos);
    EXPECT_TRUE(events().empty());
}

TEST_F(EventApiTest, ABatchThatIsNotJsonToTheEndRecordsNothing) {
    EventApi api(m_secret, nullptr, m_redactor);
    RunTarget run{m_writer.get(), m_facts.get(), m_spans.get()};
    std::string good = R"({"kind":"tool","name":"ok","input":1})";
    auto r = api.handle("POST", "/v1/events", "[" + good + "," + good + ",{\"kind\":", run);
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.body.find("body is not JSON"), std::string::npos) << r.body;
    EXPECT_TRUE(events().empty());
    // control: the same events, whole, and an empty batch
    r = api.handle("POST", "/v1/events", "[" + good + "," + good + "]", run);
    ASSERT_EQ(r.status, 200) << r.body;
    Json answers = Json::parse(r.body);
    ASSERT_EQ(answers.size(), 2u);
    EXPECT_EQ(answers[1]["id"], 2);
    EXPECT_EQ(api.handle("POST", "/v1/events", "[]", run).body, "[]");
    EXPECT_EQ(events().size(), 2u);
}

TEST_F(EventApiTest, SpansAreNumberedOnFirstMentionSoParentsComeFirst) {
    // A child names its parent before the parent's start arrives.
    post("/v1/events", {{"kind", "tool"}, {"name", "inner"}, {"parent", k_a}, {"input", 1}});
    post("/v1/events", {{"kind", "custom"},
                        {"name", "outer"},
                        {"phase", "start"},
                        {"span", k_a},
                        {"group", true}});
    post("/v1/events", {{"phase", "end"}, {"span", k_a}});
    auto rows = events();
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].event.seq, 1);
    EXPECT_EQ(rows[0].event.name, "outer");
    EXPECT_EQ(rows[1].event.parent, 1);
    // Ending it again, or ending what never started, is an error per event.
    auto again = Json::parse(post("/v1/events", {{"phase", "end"}, {"span", k_a}}).body);
    EXPECT_TRUE(again.contains("error"));
}

TEST_F(EventApiTest, AModelRequestFindsItsSpanByTraceparentOrAsTheInnermostOpenGroup) {
    post("/v1/events",
         {{"kind", "custom"}, {"name", "a"}, {"phase", "start"}, {"span", k_a}, {"group", true}});
    post("/v1/events", {{"kind", "custom"},
                        {"name", "b"},
                        {"phase", "start"},
                        {"span", k_b},
                        {"parent", k_a},
                        {"group", true}});
    EXPECT_EQ(m_spans->parent_for_request("", core::trace_id_of(m_run_id)), 2)
        << "innermost of a chain";
    // A tool's span (not a group) is never guessed: its end may be in flight.
    post("/v1/events",
         {{"kind", "tool"}, {"name", "t"}, {"phase", "start"}, {"span", k_c}, {"parent", k_b}});
    EXPECT_EQ(m_spans->parent_for_request("", core::trace_id_of(m_run_id)), 2);
    EXPECT_EQ(m_spans->parent_for_request(traceparent(k_c), core::trace_id_of(m_run_id)), 3);
    // A span of another trace (a program's own OpenTelemetry trace) counts
    // only once that trace has sent spans, or where the table adopts
    // foreign traces (record and replay); a malformed traceparent never.
    std::string other = "00-" + std::string(32, 'f') + "-" + k_c + "-01";
    EXPECT_EQ(m_spans->parent_for_request(other, core::trace_id_of(m_run_id)), 2);
    m_spans->saw_trace(std::string(32, 'f'));
    EXPECT_EQ(m_spans->parent_for_request(other, core::trace_id_of(m_run_id)), 3);
    std::string third = "00-" + std::string(32, 'e') + "-" + k_c + "-01";
    EXPECT_EQ(m_spans->parent_for_request(third, core::trace_id_of(m_run_id)), 2);
    m_spans->adopt_foreign_traces();
    EXPECT_EQ(m_spans->parent_for_request(third, core::trace_id_of(m_run_id)), 3);
    EXPECT_EQ(m_spans->parent_for_request("00-" + std::string(32, 'e') + "-" + k_c + "_01",
                                          core::trace_id_of(m_run_id)),
              2);
    // Two open branches: ambiguous, so top level.
    post("/v1/events", {{"kind", "custom"},
                        {"name", "d"},
                        {"phase", "start"},
                        {"span", "00000000000000d4"},
                        {"parent", k_a},
                        {"group", true}});
    EXPECT_EQ(m_spans->parent_for_request("", core::trace_id_of(m_run_id)), 0);
    // Spans left open are completed as unfinished, so the run can be sealed.
    m_spans->close_all(1800000000000000000);
    auto rows = events();
    ASSERT_EQ(rows.size(), 4u);
    for (const auto& row : rows) EXPECT_TRUE(row.event.attrs.value("unfinished", false));
}

TEST_F(EventApiTest, ToolSchemasAndRetrievalSourcesBecomeConditions) {
    post("/v1/events", {{"kind", "tool"}, {"name", "weather"}, {"schema", {{"name", "weather"}}}});
    post("/v1/events", {{"kind", "retrieval"}, {"name", "kb"}, {"source", {{"index", "docs"}}}});
    Json conditions = Json::object();
    m_facts->merge_into(conditions);
    EXPECT_EQ(conditions["tools"]["weather"].size(), 1u);
    EXPECT_EQ(conditions["data"]["retrieval"]["kb"], Json::array({{{"index", "docs"}}}));
}

TEST_F(EventApiTest, ReplayIsRefusedWhileRecording) {
    auto r = post("/v1/replay", {{"kind", "tool"}, {"name", "x"}});
    EXPECT_EQ(r.status, 409);
    EXPECT_NE(r.body.find("retrace_not_replaying"), std::string::npos);
    EXPECT_EQ(post("/v1/nothing", Json::object()).status, 404);
    EventApi api(m_secret, nullptr, m_redactor);
    EXPECT_EQ(api.handle("GET", "/v1/events", "", {m_writer.get(), nullptr, m_spans.get()}).status,
              405);
}

TEST_F(EventApiTest, AShieldedDivergenceKeepsTheRecordingFromTheClient) {
    post("/v1/events", {{"kind", "tool"},
                        {"name", "w"},
                        {"input", {{"city", "RECORDED-PARIS"}}},
                        {"output", "sunny"}});
    ASSERT_TRUE(m_writer->flush().is_ok());
    auto cassette = Cassette::load(*m_store, m_run_id, m_secret, {});
    ASSERT_TRUE(cassette) << cassette.status().message();
    Json near = {{"kind", "tool"}, {"name", "w"}, {"input", {{"city", "Lyon"}}}};
    // Control: unshielded, the report names the recorded input.
    auto open = post("/v1/replay", near, cassette->get());
    EXPECT_EQ(open.status, 409);
    EXPECT_NE(open.body.find("RECORDED-PARIS"), std::string::npos) << open.body;
    EXPECT_TRUE(open.withheld.empty());
    auto shielded = post("/v1/replay", near, cassette->get(), true);
    EXPECT_EQ(shielded.status, 409);
    EXPECT_EQ(shielded.body.find("RECORDED-PARIS"), std::string::npos) << shielded.body;
    EXPECT_FALSE(Json::parse(shielded.body).contains("divergence"));
    EXPECT_EQ(Json::parse(shielded.body)["error"]["type"], "retrace_divergence");
    EXPECT_NE(shielded.withheld.find("RECORDED-PARIS"), std::string::npos) << shielded.withheld;
    EXPECT_EQ(shielded.withheld.rfind("run " + m_run_id + ": ", 0), 0u);
    // (the recorded answer itself is still served: the client proved the request)
    auto same = post("/v1/replay",
                     {{"kind", "tool"}, {"name", "w"}, {"input", {{"city", "RECORDED-PARIS"}}}},
                     cassette->get(), true);
    EXPECT_EQ(Json::parse(same.body)["output"], "sunny");
}

TEST_F(EventApiTest, ReplayAnswersInRecordedOrderThenDiverges) {
    post("/v1/events", {{"kind", "clock"}, {"name", "now"}, {"output", 1.5}});
    post("/v1/events", {{"kind", "clock"}, {"name", "now"}, {"output", 2.5}});
    post("/v1/events",
         {{"kind", "tool"}, {"name", "w"}, {"input", {{"city", "Paris"}}}, {"output", "sunny"}});
    ASSERT_TRUE(m_writer->flush().is_ok());
    auto cassette = Cassette::load(*m_store, m_run_id, m_secret, {});
    ASSERT_TRUE(cassette) << cassette.status().message();
    Cassette& c = **cassette;
    EXPECT_EQ(c.size(), 3u);
    auto ask = [&](const Json& body) { return post("/v1/replay", body, &c); };
    EXPECT_EQ(Json::parse(ask({{"kind", "clock"}, {"name", "now"}}).body)["output"], 1.5);
    EXPECT_EQ(Json::parse(ask({{"kind", "clock"}, {"name", "now"}}).body)["output"], 2.5);
    auto exhausted = ask({{"kind", "clock"}, {"name", "now"}});
    EXPECT_EQ(exhausted.status, 409);
    EXPECT_NE(exhausted.body.find("were all used"), std::string::npos);
    auto changed = ask({{"kind", "tool"}, {"name", "w"}, {"input", {{"city", "Lyon"}}}});
    EXPECT_EQ(changed.status, 409);
    Json d = Json::parse(changed.body)["divergence"];
    EXPECT_EQ(d["nearest"], 3);
    EXPECT_EQ(d["diff"][0]["path"], "$.city");
    EXPECT_EQ(c.unused(), std::vector<std::string>{"#3 tool w"});
    auto ok =
        Json::parse(ask({{"kind", "tool"}, {"name", "w"}, {"input", {{"city", "Paris"}}}}).body);
    EXPECT_EQ(ok["output"], "sunny");
    EXPECT_EQ(ok["replayed_from"], 3);
    EXPECT_TRUE(c.unused().empty());
    EXPECT_EQ(c.divergences().size(), 2u);
    // A span id used twice records nothing the second time.
    std::size_t before = events().size();
    Json with_span = {{"kind", "clock"}, {"name", "now"}, {"span", k_a}};
    EXPECT_EQ(ask(with_span).status, 409);  // the queue is exhausted: a divergence, recorded
    auto again = ask(with_span);
    EXPECT_EQ(again.status, 400);
    EXPECT_NE(again.body.find("already started"), std::string::npos);
    EXPECT_EQ(events().size(), before + 1);
}

Json otlp_span(const std::string& id, Json extra = Json::object()) {
    Json span = {{"traceId", "5b8efff798038103d269b633813fc60c"},
                 {"spanId", id},
                 {"name", "step " + id},
                 {"startTimeUnixNano", "1796660000000000000"},
                 {"endTimeUnixNano", "1796660000500000000"}};
    span.update(extra);
    return span;
}

std::string otlp_export(const Json& spans) {
    return Json{
        {"resourceSpans", Json::array({{{"scopeSpans", Json::array({{{"spans", spans}}})}}})}}
        .dump();
}

TEST_F(EventApiTest, OtlpSpansWithoutKindOrStatusAreRecordedAndUrlsRedacted) {
    Json url = {
        {"key", "url.full"},
        {"value",
         {{"stringValue", "http://127.0.0.1:9/_t/0123456789abcdef/openai/x?api_key=SECRET1&a=1"}}}};
    auto r =
        post_otlp(otlp_export(Json::array({otlp_span(k_a, {{"attributes", Json::array({url})}})})),
                  "application/json");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.body, "{}");
    auto rows = events();
    ASSERT_EQ(rows.size(), 1u);
    auto record = trace::SdkEvent::from_attrs(rows[0].event.attrs);
    EXPECT_TRUE(record.observed);
    EXPECT_EQ(record.otel["kind"], 0);
    EXPECT_FALSE(record.otel.contains("status"));
    std::string input = m_store->get_blob(rows[0].event.request).value().value();
    EXPECT_EQ(input,
              R"({"url.full":"http://127.0.0.1:9/_t/[REDACTED]/openai/x?api_key=[REDACTED]&a=1"})");
}

TEST_F(EventApiTest, AnOtlpExportWithOneBadSpanRecordsNone) {
    // The first span is good; the second's status message is not a string.
    Json spans = Json::array(
        {otlp_span(k_a), otlp_span(k_b, {{"status", {{"code", 2}, {"message", nullptr}}}})});
    auto r = post_otlp(otlp_export(spans), "application/json");
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.body.find("span 1: status must be {code: integer, message: string}"),
              std::string::npos)
        << r.body;
    EXPECT_TRUE(events().empty());
    // Control: with a string message both are recorded, the second as raised.
    spans[1]["status"]["message"] = "boom";
    ASSERT_EQ(post_otlp(otlp_export(spans), "application/json").status, 200);
    auto rows = events();
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(trace::SdkEvent::from_attrs(rows[1].event.attrs).error,
              Json({{"type", "error"}, {"message", "boom"}}));
}

TEST_F(EventApiTest, AnOtlpProtobufExportSentTwiceIsRecordedOnce) {
    auto bytes = interop::otlp_to_protobuf(Json::parse(otlp_export(Json::array({otlp_span(k_a)}))));
    ASSERT_TRUE(bytes);
    auto first = post_otlp(*bytes, "application/x-protobuf");
    ASSERT_EQ(first.status, 200);
    EXPECT_EQ(first.content_type, "application/x-protobuf");
    EXPECT_EQ(first.body, "");
    auto again = post_otlp(*bytes, "application/x-protobuf");
    ASSERT_EQ(again.status, 200);
    EXPECT_EQ(again.body, interop::otlp_response_protobuf(1, "spans already recorded"));
    EXPECT_EQ(events().size(), 1u);
    auto refused = post_otlp(bytes->substr(0, bytes->size() - 1), "application/x-protobuf");
    EXPECT_EQ(refused.status, 400);
    EXPECT_EQ(refused.content_type, "application/x-protobuf");
    EXPECT_EQ(post_otlp(*bytes, "text/plain").status, 415);
}

}  // namespace

}  // namespace retrace::proxy