// Values drawn for a JSON Schema: each keyword the structured-output modes
// use is honoured. (tests/node/sim_structured.mjs validates the sim's answers
// with a JSON Schema validator from npm.)
#include <gtest/gtest.h>

#include <regex>

#include "retrace/sim/schema_value.hpp"

namespace retrace::sim {
namespace {

Json draw(const std::string& schema, std::uint64_t seed = 1) {
    Rng rng(seed);
    return value_for_schema(Json::parse(schema), rng);
}

TEST(SimSchemaValue, TypesEnumsConstAndNesting) {
    for (std::uint64_t seed = 0; seed < 20; ++seed) {
        Json v = draw(R"({"type": "object", "additionalProperties": false,
            "required": ["name", "tags", "kind", "address", "v"],
            "properties": {
              "name": {"type": "string"}, "v": {"const": 2},
              "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 4},
              "kind": {"type": "string", "enum": ["a", "b", "c"]},
              "address": {"type": "object", "required": ["zip"],
                          "properties": {"zip": {"type": "integer", "minimum": 1000,
                                                 "maximum": 9999}}}}})",
                      seed);
        ASSERT_TRUE(v.is_object());
        EXPECT_EQ(v.size(), 5u) << v;
        EXPECT_TRUE(v["name"].is_string());
        EXPECT_EQ(v["v"], 2);
        EXPECT_GE(v["tags"].size(), 2u);
        EXPECT_LE(v["tags"].size(), 4u);
        EXPECT_TRUE(v["kind"] == "a" || v["kind"] == "b" || v["kind"] == "c");
        EXPECT_GE(v["address"]["zip"].get<long long>(), 1000);
        EXPECT_LE(v["address"]["zip"].get<long long>(), 9999);
    }
}

TEST(SimSchemaValue, SameSeedSameValueOtherSeedAnother) {
    const char* schema = R"({"type": "object", "properties": {"a": {"type": "string"},
        "b": {"type": "number"}, "c": {"type": "array", "items": {"type": "integer"}}}})";
    EXPECT_EQ(draw(schema, 4), draw(schema, 4));
    EXPECT_NE(draw(schema, 4), draw(schema, 5));
}

TEST(SimSchemaValue, NullableAndUnionsGiveAValueOfOneBranch) {
    for (std::uint64_t seed = 0; seed < 20; ++seed) {
        Json v = draw(R"({"type": "object", "properties": {
            "a": {"type": ["string", "null"]},
            "b": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
            "c": {"oneOf": [{"type": "boolean"}, {"type": "string", "enum": ["x"]}]}}})",
                      seed);
        EXPECT_TRUE(v["a"].is_string()) << "a value, as a model gives, not null";
        EXPECT_TRUE(v["b"].is_number_integer());
        EXPECT_TRUE(v["c"].is_boolean() || v["c"] == "x");
    }
    EXPECT_TRUE(draw(R"({"type": "null"})").is_null());
}

TEST(SimSchemaValue, RefsResolveAndRecursionEnds) {
    Json v = draw(R"({"$ref": "#/$defs/node", "$defs": {"node": {"type": "object",
        "required": ["label", "children"], "properties": {"label": {"type": "string"},
        "children": {"type": "array", "items": {"$ref": "#/$defs/node"}}}}}})");
    int depth = 0;
    for (const Json* n = &v; n->contains("children") && !(*n)["children"].empty();
         n = &(*n)["children"][0])
        ++depth;
    EXPECT_TRUE(v["label"].is_string());
    EXPECT_LE(depth, 4) << v;
    Json defs = draw(R"({"type": "object", "properties": {"p": {"$ref": "#/definitions/P"}},
        "definitions": {"P": {"type": "integer", "enum": [7]}}})");
    EXPECT_EQ(defs["p"], 7);
}

TEST(SimSchemaValue, AllOfMergesTheParts) {
    Json v = draw(R"({"allOf": [{"type": "object", "properties": {"a": {"type": "integer"}}},
        {"properties": {"b": {"type": "boolean"}}, "required": ["b"]}]})");
    EXPECT_TRUE(v["a"].is_number_integer()) << v;
    EXPECT_TRUE(v["b"].is_boolean());
}

TEST(SimSchemaValue, StringFormatsAndLengths) {
    EXPECT_TRUE(
        std::regex_match(draw(R"({"type": "string", "format": "date-time"})").get<std::string>(),
                         std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
    EXPECT_TRUE(std::regex_match(draw(R"({"type": "string", "format": "date"})").get<std::string>(),
                                 std::regex(R"(\d{4}-\d\d-\d\d)")));
    EXPECT_TRUE(
        std::regex_match(draw(R"({"type": "string", "format": "email"})").get<std::string>(),
                         std::regex(R"([a-z]+@example\.com)")));
    EXPECT_TRUE(std::regex_match(
        draw(R"({"type": "string", "format": "uuid"})").get<std::string>(),
        std::regex(R"([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})")));
    for (std::uint64_t seed = 0; seed < 20; ++seed) {
        auto s = draw(R"({"type": "string", "minLength": 30, "maxLength": 32})", seed)
                     .get<std::string>();
        EXPECT_GE(s.size(), 30u);
        EXPECT_LE(s.size(), 32u);
    }
}

TEST(SimSchemaValue, NumericBounds) {
    for (std::uint64_t seed = 0; seed < 50; ++seed) {
        double x = draw(R"({"type": "number", "exclusiveMinimum": 0, "maximum": 1})", seed);
        EXPECT_GT(x, 0);
        EXPECT_LE(x, 1);
        long long n =
            draw(R"({"type": "integer", "minimum": -3, "maximum": 9, "multipleOf": 3})", seed);
        EXPECT_GE(n, -3);
        EXPECT_LE(n, 9);
        EXPECT_EQ(n % 3, 0);
        double m =
            draw(R"({"type": "number", "multipleOf": 0.5, "minimum": 1, "maximum": 2})", seed);
        EXPECT_TRUE(m == 1 || m == 1.5 || m == 2) << m;
    }
}

TEST(SimSchemaValue, TheWidestBoundsStillGiveSmallNumbers) {
    for (std::uint64_t seed = 0; seed < 20; ++seed) {
        long long n = draw(R"({"type": "integer", "minimum": -9007199254740991,
                               "maximum": 9007199254740991})",
                           seed);
        EXPECT_GE(n, 0);
        EXPECT_LT(n, 100);
        long long neg = draw(R"({"type": "integer", "maximum": -1000})", seed);
        EXPECT_LE(neg, -1000);
        EXPECT_GE(neg, -1099);
        double x = draw(R"({"type": "number", "minimum": -1e300, "maximum": 1e300})", seed);
        EXPECT_GE(x, 0);
        EXPECT_LE(x, 100);
    }
}

TEST(SimSchemaValue, UniqueItemsStopShortRatherThanRepeat) {
    for (std::uint64_t seed = 0; seed < 20; ++seed) {
        Json v = draw(R"({"type": "array", "uniqueItems": true, "maxItems": 5,
            "items": {"enum": ["x", "y"]}})",
                      seed);
        ASSERT_LE(v.size(), 2u);
        if (v.size() == 2) {
            EXPECT_NE(v[0], v[1]);
        }
    }
}

}  // namespace
}  // namespace retrace::sim
