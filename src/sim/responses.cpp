// The OpenAI Responses API: POST /v1/responses, plain and streamed as typed
// events (response.created ... response.completed; no [DONE]).
#include "common.hpp"

namespace retrace::sim {

namespace {

Reply responses_error(const std::string& message, const std::string& param) {
    return json_reply(400, {{"error",
                             {{"message", message},
                              {"type", "invalid_request_error"},
                              {"param", param},
                              {"code", nullptr}}}});
}

}  // namespace

Reply handle_responses(const HttpRequest&, SimState& state, const Json& body, const Behaviour& b,
                       const std::string& api_key) {
    if (!body.contains("input"))
        return responses_error("Missing required parameter: 'input'.", "input");
    const Json& input = body["input"];
    if (!input.is_string() && !input.is_array())
        return responses_error("Invalid type for 'input': expected a string or an array.", "input");
    // The task (the last user message) and the function calls made since it.
    ToolContext context;
    long long input_tokens = count_tokens(body.value("instructions", ""));
    if (input.is_string()) {
        context.task = input.get<std::string>();
        input_tokens += count_tokens(context.task);
    }
    if (input.is_array())
        for (const auto& item : input) {
            if (!item.is_object()) continue;
            std::string type = item.value("type", "message");
            std::string text;
            if (type == "function_call_output") {
                text = item.value("output", "");
            } else if (type == "function_call") {
                ++context.calls_made;
                text = item.value("arguments", "");
            } else if (type == "item_reference") {
                // (a stored item sent back by its id, as the AI SDK does
                // with the function calls of earlier steps)
                if (item.value("id", "").rfind("fc_", 0) == 0) ++context.calls_made;
            } else {
                text = content_text(item.value("content", Json()));
                if (item.value("role", "") == "user") {
                    context.task = text;
                    context.calls_made = 0;
                }
            }
            input_tokens += count_tokens(text) + 3;
        }
    double temperature = body.contains("temperature") && body["temperature"].is_number()
                             ? body["temperature"].get<double>()
                             : 1.0;
    SimState::Draw d = state.draw(b, temperature == 0);
    if (d.fault == "429" || d.fault == "500" || d.fault == "529") {
        Reply r = json_reply(d.fault == "429" ? 429 : 500,
                             {{"error",
                               {{"message", "simulated failure"},
                                {"type", d.fault == "429" ? "requests" : "server_error"},
                                {"param", nullptr},
                                {"code", nullptr}}}});
        if (d.fault == "429") r.headers.emplace_back("retry-after", "1");
        return r;
    }
    Json tools = Json::array();
    if (body.contains("tools") && body["tools"].is_array())
        for (const auto& t : body["tools"])
            if (t.value("type", "") == "function")
                tools.push_back({{"name", t.value("name", "")},
                                 {"parameters", t.value("parameters", Json::object())}});

    // Structured output: `text.format` json_schema (or json_object).
    const Json format = body.contains("text") && body["text"].is_object()
                            ? body["text"].value("format", Json())
                            : Json();
    std::string format_type = format.is_object() ? format.value("type", "text") : "text";
    Json key = {{"model", body["model"]},
                {"input", input},
                {"instructions", body.value("instructions", Json())},
                {"tools", tools},
                {"temperature", temperature},
                {"fingerprint", d.fingerprint}};
    for (const char* k : {"tool_choice", "parallel_tool_calls", "text"})
        if (body.contains(k)) key[k] = body[k];
    if (temperature > 0) key["sample"] = std::to_string(d.sample);
    if (d.noisy) key["noise"] = d.request_index;
    if (b.persona_by_key) key["persona"] = api_key;
    GenerationRequest g;
    g.seed = generation_seed(key);
    g.max_tokens = body.value("max_output_tokens", 0LL);
    g.tools = tools;
    g.calls = plan_tool_calls(tools, openai_tool_choice(body), context, g.seed);
    g.json_object = format_type == "json_object";
    if (format_type == "json_schema") g.schema = format.value("schema", Json::object());
    if (b.stateful_clock) g.prefix = clock_prefix();
    Generation gen = generate(g);

    // Ids follow from the request, as the text does: an item id the program
    // sends back in its next request is the same on every run.
    std::string id = make_id("resp_", g.seed);
    std::string msg_id = make_id("msg_", g.seed + 1);
    long long created = unix_seconds();
    Json usage = {{"input_tokens", input_tokens},
                  {"input_tokens_details", {{"cached_tokens", 0}}},
                  {"output_tokens", gen.output_tokens},
                  {"output_tokens_details", {{"reasoning_tokens", 0}}},
                  {"total_tokens", input_tokens + gen.output_tokens}};
    Json message = {
        {"type", "message"},
        {"id", msg_id},
        {"status", "completed"},
        {"role", "assistant"},
        {"content",
         Json::array(
             {{{"type", "output_text"}, {"text", gen.text}, {"annotations", Json::array()}}})}};
    Json output = Json::array();
    if (gen.tool_calls.empty()) output.push_back(message);
    for (std::size_t i = 0; i < gen.tool_calls.size(); ++i) {
        const auto& tc = gen.tool_calls[i];
        output.push_back({{"type", "function_call"},
                          {"id", make_id("fc_", g.seed + 2 + i)},
                          {"call_id", tc.id},
                          {"name", tc.name},
                          {"arguments", tc.arguments},
                          {"status", "completed"}});
    }
    auto response = [&](const std::string& status, Json out, Json use) {
        return Json{{"id", id},
                    {"object", "response"},
                    {"created_at", created},
                    {"status", status},
                    {"error", nullptr},
                    {"incomplete_details", gen.truncated && status == "incomplete"
                                               ? Json{{"reason", "max_output_tokens"}}
                                               : Json()},
                    {"instructions", body.value("instructions", Json())},
                    {"max_output_tokens", body.value("max_output_tokens", Json())},
                    {"model", body["model"]},
                    {"output", std::move(out)},
                    {"parallel_tool_calls", body.value("parallel_tool_calls", Json(true))},
                    {"previous_response_id", nullptr},
                    {"temperature", temperature},
                    {"top_p", body.value("top_p", 1.0)},
                    {"tool_choice", body.value("tool_choice", Json("auto"))},
                    {"tools", body.value("tools", Json::array())},
                    {"text", body.contains("text") && body["text"].is_object()
                                 ? body["text"]
                                 : Json{{"format", {{"type", "text"}}}}},
                    {"usage", std::move(use)},
                    {"metadata", Json::object()}};
    };
    std::string final_status = gen.truncated ? "incomplete" : "completed";
    if (!body.value("stream", false)) {
        Reply r = json_reply(200, response(final_status, output, usage));
        r.delay_ms = d.latency_ms;
        if (d.fault == "reset") r.fault = Fault::reset;
        if (d.fault == "midstream") r.fault = Fault::midstream;
        return r;
    }
    Reply r;
    r.stream = true;
    r.headers.emplace_back("content-type", "text/event-stream; charset=utf-8");
    r.delay_ms = d.latency_ms;
    r.frame_interval_ms = b.stream_interval_ms;
    long long seq = 0;
    auto event = [&](const std::string& type, const Json& fields) {
        Wire frame = {{"type", type}, {"sequence_number", seq++}};
        for (const auto& [name, value] : fields.items()) frame[name] = value;
        r.frames.push_back(sse(frame, type));
    };
    event("response.created", {{"response", response("in_progress", Json::array(), nullptr)}});
    event("response.in_progress", {{"response", response("in_progress", Json::array(), nullptr)}});
    for (std::size_t i = 0; i < output.size(); ++i) {
        Json item = output[i];
        if (item["type"] == "message") {
            Json empty = item;
            empty["status"] = "in_progress";
            empty["content"] = Json::array();
            event("response.output_item.added", {{"output_index", i}, {"item", empty}});
            Json part = {{"type", "output_text"}, {"text", ""}, {"annotations", Json::array()}};
            event("response.content_part.added",
                  {{"item_id", msg_id}, {"output_index", i}, {"content_index", 0}, {"part", part}});
            for (const auto& piece : stream_pieces(gen.text, g.seed))
                event("response.output_text.delta", {{"item_id", msg_id},
                                                     {"output_index", i},
                                                     {"content_index", 0},
                                                     {"delta", piece}});
            event("response.output_text.done", {{"item_id", msg_id},
                                                {"output_index", i},
                                                {"content_index", 0},
                                                {"text", gen.text}});
            part["text"] = gen.text;
            event("response.content_part.done",
                  {{"item_id", msg_id}, {"output_index", i}, {"content_index", 0}, {"part", part}});
        } else {
            Json empty = item;
            empty["arguments"] = "";
            empty["status"] = "in_progress";
            event("response.output_item.added", {{"output_index", i}, {"item", empty}});
            std::string args = item["arguments"];
            for (std::size_t at = 0; at < args.size(); at += 7)
                event(
                    "response.function_call_arguments.delta",
                    {{"item_id", item["id"]}, {"output_index", i}, {"delta", args.substr(at, 7)}});
            event("response.function_call_arguments.done",
                  {{"item_id", item["id"]}, {"output_index", i}, {"arguments", args}});
        }
        event("response.output_item.done", {{"output_index", i}, {"item", item}});
    }
    event(gen.truncated ? "response.incomplete" : "response.completed",
          {{"response", response(final_status, output, usage)}});
    if (d.fault == "reset") r.fault = Fault::reset;
    if (d.fault == "midstream") r.fault = Fault::midstream;
    return r;
}

}  // namespace retrace::sim
