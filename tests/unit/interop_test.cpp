// The interop formats' readers and writers on their own: OTLP's protobuf
// encoding both ways, RFC 3339 times, HAR and vcrpy files read strictly.
#include <gtest/gtest.h>

#include "retrace/core/clock.hpp"
#include "retrace/interop/har.hpp"
#include "retrace/interop/otlp_protobuf.hpp"
#include "retrace/interop/vcr.hpp"

namespace retrace::interop {
namespace {

using core::Json;

Json kv(const std::string& key, Json value) {
    return {{"key", key}, {"value", std::move(value)}};
}

// Every field type of the trace messages, nested values included.
Json sample_request() {
    Json attrs = Json::array(
        {kv("s", {{"stringValue", "héllo"}}), kv("b", {{"boolValue", true}}),
         kv("i", {{"intValue", "-42"}}), kv("d", {{"doubleValue", 0.25}}),
         kv("a", {{"arrayValue",
                   {{"values", Json::array({{{"intValue", "1"}}, {{"stringValue", "x"}}})}}}}),
         kv("m", {{"kvlistValue", {{"values", Json::array({kv("k", {{"boolValue", false}})})}}}}),
         kv("raw", {{"bytesValue", "AAEC/w=="}})});
    Json span = {
        {"traceId", "5b8efff798038103d269b633813fc60c"},
        {"spanId", "eee19b7ec3c1b174"},
        {"parentSpanId", "00f067aa0ba902b7"},
        {"name", "chat gpt-4o"},
        {"kind", 3},
        {"startTimeUnixNano", "1796660000000000001"},
        {"endTimeUnixNano", "18446744073709551615"},
        {"attributes", attrs},
        {"events",
         Json::array({{{"timeUnixNano", "1796660000000000002"}, {"name", "first token"}}})},
        {"links", Json::array({{{"traceId", "5b8efff798038103d269b633813fc60d"},
                                {"spanId", "eee19b7ec3c1b175"},
                                {"flags", 256}}})},
        {"status", {{"code", 2}, {"message", "boom"}}},
        {"flags", 1}};
    return {{"resourceSpans",
             Json::array(
                 {{{"resource",
                    {{"attributes", Json::array({kv("service.name", {{"stringValue", "svc"}})})}}},
                   {"scopeSpans", Json::array({{{"scope", {{"name", "retrace"}, {"version", "1"}}},
                                                {"spans", Json::array({span})}}})},
                   {"schemaUrl", "https://opentelemetry.io/schemas/1.26.0"}}})}};
}

TEST(OtlpProtobuf, EveryFieldTypeSurvivesTheRoundTrip) {
    Json request = sample_request();
    auto bytes = otlp_to_protobuf(request);
    ASSERT_TRUE(bytes) << bytes.status().message();
    auto back = otlp_from_protobuf(*bytes);
    ASSERT_TRUE(back) << back.status().message();
    EXPECT_EQ(*back, request);
    // Encoding is a function of the message: field order in the JSON does not matter.
    auto again = otlp_to_protobuf(*back);
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, *bytes);
}

TEST(OtlpProtobuf, FieldsAreWrittenInNumberOrder) {
    Json span = {{"name", "n"}, {"traceId", "5b8efff798038103d269b633813fc60c"}};
    Json request = {
        {"resourceSpans",
         Json::array({{{"scopeSpans", Json::array({{{"spans", Json::array({span})}}})}}})}};
    auto bytes = otlp_to_protobuf(request);
    ASSERT_TRUE(bytes);
    // ...Span { 1: trace_id (16 bytes), 5: name }: trace_id's tag (0x0a) comes first.
    auto at = bytes->find(std::string("\x0a\x10", 2));
    auto name = bytes->find(std::string("\x2a\x01n", 3));
    ASSERT_NE(at, std::string::npos);
    ASSERT_NE(name, std::string::npos);
    EXPECT_LT(at, name);
}

TEST(OtlpProtobuf, TheEncoderNamesTheFieldItCannotWrite) {
    Json request = sample_request();
    request["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["spanId"] = "not hex";
    auto bad = otlp_to_protobuf(request);
    ASSERT_FALSE(bad);
    EXPECT_EQ(
        bad.status().message(),
        "OTLP JSON: $.resourceSpans[0].scopeSpans[0].spans[0].spanId must be hex, not \"not hex\"");
    Json unknown = {{"resourceSpans", Json::array({{{"scopeSpanz", Json::array()}}})}};
    auto refused = otlp_to_protobuf(unknown);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.status().message(),
              "OTLP JSON: $.resourceSpans[0].scopeSpanz is not a field of ResourceSpans");
}

TEST(OtlpProtobuf, TheDecoderRefusesBrokenBytesAndSkipsUnknownFields) {
    auto bytes = otlp_to_protobuf(sample_request());
    ASSERT_TRUE(bytes);
    // Control: whole, it decodes.
    ASSERT_TRUE(otlp_from_protobuf(*bytes));
    for (std::size_t cut : {std::size_t{1}, bytes->size() / 2, bytes->size() - 1}) {
        auto r = otlp_from_protobuf(std::string_view(*bytes).substr(0, cut));
        EXPECT_FALSE(r) << "cut at " << cut;
        if (!r) {
            EXPECT_NE(r.status().message().find("OTLP protobuf body: "), std::string::npos);
        }
    }
    EXPECT_EQ(otlp_from_protobuf(std::string("\x4b", 1)).status().message(),
              "OTLP protobuf body: an unknown wire type at byte 0");
    // Field 1 as a varint where a message is expected.
    EXPECT_EQ(otlp_from_protobuf(std::string("\x08\x01", 2)).status().message(),
              "OTLP protobuf body: a field of the wrong wire type at byte 0");
    // An unknown field 9 (varint) is skipped, as protobuf readers do.
    auto skipped = otlp_from_protobuf(std::string("\x48\x05", 2) + *bytes);
    ASSERT_TRUE(skipped) << skipped.status().message();
    EXPECT_EQ(*skipped, sample_request());
}

std::string field(int number, const std::string& bytes) {
    std::string out(1, static_cast<char>((number << 3) | 2));
    for (auto v = bytes.size();; v >>= 7) {
        if (v < 0x80) {
            out.push_back(static_cast<char>(v));
            break;
        }
        out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    }
    return out + bytes;
}

// An attribute whose value is an array in an array in ... `levels` deep.
std::string nested_attribute(int levels) {
    std::string any;
    for (int i = 0; i < levels; ++i) any = field(5, field(1, any));  // AnyValue.array_value.values
    std::string kv = field(1, "k") + field(2, any);
    return field(1, field(1, field(1, kv)));  // request.resource_spans.resource.attributes
}

TEST(OtlpProtobuf, NestingIsBounded) {
    // Control: twenty levels decode.
    auto shallow = otlp_from_protobuf(nested_attribute(20));
    ASSERT_TRUE(shallow) << shallow.status().message();
    // A thousand are refused, not recursed through.
    auto deep = otlp_from_protobuf(nested_attribute(1000));
    ASSERT_FALSE(deep);
    EXPECT_NE(deep.status().message().find("messages nested too deep"), std::string::npos)
        << deep.status().message();
}

TEST(Rfc3339, ParsesWhatHarFilesHold) {
    EXPECT_EQ(core::parse_rfc3339("2026-12-07T18:39:45.757Z"), 1796668785757000000LL);
    EXPECT_EQ(core::parse_rfc3339("2026-12-07T19:39:45.757+01:00"), 1796668785757000000LL);
    EXPECT_EQ(core::parse_rfc3339("2026-12-07T19:39:45.757+0100"), 1796668785757000000LL);
    EXPECT_EQ(core::parse_rfc3339("2026-12-07T18:39:45Z"), 1796668785000000000LL);
    EXPECT_EQ(core::parse_rfc3339("2026-12-07T18:39:45.123456789Z"), 1796668785123456789LL);
    EXPECT_FALSE(core::parse_rfc3339("2026-12-07 noon"));
    EXPECT_FALSE(core::parse_rfc3339("2026-12-07T18:39:45"));  // no offset
    EXPECT_FALSE(core::parse_rfc3339("2026-13-07T18:39:45Z"));
    EXPECT_FALSE(core::parse_rfc3339("2026-12-07T18:39:45.Z"));
    EXPECT_EQ(core::rfc3339(1796668785757000000LL), "2026-12-07T18:39:45.757Z");
    EXPECT_EQ(core::rfc3339(1796668785123456789LL, 9), "2026-12-07T18:39:45.123456789Z");
}

std::string har_with(const std::string& entry) {
    return R"({"log":{"version":"1.2","creator":{"name":"t","version":"1"},"entries":[)" + entry +
           "]}}";
}

const char* k_entry = R"({"startedDateTime":"2026-12-07T18:39:45.757Z","time":12.5,
 "request":{"method":"POST","url":"https://api.openai.com/v1/chat/completions","httpVersion":"HTTP/1.1",
   "headers":[{"name":"Content-Type","value":"application/json"}],"queryString":[],"cookies":[],
   "postData":{"mimeType":"application/json","text":"{\"model\":\"gpt-4o\"}"},"headersSize":-1,"bodySize":17},
 "response":{"status":200,"statusText":"OK","httpVersion":"HTTP/1.1","cookies":[],
   "headers":[{"name":"Content-Type","value":"application/json"},{"name":"Content-Encoding","value":"gzip"}],
   "content":{"size":2,"mimeType":"application/json","text":"e30=","encoding":"base64"},
   "redirectURL":"","headersSize":-1,"bodySize":2},
 "cache":{},"timings":{"send":0.5,"wait":10,"receive":2}})";

