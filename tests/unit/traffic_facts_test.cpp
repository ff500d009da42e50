#include "retrace/conditions/traffic_facts.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace retrace::conditions {

namespace {

using core::Json;

struct Traffic {
    std::string route, path, request, response;
    std::vector<std::pair<std::string, std::string>> headers;
    Json response_headers = Json::object();
};

Json conditions_of(const std::vector<Traffic>& traffic, const std::string& secret = "s3cret") {
    TrafficFacts facts(secret);
    for (const auto& t : traffic)
        facts.observe(
            {t.route, t.path, &t.headers, t.request, 200, &t.response_headers, t.response});
    Json c = Json::object();
    facts.merge_into(c);
    return c;
}

const Traffic k_chat{
    "openai",
    "/chat/completions",
    R"({"model":"gpt-4o","temperature":0.5,"seed":1,"stream":true,
                        "messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}],
                        "tools":[{"type":"function","function":{"name":"f","parameters":{}}}]})",
    "data: {\"model\":\"gpt-4o-2024\",\"system_fingerprint\":\"fp_a\"}\n\n"
    "data: {\"model\":\"gpt-4o-2024\",\"system_fingerprint\":\"fp_b\"}\n\ndata: [DONE]\n\n",
    {{"authorization", "Bearer sk-one-KEYTEXT"}},
    {{"content-type", "text/event-stream"}, {"openai-version", "2020-10-01"}}};
const Traffic k_messages{"anthropic",
                         "/v1/messages",
                         R"({"model":"claude","max_tokens":10,"system":"Sys.","messages":[],
                            "tools":[{"name":"f","input_schema":{"type":"object"}}]})",
                         R"({"type":"message","model":"claude-x","content":[]})",
                         {{"x-api-key", "sk-two-KEYTEXT"}}};

TEST(TrafficFacts, DeclaredAndObservedSections) {
    Json c = conditions_of({k_chat, k_messages});
    EXPECT_EQ(c["models"]["openai"]["gpt-4o"],
              Json::parse(R"({"endpoints":["/chat/completions"],"seed":[1],"temperature":[0.5]})"));
    EXPECT_EQ(c["models"]["anthropic"]["claude"]["max_tokens"], Json::array({10}));
    EXPECT_EQ(c["prompts"]["openai"].size(), 1u);
    EXPECT_EQ(c["prompts"]["anthropic"].size(), 1u);
    EXPECT_EQ(c["tools"]["f"].size(), 2u) << "two schemas under one name";
    const Json& openai = c["backend"]["openai"];
    EXPECT_EQ(openai["served_models"], Json::array({"gpt-4o-2024"}));
    EXPECT_EQ(openai["system_fingerprints"], Json::array({"fp_a", "fp_b"}))
        << "a change mid-run is kept";
    EXPECT_EQ(openai["versions"]["openai-version"], Json::array({"2020-10-01"}));
    EXPECT_EQ(c["backend"]["anthropic"]["served_models"], Json::array({"claude-x"}));
}

TEST(TrafficFacts, OrderOfObservationDoesNotMatter) {
    Traffic other = k_chat;
    other.request = R"({"model":"gpt-4o","temperature":0.7,"messages":[]})";
    std::vector<Traffic> a{k_chat, other, k_messages}, b{k_messages, other, k_chat};
    EXPECT_EQ(conditions_of(a).dump(), conditions_of(b).dump());
    EXPECT_EQ(conditions_of(a)["models"]["openai"]["gpt-4o"]["temperature"],
              Json::array({0.5, 0.7}));
}

TEST(TrafficFacts, CredentialsAreKeyedFingerprintsNeverKeys) {
    Json c = conditions_of({k_chat, k_messages});
    std::string text = c.dump();
    EXPECT_EQ(text.find("KEYTEXT"), std::string::npos);
    auto fp = c["backend"]["openai"]["credentials"][0].get<std::string>();
    EXPECT_EQ(fp, credential_fingerprint("s3cret", "sk-one-KEYTEXT"));
    EXPECT_NE(fp, credential_fingerprint("s3cret", "sk-two-KEYTEXT"));
    EXPECT_NE(fp, credential_fingerprint("other", "sk-one-KEYTEXT"));
    Traffic placeholder = k_chat;
    placeholder.headers = {{"authorization", "Bearer " + std::string(k_placeholder_key)}};
    EXPECT_FALSE(conditions_of({placeholder})["backend"]["openai"].contains("credentials"));
}

TEST(TrafficFacts, OtherRoutesAndBadBodiesSayNothing) {
    Traffic http{"search", "/q", R"({"model":"m"})", "{}", {{"authorization", "Bearer abcdefgh"}}};
    Traffic garbage{"openai", "/chat/completions", "not json", "also not json"};
    Json c = conditions_of({http, garbage});
    EXPECT_EQ(c["models"], Json::object());
    EXPECT_EQ(c["backend"], Json::object());
}

