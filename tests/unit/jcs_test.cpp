// RFC 8785 canonicalization: the RFC's own examples and number edge cases.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "retrace/core/canonical_json.hpp"

namespace retrace::core {
namespace {

std::string canon(std::string_view text) {
    auto r = canonicalize_text(text);
    EXPECT_TRUE(r.is_ok()) << r.status().message();
    return r.is_ok() ? *r : std::string();
}

double from_bits(std::uint64_t bits) {
    double d;
    std::memcpy(&d, &bits, sizeof d);
    return d;
}

TEST(Jcs, Rfc8785Section322Example) {
    std::string input = R"json({
        "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
        "literals": [null, true, false]
    })json";
    EXPECT_EQ(
        canon(input),
        R"json({"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"})json");
}

TEST(Jcs, Rfc8785SortsByUtf16CodeUnits) {
    std::string input = R"json({
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\ud83d\ude00": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis"
    })json";
    auto j = parse_json_strict(input);
    ASSERT_TRUE(j.is_ok());
    std::string out = *canonicalize(*j);
    std::vector<std::string> order = {"Carriage Return",
                                      "One",
                                      "Control",
                                      "Latin Small Letter O With Diaeresis",
                                      "Euro Sign",
                                      "Emoji: Grinning Face",
                                      "Hebrew Letter Dalet With Dagesh"};
    std::size_t pos = 0;
    for (const auto& v : order) {
        auto at = out.find(v);
        ASSERT_NE(at, std::string::npos) << v;
        EXPECT_GT(at, pos) << v << " out of order in " << out;
        pos = at;
    }
}

TEST(Jcs, IntegersPrintAsTheDoubleTheyAre) {
    // Exact below 2^53 (written directly), rounded to a double above it.
    const std::int64_t big = std::int64_t{1} << 53;
    for (std::int64_t i :
         {std::int64_t{0}, std::int64_t{7}, std::int64_t{-42}, big - 1, big, -big, big + 1,
          -big - 1, std::int64_t{1000000000000000001}, std::numeric_limits<std::int64_t>::max(),
          std::numeric_limits<std::int64_t>::min()})
        EXPECT_EQ(*canonicalize(Json(i)), format_number(static_cast<double>(i))) << i;
    for (std::uint64_t u : {std::uint64_t{3}, std::uint64_t{1} << 53, (std::uint64_t{1} << 53) + 1,
                            std::numeric_limits<std::uint64_t>::max()})
        EXPECT_EQ(*canonicalize(Json(u)), format_number(static_cast<double>(u))) << u;
    EXPECT_EQ(*canonicalize(Json(big + 1)), "9007199254740992");
    EXPECT_EQ(canon("[-0, 12, 1e2, 123456789012345678901]"), "[0,12,100,123456789012345680000]");
}

TEST(Jcs, AsciiAndNonAsciiNamesSortAlike) {
    // "\u00e9" sorts after "z" by code unit whether or not the other names
    // are ASCII (an all-ASCII object is written in the order it is held).
    EXPECT_EQ(canon(R"({"b":1,"a":{"y":2,"x":3},"Z":0})"), R"({"Z":0,"a":{"x":3,"y":2},"b":1})");
    EXPECT_EQ(canon(R"({"z":1,"\u00e9":2,"a":3})"), "{\"a\":3,\"z\":1,\"\u00e9\":2}");
}

TEST(Jcs, NumbersFormatLikeEcmascript) {
    EXPECT_EQ(format_number(1e21), "1e+21");
    EXPECT_EQ(format_number(1e20), "100000000000000000000");
    EXPECT_EQ(format_number(1e-7), "1e-7");
    EXPECT_EQ(format_number(0.000001), "0.000001");
    EXPECT_EQ(format_number(333333333.3333333), "333333333.3333333");
    EXPECT_EQ(format_number(5e-324), "5e-324");
    EXPECT_EQ(format_number(1.7976931348623157e308), "1.7976931348623157e+308");
    EXPECT_EQ(format_number(0.002), "0.002");
    EXPECT_EQ(format_number(1e30), "1e+30");
    EXPECT_EQ(format_number(1e-27), "1e-27");
    EXPECT_EQ(format_number(4.5), "4.5");
    EXPECT_EQ(format_number(-1.5), "-1.5");
    EXPECT_EQ(format_number(-0.0), "0");
    EXPECT_EQ(format_number(9007199254740992.0), "9007199254740992");
    EXPECT_EQ(format_number(123456789012345680000.0), "123456789012345680000");
    EXPECT_EQ(format_number(1.5e-6), "0.0000015");
    EXPECT_EQ(format_number(1.5e-7), "1.5e-7");
}

