// The Anthropic side of the sim: POST /v1/messages, plain and streamed
// (message_start, content blocks, message_delta, message_stop, ping), with
// tool_use blocks and Anthropic's error shapes.
#include "common.hpp"

namespace retrace::sim {

namespace {

Reply anthropic_error(int status, const std::string& type, const std::string& message) {
    Reply r =
        json_reply(status, {{"type", "error"}, {"error", {{"type", type}, {"message", message}}}});
    r.headers.emplace_back("request-id", "req_sim");
    return r;
}

Reply invalid(const std::string& message) {
    return anthropic_error(400, "invalid_request_error", message);
}

}  // namespace

Reply handle_anthropic(const HttpRequest& r, SimState& state) {
    if (r.method != "POST")
        return anthropic_error(405, "invalid_request_error", "Method not allowed");
    auto behaviour = state.behaviour_for(r);
    if (!behaviour) return invalid(behaviour.status().message());
    const Behaviour& b = *behaviour;
    std::string api_key = r.header("x-api-key");
    if (api_key.empty()) {
        std::string auth = r.header("authorization");
        if (auth.rfind("Bearer ", 0) == 0) api_key = auth.substr(7);
    }
    if (api_key.empty())
        return anthropic_error(401, "authentication_error", "x-api-key header is required");
    auto parsed = core::parse_json_strict(r.body);
    if (!parsed || !parsed->is_object())
        return invalid(parsed ? "request body must be a JSON object" : parsed.status().message());
    const Json& body = *parsed;
    if (!body.contains("model") || !body["model"].is_string())
        return invalid("model: Field required");
    std::string model = body["model"];
    if (!is_known_model(model, b))
        return anthropic_error(404, "not_found_error", "model: " + model);
    if (!body.contains("max_tokens")) return invalid("max_tokens: Field required");
    if (!body["max_tokens"].is_number_integer() || body["max_tokens"].get<long long>() < 1)
        return invalid("max_tokens: Input should be a valid integer greater than 0");
    if (!body.contains("messages")) return invalid("messages: Field required");
    if (!body["messages"].is_array() || body["messages"].empty())
        return invalid("messages: Input should be a non-empty list");
    if (body.contains("temperature") &&
        (!body["temperature"].is_number() || body["temperature"].get<double>() < 0 ||
         body["temperature"].get<double>() > 1))
        return invalid("temperature: Input should be a number between 0 and 1");

    long long input_tokens = 0;
    ToolContext context;  // the last user message's text, the tool_use blocks since
    for (std::size_t i = 0; i < body["messages"].size(); ++i) {
        const Json& m = body["messages"][i];
        if (!m.is_object() || !m.contains("role") || !m.contains("content"))
            return invalid("messages." + std::to_string(i) + ": role and content are required");
        std::string role = m["role"].is_string() ? m["role"].get<std::string>() : "";
        if (role != "user" && role != "assistant")
            return invalid("messages." + std::to_string(i) +
                           ".role: Input should be 'user' or 'assistant'");
        std::string text = content_text(m["content"]);
        if (role == "user" && !text.empty()) {
            context.task = text;
            context.calls_made = 0;
        }
        if (role == "assistant" && m["content"].is_array())
            for (const auto& block : m["content"])
                if (block.is_object() && block.value("type", "") == "tool_use")
                    ++context.calls_made;
        input_tokens += count_tokens(text) + 3;
    }
    if (body.contains("system")) input_tokens += content_tokens(body["system"]);

    Json tools = Json::array();
    if (body.contains("tools") && body["tools"].is_array())
        for (const auto& t : body["tools"])
            if (t.is_object() && t.contains("name"))
                tools.push_back(
                    {{"name", t["name"]}, {"parameters", t.value("input_schema", Json::object())}});
    Json choice = body.value("tool_choice", Json{{"type", "auto"}});
    ToolChoice tool_choice;
    if (choice.is_object()) {
        std::string type = choice.value("type", "auto");
        if (type == "none") tool_choice.mode = ToolChoice::Mode::none;
        if (type == "any") tool_choice.mode = ToolChoice::Mode::required;
        if (type == "tool") {
            tool_choice.mode = ToolChoice::Mode::named;
            tool_choice.name = choice.value("name", "");
        }
        tool_choice.parallel = !choice.value("disable_parallel_tool_use", false);
    }
    // Structured output (`output_format` json_schema), as for OpenAI.
    Json format = body.value("output_format", Json());
    Json schema = format.is_object() && format.value("type", "") == "json_schema"
                      ? format.value("schema", Json::object())
                      : Json();

    double temperature = body.value("temperature", 1.0);
    SimState::Draw d = state.draw(b, temperature == 0);
    if (d.fault == "429") {
        Reply e = anthropic_error(429, "rate_limit_error",
                                  "Number of requests has exceeded your rate limit (simulated).");
        e.headers.emplace_back("retry-after", "1");
        return e;
    }
    if (d.fault == "500")
        return anthropic_error(500, "api_error", "Internal server error (simulated).");
    if (d.fault == "529")
        return anthropic_error(529, "overloaded_error", "Overloaded (simulated).");

    Json key = {{"model", model},
                {"messages", body["messages"]},
                {"system", body.value("system", Json())},
                {"tools", tools},
                {"tool_choice", choice},
                {"temperature", temperature},
                {"fingerprint", d.fingerprint}};
    if (!schema.is_null()) key["output_format"] = format;
    if (temperature > 0) key["sample"] = std::to_string(d.sample);
    if (d.noisy) key["noise"] = d.request_index;
    if (b.persona_by_key) key["persona"] = api_key;
    GenerationRequest g;
    g.seed = generation_seed(key);
    g.max_tokens = body["max_tokens"];
    g.tools = tools;
    g.calls = plan_tool_calls(tools, tool_choice, context, g.seed);
    g.schema = schema;
    if (b.stateful_clock) g.prefix = clock_prefix();
    Generation gen = generate(g);

    std::string id = make_id("msg_", g.seed);  // (from the request, as the text)
    Json content = Json::array();
    if (!gen.text.empty()) content.push_back({{"type", "text"}, {"text", gen.text}});
    for (const auto& tc : gen.tool_calls)
        content.push_back({{"type", "tool_use"},
                           {"id", "toolu_" + tc.id.substr(5)},
                           {"name", tc.name},
                           {"input", Json::parse(tc.arguments)}});
    std::string stop_reason = !gen.tool_calls.empty() ? "tool_use"
                              : gen.truncated         ? "max_tokens"
                                                      : "end_turn";
    Wire message = {{"id", id},
                    {"type", "message"},
                    {"role", "assistant"},
                    {"model", model},
                    {"content", content},
                    {"stop_reason", stop_reason},
                    {"stop_sequence", nullptr},
                    {"usage",
                     {{"input_tokens", input_tokens},
                      {"output_tokens", gen.output_tokens},
                      {"cache_creation_input_tokens", 0},
                      {"cache_read_input_tokens", 0}}}};
    if (!body.value("stream", false)) {
        Reply reply = json_reply(200, message);
        reply.delay_ms = d.latency_ms;
        if (d.fault == "reset") reply.fault = Fault::reset;
        if (d.fault == "midstream") reply.fault = Fault::midstream;
        return reply;
    }
    Reply reply;
    reply.stream = true;
    reply.headers.emplace_back("content-type", "text/event-stream; charset=utf-8");
    reply.delay_ms = d.latency_ms;
    reply.frame_interval_ms = b.stream_interval_ms;
    Wire start = message;
    start["content"] = Json::array();
    start["stop_reason"] = nullptr;
    start["usage"]["output_tokens"] = 1;
    reply.frames.push_back(sse({{"type", "message_start"}, {"message", start}}, "message_start"));
    reply.frames.push_back(sse({{"type", "ping"}}, "ping"));
    for (std::size_t i = 0; i < content.size(); ++i) {
        const Json& block = content[i];
        Json empty = block;
        if (block["type"] == "text")
            empty["text"] = "";
        else
            empty["input"] = Json::object();
        reply.frames.push_back(
            sse({{"type", "content_block_start"}, {"index", i}, {"content_block", empty}},
                "content_block_start"));
        if (block["type"] == "text") {
            for (const auto& piece : stream_pieces(block["text"], g.seed))
                reply.frames.push_back(sse({{"type", "content_block_delta"},
                                            {"index", i},
                                            {"delta", {{"type", "text_delta"}, {"text", piece}}}},
                                           "content_block_delta"));
        } else {
            std::string args = block["input"].dump();
            for (std::size_t at = 0; at < args.size(); at += 9)
                reply.frames.push_back(
                    sse({{"type", "content_block_delta"},
                         {"index", i},
                         {"delta",
                          {{"type", "input_json_delta"}, {"partial_json", args.substr(at, 9)}}}},
                        "content_block_delta"));
        }
        reply.frames.push_back(
            sse({{"type", "content_block_stop"}, {"index", i}}, "content_block_stop"));
    }
    reply.frames.push_back(
        sse({{"type", "message_delta"},
             {"delta", {{"stop_reason", stop_reason}, {"stop_sequence", nullptr}}},
             {"usage", {{"output_tokens", gen.output_tokens}}}},
            "message_delta"));
    reply.frames.push_back(sse({{"type", "message_stop"}}, "message_stop"));
    if (d.fault == "reset") reply.fault = Fault::reset;
    if (d.fault == "midstream") reply.fault = Fault::midstream;
    return reply;
}

}  // namespace retrace::sim