TEST(TrafficFacts, BackendFactsAreReadWhereverTheyStandAndOnlyThere) {
    // Keys in any order; the Responses API's and Anthropic's wrapped
    // messages; a model named deeper in a message is not the served model.
    Traffic responses{"openai",
                      "/responses",
                      R"({"model":"gpt-4o","input":"hi"})",
                      "event: response.created\n"
                      "data: {\"response\":{\"output\":[{\"model\":\"not-this\"}],"
                      "\"model\":\"gpt-4o-r\"},\"type\":\"response.created\"}\n\n"
                      "data: {\"choices\":[{\"delta\":{\"model\":\"nor-this\"}}],"
                      "\"system_fingerprint\":\"fp_z\",\"model\":\"gpt-4o-c\"}\n\n"
                      "data: {\"message\":{\"model\":\"claude-m\"},\"type\":\"message_start\"}\n\n"
                      "data: {\"system_fingerprint\":\"fp_broken\",\"model\":\n\n"
                      "data: {\"model\":[\"not a string\"]}\n\n",
                      {},
                      {{"content-type", "text/event-stream"}}};
    Json c = conditions_of({responses});
    const Json& b = c["backend"]["openai"];
    EXPECT_EQ(b["served_models"], Json::array({"claude-m", "gpt-4o-c", "gpt-4o-r"}));
    EXPECT_EQ(b["system_fingerprints"], Json::array({"fp_z"}));
}

TEST(TrafficFacts, ContainersThatAreNotReadArePassedOverWhole) {
    // An embedding names its model after its numbers; the containers passed
    // over hold brackets, braces and escaped quotes inside strings, and a
    // "model" of their own that is not the served one.
    std::string numbers;
    for (int i = 0; i < 1536; ++i) {
        if (i > 0) numbers += ',';
        numbers += std::to_string(i * 0.001 - 0.5);
    }
    Traffic embeddings{
        "openai",
        "/embeddings",
        R"({"model":"text-embedding-3-small","input":"x"})",
        R"({"object":"list","data":[{"object":"embedding","index":0,"embedding":[)" + numbers +
            R"(]},{"note":"a ] and a } and a \" and [{"}],"usage":{"model":"not-this",)"
            R"("nested":{"x":[["}"]]}},"model":"text-embedding-3-small-served"})",
        {},
        {{"content-type", "application/json"}}};
    // A container that never closes: not JSON, says nothing.
    Traffic cut{"anthropic", "/v1/messages",
                "{}",        R"({"content":[{"text":"a \"quoted] text"},"model":"claude-cut"})",
                {},          {{"content-type", "application/json"}}};
    Json c = conditions_of({embeddings, cut});
    EXPECT_EQ(c["backend"]["openai"]["served_models"],
              Json::array({"text-embedding-3-small-served"}));
    EXPECT_FALSE(c["backend"].contains("anthropic")) << c.dump();
}

TEST(TrafficFacts, StreamFramesThatRepeatTheirStartAreReadOnceYetChangesAreSeen) {
    // Chat chunks repeat id, object, created, model and fingerprint: the
    // second frame is skipped, the third (another fingerprint) and the
    // fourth (another model, same start up to it) are read.
    std::string head = R"({"id":"c1","object":"chat.completion.chunk","created":1,)";
    auto frame = [&](const std::string& model, const std::string& fp, const std::string& text) {
        return "data: " + head + R"("model":")" + model + R"(","system_fingerprint":")" + fp +
               R"(","choices":[{"delta":{"content":")" + text + R"("}}]})" + "\n\n";
    };
    Traffic t{"openai",
              "/chat/completions",
              R"({"model":"m","stream":true})",
              frame("m-1", "fp_a", "x") + frame("m-1", "fp_a", "y") + frame("m-1", "fp_b", "z") +
                  frame("m-2", "fp_b", "w") + "data: [DONE]\n\n",
              {},
              {{"content-type", "text/event-stream"}}};
    Json c = conditions_of({t});
    EXPECT_EQ(c["backend"]["openai"]["served_models"], Json::array({"m-1", "m-2"}));
    EXPECT_EQ(c["backend"]["openai"]["system_fingerprints"], Json::array({"fp_a", "fp_b"}));
}

TEST(TrafficFacts, ABodyWhoseDigestWasSeenIsNotReadAgain) {
    // Bodies with digests: a new digest is read, a known one is skipped (the
    // second body here stands in for a repeat: same digest, other text, so
    // that skipping shows); without digests, everything is read.
    auto observe = [](TrafficFacts& facts, const std::string& request,
                      const std::string& request_digest, const std::string& response,
                      const std::string& response_digest) {
        std::vector<std::pair<std::string, std::string>> headers;
        Json response_headers = {{"content-type", "application/json"}};
        facts.observe({"openai", "/chat/completions", &headers, request, 200, &response_headers,
                       response, request_digest, response_digest});
    };
    auto models = [](const TrafficFacts& facts) {
        Json c = Json::object();
        facts.merge_into(c);
        Json out = Json::array();
        for (const auto& [name, _] : c["models"]["openai"].items()) out.push_back(name);
        out.push_back(c["backend"]["openai"]["served_models"]);
        return out;
    };
    TrafficFacts facts("s");
    observe(facts, R"({"model":"a"})", "d1", R"({"model":"served-a"})", "r1");
    observe(facts, R"({"model":"b"})", "d2", R"({"model":"served-b"})", "r2");
    observe(facts, R"({"model":"c"})", "d1", R"({"model":"served-c"})", "r1");
    EXPECT_EQ(models(facts), Json::parse(R"(["a","b",["served-a","served-b"]])"));
    TrafficFacts plain("s");
    observe(plain, R"({"model":"a"})", "", R"({"model":"served-a"})", "");
    observe(plain, R"({"model":"c"})", "", R"({"model":"served-c"})", "");
    EXPECT_EQ(models(plain), Json::parse(R"(["a","c",["served-a","served-c"]])"));
}

}  // namespace
}  // namespace retrace::conditions