TEST(Jcs, Rfc8785AppendixBSamples) {
    EXPECT_EQ(format_number(from_bits(0x0000000000000001)), "5e-324");
    EXPECT_EQ(format_number(from_bits(0x8000000000000001)), "-5e-324");
    EXPECT_EQ(format_number(from_bits(0x7fefffffffffffff)), "1.7976931348623157e+308");
    EXPECT_EQ(format_number(from_bits(0x4340000000000000)), "9007199254740992");
    EXPECT_EQ(format_number(from_bits(0xc340000000000000)), "-9007199254740992");
    EXPECT_EQ(format_number(from_bits(0x4430000000000000)), "295147905179352830000");
    EXPECT_EQ(format_number(from_bits(0x44b52d02c7e14af5)), "9.999999999999997e+22");
    EXPECT_EQ(format_number(from_bits(0x44b52d02c7e14af6)), "1e+23");
    EXPECT_EQ(format_number(from_bits(0x44b52d02c7e14af7)), "1.0000000000000001e+23");
    EXPECT_EQ(format_number(from_bits(0x444b1ae4d6e2ef4e)), "999999999999999700000");
    EXPECT_EQ(format_number(from_bits(0x444b1ae4d6e2ef4f)), "999999999999999900000");
    EXPECT_EQ(format_number(from_bits(0x444b1ae4d6e2ef50)), "1e+21");
    EXPECT_EQ(format_number(from_bits(0x3eb0c6f7a0b5ed8c)), "9.999999999999997e-7");
    EXPECT_EQ(format_number(from_bits(0x3eb0c6f7a0b5ed8d)), "0.000001");
    EXPECT_EQ(format_number(from_bits(0x41b3de4355555553)), "333333333.3333332");
    EXPECT_EQ(format_number(from_bits(0x41b3de4355555554)), "333333333.33333325");
    EXPECT_EQ(format_number(from_bits(0x41b3de4355555555)), "333333333.3333333");
    EXPECT_EQ(format_number(from_bits(0x41b3de4355555556)), "333333333.3333334");
    EXPECT_EQ(format_number(from_bits(0x41b3de4355555557)), "333333333.33333343");
    EXPECT_EQ(format_number(from_bits(0xbecbf647612f3696)), "-0.0000033333333333333333");
    EXPECT_EQ(format_number(from_bits(0x43143ff3c1cb0959)), "1424953923781206.2");
}

TEST(Jcs, IntegersAreDoubles) {
    EXPECT_EQ(canon("9007199254740993"), "9007199254740992");
    EXPECT_EQ(canon("18446744073709551615"), "18446744073709552000");
    EXPECT_EQ(canon("100000000000000000000000"), "1e+23");
    EXPECT_EQ(canon("-0"), "0");
    EXPECT_EQ(canon("1.0"), "1");
    EXPECT_EQ(canon("[1E2, 1e-2]"), "[100,0.01]");
}

