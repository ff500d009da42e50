// What a model said, assembled from a recorded response body: OpenAI chat
// completions, the Responses API, embeddings and Anthropic messages, each
// as one JSON document or as the event stream it was sent as. This is how
// `show --event` answers "what did the model actually say?".
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "retrace/core/canonical_json.hpp"

namespace retrace::core {

struct ToolCall {
    std::string id;
    std::string name;
    std::string arguments;  // as the model produced it (JSON text)
};

// One of the answers a chat completion gives when asked for several (`n`).
struct Choice {
    long long index = 0;
    std::string text;
    std::vector<ToolCall> tool_calls;
    std::string finish_reason;
};

struct LlmResponse {
    bool stream = false;
    bool complete = true;  // a stream that reached its end marker ([DONE], message_stop, ...)
    std::string id;        // the provider's response id (chatcmpl-..., msg_..., resp_...)
    std::string model;
    std::string fingerprint;  // OpenAI system_fingerprint, the last one seen
    std::string text;
    std::vector<ToolCall> tool_calls;
    std::optional<long long> input_tokens, output_tokens;
    std::string finish_reason;
    std::string error;                    // the provider's error type and message
    std::optional<long long> embeddings;  // number of vectors, for embeddings
    // Every choice, when there are several (`n` > 1); text, tool_calls and
    // finish_reason above are then the first one's.
    std::vector<Choice> choices;

    Json to_json() const;
};

// route: "openai" or "anthropic"; content_type: the response's; body: as
// recorded. Bodies it does not understand give an empty response, never an error.
LlmResponse assemble_response(std::string_view route, std::string_view content_type,
                              std::string_view body);

// A one-line summary of a request body: model, stream, messages, tools.
struct LlmRequest {
    std::string model;
    bool stream = false;
    std::size_t messages = 0;  // messages, or input items
    std::vector<std::string> tools;
};
LlmRequest summarize_request(std::string_view body);

}  // namespace retrace::core