TEST(Har, AnEntryBecomesAnExchange) {
    auto file = parse_har(har_with(k_entry));
    ASSERT_TRUE(file) << file.status().message();
    ASSERT_EQ(file->exchanges.size(), 1u);
    const auto& x = file->exchanges[0];
    EXPECT_EQ(x.method, "POST");
    EXPECT_EQ(x.url, "https://api.openai.com/v1/chat/completions");
    EXPECT_EQ(x.request_body, R"({"model":"gpt-4o"})");
    EXPECT_EQ(x.status, 200);
    EXPECT_EQ(x.response_body, "{}");  // base64, decoded
    EXPECT_EQ(x.started_ns, 1796668785757000000LL);
    EXPECT_EQ(x.duration_us, 12500);
    EXPECT_EQ(x.header_us, 10500);
    // The text is decoded: the encoding header would misdescribe it.
    ASSERT_EQ(x.response_headers.size(), 1u);
    EXPECT_EQ(x.response_headers[0].first, "Content-Type");
}

TEST(Har, AMalformedEntryIsNamed) {
    auto without = [](std::string entry, const std::string& cut) {
        auto at = entry.find(cut);
        return entry.erase(at, cut.size());
    };
    auto second = [&](const std::string& broken) {
        return parse_har(har_with(std::string(k_entry) + "," + broken)).status().message();
    };
    EXPECT_EQ(second(without(k_entry, R"("url":"https://api.openai.com/v1/chat/completions",)")),
              "entry 2: request.url must be a string");
    std::string bad_date = k_entry;
    bad_date.replace(bad_date.find("2026-12-07T18:39:45.757Z"), 24, "yesterday");
    EXPECT_EQ(second(bad_date), "entry 2: startedDateTime 'yesterday' is not an ISO 8601 date");
    std::string no_body = k_entry;
    no_body.erase(no_body.find(R"("text":"e30=",)"), std::string(R"("text":"e30=",)").size());
    EXPECT_EQ(second(no_body),
              "entry 2: response.content.text is missing (the HAR was saved without bodies: save "
              "it with content)");
    std::string status = k_entry;
    status.replace(status.find(R"("status":200)"), 12, R"("status":1000)");
    EXPECT_EQ(
        second(status),
        "entry 2: response.status must be an HTTP status (100 to 599, or 0 for none received)");
    // Control: content with neither text nor size is an empty body.
    std::string empty = k_entry;
    empty.replace(empty.find(R"("content":{"size":2,)"), 20, R"("content":{)");
    empty.erase(empty.find(R"(,"text":"e30=","encoding":"base64")"),
                std::string(R"(,"text":"e30=","encoding":"base64")").size());
    auto parsed = parse_har(har_with(empty));
    ASSERT_TRUE(parsed) << parsed.status().message() << "\n" << empty;
    EXPECT_EQ(parsed->exchanges[0].response_body, "");
    EXPECT_EQ(parse_har("[]").status().message(), "no \"log\" object: not an HTTP archive");
    EXPECT_EQ(parse_har(R"({"log":{}})").status().message(), "log.entries must be an array");
    EXPECT_NE(parse_har("{").status().message().find("not JSON: "), std::string::npos);
}

const char* k_cassette = R"(interactions:
- request:
    body: '{"model": "gpt-4o"}'
    headers:
      Content-Type:
      - application/json
    method: POST
    uri: https://api.openai.com/v1/chat/completions
  response:
    body:
      string: !!binary |
        e30=
    headers:
      Content-Type:
      - application/json
      Set-Cookie: [a=1, b=2]
    status:
      code: 200
      message: OK
version: 1
)";

TEST(Vcr, AnInteractionBecomesAnExchange) {
    auto file = parse_vcr(k_cassette);
    ASSERT_TRUE(file) << file.status().message();
    ASSERT_EQ(file->exchanges.size(), 1u);
    const auto& x = file->exchanges[0];
    EXPECT_EQ(x.where, "interaction 1");
    EXPECT_EQ(x.request_body, R"({"model": "gpt-4o"})");
    EXPECT_EQ(x.response_body, "{}");
    EXPECT_EQ(x.status, 200);
    EXPECT_EQ(x.response_headers.size(), 3u);  // Content-Type, and Set-Cookie twice
}

TEST(Vcr, AMalformedCassetteIsNamedByLine) {
    auto message = [](std::string text, const std::string& from, const std::string& to) {
        text.replace(text.find(from), from.size(), to);
        return parse_vcr(text).status().message();
    };
    EXPECT_EQ(message(k_cassette, "    uri: https://api.openai.com/v1/chat/completions\n", ""),
              "interaction 1 (line 3): request.uri must be a string");
    EXPECT_EQ(message(k_cassette, "- request:\n", "- requests:\n"),
              "interaction 1 (line 2): request must be a mapping");
    EXPECT_EQ(message(k_cassette, "code: 200", "code: '200 OK'"),
              "interaction 1 (line 18): response.status.code must be an integer");
    EXPECT_EQ(message(k_cassette, "code: 200", "code: 99"),
              "interaction 1 (line 18): response.status.code must be an HTTP status (100 to 599)");
    EXPECT_EQ(message(k_cassette, "version: 1", "version: 2"),
              "cassette version 2 (retrace reads vcrpy's version 1)");
    EXPECT_EQ(message(k_cassette, "interactions:", "exchanges:"),
              "no 'interactions' list: not a vcrpy cassette");
    EXPECT_EQ(message(k_cassette, "    method: POST\n", "   method: POST\n"),
              "line 7, column 4: end of map not found");
}

}  // namespace
}  // namespace retrace::interop