TEST(Jcs, RefusesWhatIsNotCanonicalizable) {
    auto dup = canonicalize_text(R"({"a":1,"b":{"c":1,"c":2}})");
    ASSERT_FALSE(dup.is_ok());
    EXPECT_NE(dup.status().message().find("duplicate object member name \"c\""), std::string::npos);
    EXPECT_TRUE(canonicalize_text(R"({"a":{"c":1},"b":{"c":2}})").is_ok());
    auto high = canonicalize_text(R"(["\ud800"])");
    ASSERT_FALSE(high.is_ok());
    EXPECT_NE(high.status().message().find("lone surrogate"), std::string::npos);
    EXPECT_FALSE(canonicalize_text(R"(["\udc00x"])").is_ok());
    EXPECT_FALSE(canonicalize_text(R"(["\ud800\u0041"])").is_ok());
    EXPECT_TRUE(
        canonicalize_text(R"(["\\ud800"])").is_ok());  // an escaped backslash, not an escape
    EXPECT_FALSE(canonicalize_text("[\"\xff\"]").is_ok());
    EXPECT_FALSE(canonicalize_text("[1] x").is_ok());
    // nlohmann's lexer takes a NUL byte for the end of the input, so
    // "1\0garbage" parsed as 1 and a body smuggled anything after a NUL.
    using namespace std::string_view_literals;
    auto nul = canonicalize_text("1\0[[[ x"sv);
    ASSERT_FALSE(nul.is_ok());
    EXPECT_NE(nul.status().message().find("NUL byte at byte 1"), std::string::npos);
    EXPECT_FALSE(canonicalize_text("[1]\0"sv).is_ok());
    EXPECT_FALSE(canonicalize_text("[\"a\0\"]"sv).is_ok());
    EXPECT_TRUE(canonicalize_text(R"(["a\u0000"])").is_ok());  // an escaped NUL is a character
    EXPECT_FALSE(canonicalize_text("[NaN]").is_ok());
    EXPECT_FALSE(canonicalize_text("1e400").is_ok());
    EXPECT_FALSE(canonicalize(Json(std::numeric_limits<double>::quiet_NaN())).is_ok());
    EXPECT_FALSE(canonicalize(Json(std::numeric_limits<double>::infinity())).is_ok());
    EXPECT_FALSE(canonicalize(Json(std::string("\xc0\x80"))).is_ok());  // overlong
}

TEST(Jcs, EscapesOnlyWhatMustBeEscaped) {
    EXPECT_EQ(canon(R"(["\u0000\u001f\u007f\/é"])"), "[\"\\u0000\\u001f\x7f/é\"]");
    EXPECT_EQ(canon(R"(["\b\f\n\r\t"])"), R"(["\b\f\n\r\t"])");
}

TEST(Jcs, IdempotentAndOrderInsensitive) {
    std::string a = canon(R"( { "b" : [ 1 , {"y":2,"x":1} ], "a" : "z" } )");
    EXPECT_EQ(a, R"({"a":"z","b":[1,{"x":1,"y":2}]})");
    EXPECT_EQ(canon(a), a);
    EXPECT_EQ(canon(R"({"a":"z","b":[1,{"x":1,"y":2}]})"), a);
}

std::string nested(std::size_t depth, std::string_view open = "[", std::string_view close = "]") {
    std::string text;
    for (std::size_t i = 0; i < depth; ++i) text += open;
    for (std::size_t i = 0; i < depth; ++i) text += close;
    return text;
}

// Deeply nested input once overflowed the stack of the thread reading it.
TEST(Jcs, NestingBeyondTheBoundIsRefusedNotRecursedInto) {
    EXPECT_TRUE(parse_json_strict(nested(k_max_json_depth)).is_ok());
    EXPECT_TRUE(canonicalize_text(nested(k_max_json_depth)).is_ok());
    for (std::size_t depth : {k_max_json_depth + 1, std::size_t{100000}}) {
        auto r = parse_json_strict(nested(depth));
        ASSERT_FALSE(r.is_ok());
        EXPECT_EQ(r.status().code(), ErrorCode::invalid_input);
        EXPECT_EQ(r.status().message(), "JSON nested deeper than 512 levels");
    }
    // objects count as arrays do, mixed in any order
    std::string objects;
    for (std::size_t i = 0; i <= k_max_json_depth; ++i) objects += i % 2 ? "[" : "{\"a\":";
    objects += "1";
    for (std::size_t i = k_max_json_depth + 1; i-- > 0;) objects += i % 2 ? "]" : "}";
    EXPECT_EQ(parse_json_strict(objects).status().message(), "JSON nested deeper than 512 levels");
}

