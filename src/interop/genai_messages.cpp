// Model requests and responses as the GenAI semantic conventions' message
// lists: [{role, parts: [{type: "text", content} | {type: "tool_call", id,
// name, arguments} | {type: "tool_call_response", id, response}],
// finish_reason?}].
#include "json_fields.hpp"
#include "retrace/core/llm_response.hpp"
#include "retrace/interop/otlp.hpp"

namespace retrace::interop {

namespace {

using core::Json;

using fields::member;
using fields::str;

Json text_part(std::string text) {
    return {{"type", "text"}, {"content", std::move(text)}};
}

// A JSON text as the value it holds (tool arguments), else the text.
Json json_or_text(const std::string& text) {
    auto parsed = core::parse_json_strict(text);
    return parsed ? *parsed : Json(text);
}

// Content as a string or as a list of typed blocks (OpenAI's and
// Anthropic's); what is not text becomes a part of its own type.
void add_content(Json& parts, const Json& content) {
    if (content.is_string()) {
        parts.push_back(text_part(content.get<std::string>()));
        return;
    }
    for (const auto& block : content) {
        std::string type = str(block, "type");
        if (type == "text" || type == "input_text" || type == "output_text") {
            parts.push_back(text_part(str(block, "text")));
        } else if (type == "tool_use") {
            parts.push_back({{"type", "tool_call"},
                             {"id", str(block, "id")},
                             {"name", str(block, "name")},
                             {"arguments", member(block, "input")}});
        } else if (type == "tool_result") {
            Json response = member(block, "content");
            if (response.is_array()) {
                std::string text;
                for (const auto& b : response) text += str(b, "text");
                response = text;
            }
            parts.push_back({{"type", "tool_call_response"},
                             {"id", str(block, "tool_use_id")},
                             {"response", response}});
        } else if (!type.empty()) {
            parts.push_back({{"type", type}});  // an image, a file: named, not carried
        }
    }
}

Json message(std::string role, Json parts) {
    return {{"role", std::move(role)}, {"parts", std::move(parts)}};
}

void chat_input(GenAiMessages& m, const Json& messages) {
    for (const auto& msg : messages) {
        std::string role = str(msg, "role");
        Json parts = Json::array();
        if (role == "tool") {
            parts.push_back({{"type", "tool_call_response"},
                             {"id", str(msg, "tool_call_id")},
                             {"response", member(msg, "content")}});
        } else {
            add_content(parts, member(msg, "content"));
            for (const auto& call : member(msg, "tool_calls"))
                parts.push_back(
                    {{"type", "tool_call"},
                     {"id", str(call, "id")},
                     {"name", str(member(call, "function"), "name")},
                     {"arguments", json_or_text(str(member(call, "function"), "arguments"))}});
        }
        m.input.push_back(message(role.empty() ? "user" : role, std::move(parts)));
    }
}

void responses_input(GenAiMessages& m, const Json& input, const Json& instructions) {
    if (instructions.is_string()) m.system.push_back(text_part(instructions.get<std::string>()));
    if (input.is_string()) {
        m.input.push_back(message("user", Json::array({text_part(input.get<std::string>())})));
        return;
    }
    for (const auto& item : input) {
        std::string type = str(item, "type");
        Json parts = Json::array();
        if (type == "function_call_output") {
            parts.push_back({{"type", "tool_call_response"},
                             {"id", str(item, "call_id")},
                             {"response", member(item, "output")}});
            m.input.push_back(message("tool", std::move(parts)));
        } else if (type == "function_call") {
            parts.push_back({{"type", "tool_call"},
                             {"id", str(item, "call_id")},
                             {"name", str(item, "name")},
                             {"arguments", json_or_text(str(item, "arguments"))}});
            m.input.push_back(message("assistant", std::move(parts)));
        } else {
            add_content(parts, member(item, "content"));
            std::string role = str(item, "role");
            m.input.push_back(message(role.empty() ? "user" : role, std::move(parts)));
        }
    }
}

Json output_message(const std::string& text, const std::vector<core::ToolCall>& calls,
                    const std::string& finish_reason) {
    Json parts = Json::array();
    if (!text.empty()) parts.push_back(text_part(text));
    for (const auto& c : calls)
        parts.push_back({{"type", "tool_call"},
                         {"id", c.id},
                         {"name", c.name},
                         {"arguments", json_or_text(c.arguments)}});
    Json out = message("assistant", std::move(parts));
    out["finish_reason"] = finish_reason;
    return out;
}

}  // namespace

GenAiMessages genai_messages(std::string_view route, std::string_view request_body,
                             std::string_view content_type, std::string_view response_body) {
    GenAiMessages m;
    if (auto parsed = core::parse_json_strict(request_body); parsed && parsed->is_object()) {
        const Json& req = *parsed;
        if (route == "anthropic") {
            const Json& system = member(req, "system");
            if (system.is_string())
                m.system.push_back(text_part(system.get<std::string>()));
            else if (system.is_array())
                add_content(m.system, system);
        }
        if (member(req, "messages").is_array())
            chat_input(m, req["messages"]);
        else if (req.contains("input") && !member(req, "input").is_null())
            responses_input(m, req["input"], member(req, "instructions"));
    }
    auto r = core::assemble_response(route, content_type, response_body);
    if (r.embeddings) return m;
    if (!r.choices.empty()) {
        for (const auto& c : r.choices)
            m.output.push_back(output_message(c.text, c.tool_calls, c.finish_reason));
    } else if (!r.text.empty() || !r.tool_calls.empty()) {
        m.output.push_back(output_message(r.text, r.tool_calls, r.finish_reason));
    }
    return m;
}

}  // namespace retrace::interop
