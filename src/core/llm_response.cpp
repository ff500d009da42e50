#include "retrace/core/llm_response.hpp"

#include <map>

#include "retrace/core/sse.hpp"

namespace retrace::core {

namespace {

std::string str(const Json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<long long> num(const Json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer()) return std::nullopt;
    return it->get<long long>();
}

const Json& member(const Json& j, const char* key) {
    static const Json k_null;
    auto it = j.is_object() ? j.find(key) : j.end();
    return it == j.end() ? k_null : *it;
}

void usage_from(LlmResponse& r, const Json& usage) {
    if (!usage.is_object()) return;
    for (const char* k : {"prompt_tokens", "input_tokens"})
        if (auto n = num(usage, k)) r.input_tokens = n;
    for (const char* k : {"completion_tokens", "output_tokens"})
        if (auto n = num(usage, k)) r.output_tokens = n;
}

void error_from(LlmResponse& r, const Json& j) {
    const Json& e = member(j, "error");
    if (e.is_object())
        r.error = str(e, "type") + (str(e, "type").empty() ? "" : ": ") + str(e, "message");
}

// The first choice as the response's text, tool calls and finish reason;
// the list of choices kept only when there are several.
void take_first_choice(LlmResponse& r) {
    if (r.choices.empty()) return;
    r.text = r.choices.front().text;
    r.tool_calls = r.choices.front().tool_calls;
    r.finish_reason = r.choices.front().finish_reason;
    if (r.choices.size() == 1) r.choices.clear();
}

// One whole (non-stream) document, or the final object of a stream.
void from_document(LlmResponse& r, std::string_view route, const Json& j) {
    if (!j.is_object()) return;
    error_from(r, j);
    if (!str(j, "id").empty()) r.id = str(j, "id");
    if (!str(j, "model").empty()) r.model = str(j, "model");
    if (!str(j, "system_fingerprint").empty()) r.fingerprint = str(j, "system_fingerprint");
    usage_from(r, member(j, "usage"));
    if (route == "anthropic" || str(j, "type") == "message") {
        r.text.clear();
        r.tool_calls.clear();
        for (const auto& block : member(j, "content")) {
            if (str(block, "type") == "text") r.text += str(block, "text");
            if (str(block, "type") == "tool_use")
                r.tool_calls.push_back(
                    {str(block, "id"), str(block, "name"), member(block, "input").dump()});
        }
        if (!str(j, "stop_reason").empty()) r.finish_reason = str(j, "stop_reason");
        return;
    }
    if (str(j, "object") == "response" || j.contains("output")) {  // the Responses API
        r.text.clear();
        r.tool_calls.clear();
        for (const auto& item : member(j, "output")) {
            if (str(item, "type") == "message")
                for (const auto& part : member(item, "content"))
                    if (str(part, "type") == "output_text") r.text += str(part, "text");
            if (str(item, "type") == "function_call")
                r.tool_calls.push_back(
                    {str(item, "call_id"), str(item, "name"), str(item, "arguments")});
        }
        if (!str(j, "status").empty()) r.finish_reason = str(j, "status");
        return;
    }
    if (str(j, "object") == "list" && j.contains("data")) {  // embeddings
        r.embeddings = static_cast<long long>(member(j, "data").size());
        return;
    }
    const Json& choices = member(j, "choices");
    if (!choices.is_array() || choices.empty()) return;
    for (const auto& choice : choices) {
        const Json& message = member(choice, "message");
        Choice c;
        c.index = num(choice, "index").value_or(static_cast<long long>(r.choices.size()));
        c.text = str(message, "content");
        for (const auto& call : member(message, "tool_calls"))
            c.tool_calls.push_back({str(call, "id"), str(member(call, "function"), "name"),
                                    str(member(call, "function"), "arguments")});
        c.finish_reason = str(choice, "finish_reason");
        r.choices.push_back(std::move(c));
    }
    take_first_choice(r);
}

// A chat stream's choices as their chunks arrive: each choice's text, and
// its tool calls by their index within it.
struct ChatChoices {
    std::map<long long, Choice> choices;
    std::map<std::pair<long long, long long>, ToolCall> calls;  // (choice, call index)
};

void from_openai_chat_chunk(LlmResponse& r, const Json& j, ChatChoices& acc) {
    if (!str(j, "id").empty()) r.id = str(j, "id");
    if (!str(j, "model").empty()) r.model = str(j, "model");
    if (!str(j, "system_fingerprint").empty()) r.fingerprint = str(j, "system_fingerprint");
    usage_from(r, member(j, "usage"));
    error_from(r, j);
    for (const auto& choice : member(j, "choices")) {
        long long index = num(choice, "index").value_or(0);
        Choice& c = acc.choices[index];
        c.index = index;
        const Json& delta = member(choice, "delta");
        c.text += str(delta, "content");
        for (const auto& call : member(delta, "tool_calls")) {
            auto& t = acc.calls[{index, num(call, "index").value_or(0)}];
            if (!str(call, "id").empty()) t.id = str(call, "id");
            const Json& fn = member(call, "function");
            t.name += str(fn, "name");
            t.arguments += str(fn, "arguments");
        }
        if (!str(choice, "finish_reason").empty()) c.finish_reason = str(choice, "finish_reason");
    }
}

void from_chat_choices(LlmResponse& r, ChatChoices& acc) {
    if (acc.choices.empty()) return;
    for (auto& [key, call] : acc.calls) acc.choices[key.first].tool_calls.push_back(call);
    for (auto& [_, c] : acc.choices) r.choices.push_back(std::move(c));
    take_first_choice(r);
}

void from_stream(LlmResponse& r, std::string_view route, std::string_view body) {
    r.stream = true;
    r.complete = false;
    std::map<long long, ToolCall> calls;  // Anthropic: by block index
    ChatChoices chat;
    std::map<std::string, ToolCall> items;  // Responses: by item id
    std::vector<std::string> item_order;
    for (const auto& e : parse_sse(body)) {
        if (e.data == "[DONE]") {
            r.complete = true;
            continue;
        }
        auto parsed = parse_json_strict(e.data);
        if (!parsed || !parsed->is_object()) continue;
        const Json& j = *parsed;
        std::string type = e.event.empty() ? str(j, "type") : e.event;
        if (route == "anthropic") {
            if (type == "message_start") {
                const Json& m = member(j, "message");
                r.id = str(m, "id");
                r.model = str(m, "model");
                usage_from(r, member(m, "usage"));
            } else if (type == "content_block_start") {
                const Json& b = member(j, "content_block");
                if (str(b, "type") == "tool_use")
                    calls[num(j, "index").value_or(0)] = {str(b, "id"), str(b, "name"), ""};
            } else if (type == "content_block_delta") {
                const Json& d = member(j, "delta");
                if (str(d, "type") == "text_delta") r.text += str(d, "text");
                if (str(d, "type") == "input_json_delta")
                    calls[num(j, "index").value_or(0)].arguments += str(d, "partial_json");
            } else if (type == "message_delta") {
                if (!str(member(j, "delta"), "stop_reason").empty())
                    r.finish_reason = str(member(j, "delta"), "stop_reason");
                if (auto n = num(member(j, "usage"), "output_tokens")) r.output_tokens = n;
            } else if (type == "message_stop") {
                r.complete = true;
            } else if (type == "error") {
                error_from(r, j);
            }
        } else if (type.starts_with("response.")) {
            if (type == "response.created" || type == "response.in_progress") {
                r.id = str(member(j, "response"), "id");
                r.model = str(member(j, "response"), "model");
            } else if (type == "response.output_text.delta")
                r.text += str(j, "delta");
            else if (type == "response.output_item.added" &&
                     str(member(j, "item"), "type") == "function_call") {
                const Json& item = member(j, "item");
                items[str(item, "id")] = {str(item, "call_id"), str(item, "name"), ""};
                item_order.push_back(str(item, "id"));
            } else if (type == "response.function_call_arguments.delta") {
                items[str(j, "item_id")].arguments += str(j, "delta");
            } else if (type == "response.completed" || type == "response.failed" ||
                       type == "response.incomplete") {
                from_document(r, route, member(j, "response"));  // the whole response, final
                r.complete = true;
                return;
            }
        } else {
            from_openai_chat_chunk(r, j, chat);
        }
    }
    for (const auto& id : item_order) r.tool_calls.push_back(items[id]);
    for (auto& [_, c] : calls) r.tool_calls.push_back(c);
    from_chat_choices(r, chat);
}

}  // namespace

Json LlmResponse::to_json() const {
    Json j = {{"stream", stream}, {"complete", complete}, {"model", model}, {"text", text}};
    if (!fingerprint.empty()) j["fingerprint"] = fingerprint;
    Json calls = Json::array();
    for (const auto& c : tool_calls)
        calls.push_back({{"id", c.id}, {"name", c.name}, {"arguments", c.arguments}});
    j["tool_calls"] = calls;
    j["input_tokens"] = input_tokens ? Json(*input_tokens) : Json();
    j["output_tokens"] = output_tokens ? Json(*output_tokens) : Json();
    if (!finish_reason.empty()) j["finish_reason"] = finish_reason;
    if (!error.empty()) j["error"] = error;
    if (embeddings) j["embeddings"] = *embeddings;
    if (!choices.empty()) {
        Json all = Json::array();
        for (const auto& c : choices) {
            Json calls_of = Json::array();
            for (const auto& t : c.tool_calls)
                calls_of.push_back({{"id", t.id}, {"name", t.name}, {"arguments", t.arguments}});
            all.push_back({{"index", c.index},
                           {"text", c.text},
                           {"tool_calls", calls_of},
                           {"finish_reason", c.finish_reason}});
        }
        j["choices"] = all;
    }
    return j;
}

LlmResponse assemble_response(std::string_view route, std::string_view content_type,
                              std::string_view body) {
    LlmResponse r;
    if (looks_like_sse(content_type, body)) {
        from_stream(r, route, body);
    } else if (auto j = parse_json_strict(body)) {
        from_document(r, route, *j);
    }
    return r;
}

LlmRequest summarize_request(std::string_view body) {
    LlmRequest r;
    auto parsed = parse_json_strict(body);
    if (!parsed || !parsed->is_object()) return r;
    const Json& j = *parsed;
    r.model = str(j, "model");
    r.stream = member(j, "stream").is_boolean() && j["stream"].get<bool>();
    if (member(j, "messages").is_array())
        r.messages = j["messages"].size();
    else if (member(j, "input").is_array())
        r.messages = j["input"].size();
    else if (member(j, "input").is_string())
        r.messages = 1;
    for (const auto& t : member(j, "tools")) {
        std::string name = str(member(t, "function"), "name");
        r.tools.push_back(name.empty() ? str(t, "name") : name);
    }
    return r;
}

}  // namespace retrace::core
