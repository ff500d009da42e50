#include "retrace/core/llm_response.hpp"

#include <gtest/gtest.h>

using namespace retrace::core;

TEST(LlmResponse, OpenAiChatDocumentWithToolCall) {
    auto r = assemble_response("openai", "application/json", R"({"object":"chat.completion",
        "model":"gpt-4o","system_fingerprint":"fp_1","choices":[{"index":0,"finish_reason":"tool_calls",
        "message":{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function",
        "function":{"name":"f","arguments":"{\"a\":1}"}}]}}],"usage":{"prompt_tokens":5,"completion_tokens":7}})");
    EXPECT_FALSE(r.stream);
    EXPECT_EQ(r.model, "gpt-4o");
    EXPECT_EQ(r.fingerprint, "fp_1");
    ASSERT_EQ(r.tool_calls.size(), 1u);
    EXPECT_EQ(r.tool_calls[0].name, "f");
    EXPECT_EQ(r.tool_calls[0].arguments, "{\"a\":1}");
    EXPECT_EQ(*r.input_tokens, 5);
    EXPECT_EQ(*r.output_tokens, 7);
    EXPECT_EQ(r.finish_reason, "tool_calls");
}

TEST(LlmResponse, OpenAiChatStreamAssemblesDeltasByIndex) {
    std::string body =
        "data: {\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n"
        "data: {\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"}}]}\n\n"
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c\","
        "\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"x\\\"\"}}]}}]}\n\n"
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
        "\"function\":{\"arguments\":\":2}\"}}]},\"finish_reason\":\"tool_calls\"}]}\n\n";
    auto cut = assemble_response("openai", "text/event-stream", body);
    EXPECT_TRUE(cut.stream);
    EXPECT_FALSE(cut.complete) << "no [DONE]: a cut stream";
    auto r = assemble_response("openai", "text/event-stream", body + "data: [DONE]\n\n");
    EXPECT_TRUE(r.complete);
    EXPECT_EQ(r.text, "Hello");
    ASSERT_EQ(r.tool_calls.size(), 1u);
    EXPECT_EQ(r.tool_calls[0].arguments, "{\"x\":2}");
    EXPECT_EQ(r.finish_reason, "tool_calls");
}

TEST(LlmResponse, AnthropicStreamWithToolUse) {
    std::string body =
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"claude\","
        "\"usage\":{\"input_tokens\":9}}}\n\n"
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,"
        "\"content_block\":{\"type\":\"tool_use\",\"id\":\"t1\",\"name\":\"w\",\"input\":{}}}\n\n"
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,"
        "\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"c\\\":\\\"Oslo\\\"}\"}}"
        "\n\n"
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
        "\"tool_use\"},\"usage\":{\"output_tokens\":4}}\n\n"
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    auto r = assemble_response("anthropic", "text/event-stream", body);
    EXPECT_TRUE(r.complete);
    EXPECT_EQ(r.model, "claude");
    ASSERT_EQ(r.tool_calls.size(), 1u);
    EXPECT_EQ(r.tool_calls[0].name, "w");
    EXPECT_EQ(r.tool_calls[0].arguments, "{\"c\":\"Oslo\"}");
    EXPECT_EQ(*r.input_tokens, 9);
    EXPECT_EQ(*r.output_tokens, 4);
    EXPECT_EQ(r.finish_reason, "tool_use");
}

TEST(LlmResponse, ResponsesStreamTakesTheCompletedResponse) {
    std::string body =
        "event: response.created\ndata: "
        "{\"type\":\"response.created\",\"response\":{\"model\":\"m\"}}\n\n"
        "event: response.output_text.delta\ndata: "
        "{\"type\":\"response.output_text.delta\",\"delta\":\"par\"}\n\n"
        "event: response.completed\ndata: "
        "{\"type\":\"response.completed\",\"response\":{\"object\":"
        "\"response\",\"model\":\"m\",\"status\":\"completed\",\"output\":[{\"type\":\"message\","
        "\"content\":[{\"type\":\"output_text\",\"text\":\"partial\"}]}],\"usage\":{\"input_"
        "tokens\":3,"
        "\"output_tokens\":1}}}\n\n";
    auto r = assemble_response("openai", "text/event-stream", body);
    EXPECT_TRUE(r.complete);
    EXPECT_EQ(r.text, "partial");
    EXPECT_EQ(*r.output_tokens, 1);
}

TEST(LlmResponse, ErrorsEmbeddingsAndGarbage) {
    auto e = assemble_response("openai", "application/json",
                               R"({"error":{"message":"slow down","type":"rate_limit_error"}})");
    EXPECT_EQ(e.error, "rate_limit_error: slow down");
    auto v = assemble_response(
        "openai", "application/json",
        R"({"object":"list","data":[{},{}],"model":"emb","usage":{"prompt_tokens":2}})");
    EXPECT_EQ(*v.embeddings, 2);
    auto g = assemble_response("openai", "", "not json");
    EXPECT_TRUE(g.text.empty());
    EXPECT_TRUE(g.model.empty());
    auto q = summarize_request(
        R"({"model":"m","stream":true,"messages":[{},{}],"tools":[{"function":{"name":"f"}},{"name":"g"}]})");
    EXPECT_EQ(q.model, "m");
    EXPECT_TRUE(q.stream);
    EXPECT_EQ(q.messages, 2u);
    EXPECT_EQ(q.tools, (std::vector<std::string>{"f", "g"}));
}

TEST(LlmResponse, SeveralChoicesStayApartStreamedOrNot) {
    // n: 2, streamed: the choices' chunks interleave.
    std::string body =
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"one \"}}]}\n\n"
        "data: {\"choices\":[{\"index\":1,\"delta\":{\"content\":\"two \"}}]}\n\n"
        "data: "
        "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"uno\"},\"finish_reason\":\"stop\"}]}"
        "\n\n"
        "data: "
        "{\"choices\":[{\"index\":1,\"delta\":{\"content\":\"dos\"},\"finish_reason\":\"length\"}]}"
        "\n\n"
        "data: [DONE]\n\n";
    auto s = assemble_response("openai", "text/event-stream", body);
    ASSERT_EQ(s.choices.size(), 2u);
    EXPECT_EQ(s.choices[0].text, "one uno");
    EXPECT_EQ(s.choices[1].text, "two dos");
    EXPECT_EQ(s.choices[1].finish_reason, "length");
    EXPECT_EQ(s.text, "one uno") << "the first choice is the response's text";
    EXPECT_EQ(s.to_json()["choices"].size(), 2u);
    auto d = assemble_response("openai", "application/json", R"({"choices":[
        {"index":0,"message":{"content":"first"},"finish_reason":"stop"},
        {"index":1,"message":{"content":null,"tool_calls":[{"id":"c","function":{"name":"f",
        "arguments":"{}"}}]},"finish_reason":"tool_calls"}]})");
    ASSERT_EQ(d.choices.size(), 2u);
    EXPECT_EQ(d.choices[0].text, "first");
    ASSERT_EQ(d.choices[1].tool_calls.size(), 1u);
    EXPECT_EQ(d.choices[1].tool_calls[0].name, "f");
    // Control: one choice, no list.
    auto one = assemble_response("openai", "application/json",
                                 R"({"choices":[{"index":0,"message":{"content":"x"}}]})");
    EXPECT_TRUE(one.choices.empty());
    EXPECT_EQ(one.text, "x");
    EXPECT_FALSE(one.to_json().contains("choices"));
}
