// The paths of the providers' APIs, whichever base-URL shape a client uses.
//
// Clients disagree on where the version segment goes. The official Anthropic
// SDK appends /v1/messages to a bare host; the AI SDK's Anthropic provider
// expects a base URL ending in /v1 and appends /messages. The OpenAI SDK
// appends /chat/completions to a base URL ending in /v1; some OpenAI-
// compatible clients append /v1/chat/completions to a bare host. On the
// routes `openai` and `anthropic`, a request is recorded and matched by one
// path for all of these, and reaches the upstream at the path its API has.
#pragma once

#include <string>
#include <string_view>

namespace retrace::core {

// The path a request on `route` is recorded and matched by: on `anthropic`,
// with the version segment (/v1/messages, for /messages too); on `openai`,
// relative to the API root that ends in /v1 (/chat/completions, for
// /v1/chat/completions too). Other routes' paths are kept as sent.
std::string api_path(std::string_view route, std::string_view path);

// The path to ask an upstream whose base URL has `base_path` for the
// request recorded under `path` (an api_path): on `anthropic`, a base that
// itself ends in /v1 does not get a second one.
std::string upstream_path(std::string_view route, std::string_view base_path,
                          std::string_view path);

}  // namespace retrace::core
