// One recorded path for each base-URL shape of a provider's clients, and
// the upstream asked at the path its API has.
#include "retrace/core/api_path.hpp"

#include <gtest/gtest.h>

using namespace retrace::core;

TEST(ApiPath, AnthropicWithAndWithoutTheVersionSegment) {
    EXPECT_EQ(api_path("anthropic", "/v1/messages"), "/v1/messages") << "the official SDK";
    EXPECT_EQ(api_path("anthropic", "/messages"), "/v1/messages") << "the AI SDK";
    EXPECT_EQ(api_path("anthropic", "/v1/models"), "/v1/models");
    EXPECT_EQ(api_path("anthropic", "/v1"), "/v1");
    EXPECT_EQ(api_path("anthropic", "/v10/x"), "/v1/v10/x") << "a segment, not a prefix";
    EXPECT_EQ(upstream_path("anthropic", "", "/v1/messages"), "/v1/messages");
    EXPECT_EQ(upstream_path("anthropic", "/v1", "/v1/messages"), "/v1/messages")
        << "a base URL ending in /v1, as the AI SDK's";
    EXPECT_EQ(upstream_path("anthropic", "/gw", "/v1/messages"), "/gw/v1/messages");
}

TEST(ApiPath, OpenAiRelativeToTheV1Root) {
    EXPECT_EQ(api_path("openai", "/chat/completions"), "/chat/completions") << "the OpenAI SDK";
    EXPECT_EQ(api_path("openai", "/v1/chat/completions"), "/chat/completions")
        << "a client that appends /v1 itself";
    EXPECT_EQ(api_path("openai", "/v1"), "/v1");
    EXPECT_EQ(upstream_path("openai", "/v1", "/chat/completions"), "/v1/chat/completions");
}

TEST(ApiPath, OtherRoutesKeepTheirPaths) {
    EXPECT_EQ(api_path("local", "/v1/chat/completions"), "/v1/chat/completions");
    EXPECT_EQ(api_path("local", "/messages"), "/messages");
    EXPECT_EQ(upstream_path("local", "/v1", "/v1/x"), "/v1/v1/x");
}