TEST(Jcs, AValueBuiltDeeperThanTheBoundIsNotCanonicalized) {
    Json shallow = 1, deep = 1;
    for (std::size_t i = 0; i < k_max_json_depth; ++i) shallow = Json::array({shallow});
    deep = Json::array({shallow});
    EXPECT_TRUE(canonicalize(shallow).is_ok());
    auto r = canonicalize(deep);
    ASSERT_FALSE(r.is_ok());
    EXPECT_EQ(r.status().message(), "JSON nested deeper than 512 levels");
}

TEST(Jcs, NestingIsCountedOutsideStringsOnly) {
    EXPECT_FALSE(nests_deeper_than(nested(3), 3));
    EXPECT_TRUE(nests_deeper_than(nested(4), 3));
    EXPECT_TRUE(nests_deeper_than("{[{[", 3));  // unclosed counts too
    // brackets in strings, and an escaped quote that does not end the string
    EXPECT_FALSE(nests_deeper_than(R"(["[[[[", "\"[[[[", {"k[[[[": "]]]]"}])", 3));
    EXPECT_TRUE(nests_deeper_than(R"(["\\", [[[1]]]])", 3));  // the string ends after "\\"
    EXPECT_FALSE(nests_deeper_than("plain text [ with ] brackets", 1));
    EXPECT_FALSE(nests_deeper_than("", 0));
}

// A large batch is read an element at a time: each element of a top-level
// array is handed over as it completes, with its index; anything else is
// handed whole, once.
TEST(Jcs, ArrayElementsAreHandedOneAtATime) {
    std::vector<std::pair<std::optional<std::size_t>, std::string>> seen;
    auto keep = [&](std::optional<std::size_t> i, Json&& v) {
        seen.emplace_back(i, v.dump());
        return Status::ok();
    };
    auto r = parse_json_elements(R"([1, {"a":[2,3]}, [4], "x"])", keep);
    ASSERT_TRUE(r.is_ok()) << r.status().message();
    EXPECT_TRUE(*r);
    ASSERT_EQ(seen.size(), 4u);
    EXPECT_EQ(seen[1],
              std::make_pair(std::optional<std::size_t>(1), std::string(R"({"a":[2,3]})")));
    EXPECT_EQ(seen[2].second, "[4]");  // (an inner array is an element, not split)
    EXPECT_EQ(seen[3].first, std::optional<std::size_t>(3));

    // control: not an array, handed whole without an index
    seen.clear();
    r = parse_json_elements(R"({"a":[1,2]})", keep);
    ASSERT_TRUE(r.is_ok());
    EXPECT_FALSE(*r);
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0], std::make_pair(std::optional<std::size_t>(), std::string(R"({"a":[1,2]})")));

    seen.clear();
    r = parse_json_elements("[]", keep);
    EXPECT_TRUE(r.is_ok() && *r);
    EXPECT_TRUE(seen.empty());

    // the strict rules hold inside elements, and a bad tail is an error
    // after the elements before it were handed (callers check first)
    seen.clear();
    EXPECT_EQ(parse_json_elements(R"([1, {"a":1,"a":2}])", keep).status().message(),
              "duplicate object member name \"a\"");
    EXPECT_EQ(seen.size(), 1u);
    seen.clear();
    EXPECT_FALSE(parse_json_elements("[1, 2, {", keep).is_ok());
    EXPECT_EQ(seen.size(), 2u);
    EXPECT_FALSE(parse_json_elements("[1] 2", keep).is_ok());

    // fn's first error stops the reading and is returned as it is
    int calls = 0;
    auto stop_at_second = [&](std::optional<std::size_t> i, Json&&) {
        ++calls;
        return *i == 1 ? error(ErrorCode::not_found, "stop here") : Status::ok();
    };
    auto stopped = parse_json_elements("[1, 2, 3]", stop_at_second);
    EXPECT_EQ(stopped.status().code(), ErrorCode::not_found);
    EXPECT_EQ(stopped.status().message(), "stop here");
    EXPECT_EQ(calls, 2);
}

}  // namespace
}  // namespace retrace::core
