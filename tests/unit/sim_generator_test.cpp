// The sim's generator: a pure function of its seed, usage consistent with
// the text, truncation at max_tokens, tool arguments following the schema.
#include <gtest/gtest.h>

#include "retrace/sim/generator.hpp"

namespace retrace::sim {
namespace {

TEST(SimGenerator, SameSeedSameTextOtherSeedOtherText) {
    GenerationRequest r;
    r.seed = 42;
    auto a = generate(r);
    EXPECT_EQ(generate(r).text, a.text);
    r.seed = 43;
    EXPECT_NE(generate(r).text, a.text);
    EXPECT_EQ(a.output_tokens, count_tokens(a.text));
    EXPECT_GE(a.output_tokens, 8);
    EXPECT_FALSE(a.truncated);
}

TEST(SimGenerator, MaxTokensTruncatesToAPrefix) {
    GenerationRequest r;
    r.seed = 7;
    auto full = generate(r);
    r.max_tokens = 3;
    auto cut = generate(r);
    EXPECT_TRUE(cut.truncated);
    EXPECT_EQ(cut.output_tokens, 3);
    EXPECT_EQ(count_tokens(cut.text), 3);
    EXPECT_EQ(full.text.rfind(cut.text, 0), 0u) << "a truncated answer is a prefix of the full one";
}

TEST(SimGenerator, ToolArgumentsFollowTheSchema) {
    GenerationRequest r;
    r.seed = 9;
    r.calls = {"lookup"};
    r.tools = Json::parse(R"([{"name": "lookup", "parameters": {"type": "object", "properties": {
        "q": {"type": "string"}, "n": {"type": "integer"}, "x": {"type": "number"},
        "flag": {"type": "boolean"}, "mode": {"type": "string", "enum": ["a", "b"]}}}}])");
    auto g = generate(r);
    ASSERT_EQ(g.tool_calls.size(), 1u);
    EXPECT_TRUE(g.text.empty());
    EXPECT_EQ(g.tool_calls[0].name, "lookup");
    Json args = Json::parse(g.tool_calls[0].arguments);
    EXPECT_TRUE(args["q"].is_string());
    EXPECT_TRUE(args["n"].is_number_integer());
    EXPECT_TRUE(args["x"].is_number());
    EXPECT_TRUE(args["flag"].is_boolean());
    EXPECT_TRUE(args["mode"] == "a" || args["mode"] == "b");
    EXPECT_EQ(generate(r).tool_calls[0].arguments, g.tool_calls[0].arguments);
}

TEST(SimGenerator, CallsTheToolsNamedInOrderWithDistinctIds) {
    GenerationRequest r;
    r.seed = 3;
    r.tools = Json::parse(R"([{"name": "a"}, {"name": "b"}, {"name": "c"}])");
    r.calls = {"c", "a"};
    auto g = generate(r);
    ASSERT_EQ(g.tool_calls.size(), 2u);
    EXPECT_EQ(g.tool_calls[0].name, "c");
    EXPECT_EQ(g.tool_calls[1].name, "a");
    EXPECT_NE(g.tool_calls[0].id, g.tool_calls[1].id);
    r.calls.clear();  // control: no calls, a text answer
    EXPECT_TRUE(generate(r).tool_calls.empty());
    EXPECT_FALSE(generate(r).text.empty());
}

TEST(SimGenerator, SchemaModeAnswersWithAValueOfTheSchema) {
    GenerationRequest r;
    r.seed = 5;
    r.schema = Json::parse(R"({"type": "object", "required": ["n"],
        "properties": {"n": {"type": "integer", "minimum": 5, "maximum": 6}}})");
    Json j = Json::parse(generate(r).text);
    EXPECT_TRUE(j["n"] == 5 || j["n"] == 6) << j;
    EXPECT_EQ(generate(r).text, j.dump());
}

TEST(SimGenerator, JsonObjectModeProducesAnObject) {
    GenerationRequest r;
    r.seed = 5;
    r.json_object = true;
    Json j = Json::parse(generate(r).text);
    EXPECT_TRUE(j["answer"].is_string());
}

TEST(SimGenerator, PersonaChangesStyleDeterministically) {
    GenerationRequest r;
    r.seed = 5;
    auto plain = generate(r);
    r.persona = "key-one";
    auto one = generate(r);
    EXPECT_NE(one.text, plain.text);
    EXPECT_EQ(generate(r).text, one.text);
}

TEST(SimGenerator, RngIsReproducible) {
    Rng a(1), b(1), c(2);
    for (int i = 0; i < 5; ++i) {
        auto x = a.next();
        EXPECT_EQ(x, b.next());
        EXPECT_NE(x, c.next());
    }
    EXPECT_EQ(seed_of("x"), seed_of("x"));
    EXPECT_NE(seed_of("x"), seed_of("y"));
}

}  // namespace
}  // namespace retrace::sim
