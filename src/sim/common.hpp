// Helpers shared by the sim's OpenAI and Anthropic handlers.
#pragma once

#include <string>
#include <vector>

#include "protocol.hpp"
#include "retrace/sim/tool_plan.hpp"

namespace retrace::sim {

// JSON as the sim writes it: members in the order they were given, as the
// providers send them (`id`, `object`, `created`, `model` first; a type
// first), not sorted. Values built as Json convert with their keys sorted.
using Wire = nlohmann::ordered_json;

Reply json_reply(int status, const Wire& body);
// "data: {json}\n\n", or "event: NAME\ndata: {json}\n\n" when event is given.
std::string sse(const Wire& data, const std::string& event = "");
// Splits text into stream pieces of one or two words, keeping the spaces,
// so that the pieces concatenate to exactly the text.
std::vector<std::string> stream_pieces(const std::string& text, std::uint64_t seed);
std::string base64(const std::string& bytes);
// An id like "chatcmpl-<24 hex>", reproducible from the draw.
std::string make_id(const std::string& prefix, std::uint64_t entropy);
long long unix_seconds();
// Tokens in the text parts of a message content (string, or array of parts).
long long content_tokens(const Json& content);
// The text of a message content (string, or the text parts of an array).
std::string content_text(const Json& content);
// tool_choice and parallel_tool_calls of a Chat Completions or Responses request.
ToolChoice openai_tool_choice(const Json& body);
// Prefix for --stateful-clock outputs: "It is 2026-11-22 12:00 UTC."
std::string clock_prefix();

}  // namespace retrace::sim
