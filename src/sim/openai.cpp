// The OpenAI side of the sim: chat completions, responses, embeddings,
// models; errors in OpenAI's shape.
#include <cmath>
#include <cstring>

#include "common.hpp"

namespace retrace::sim {

namespace {

Reply openai_error(int status, const std::string& message, const std::string& type,
                   const Json& param = nullptr, const Json& code = nullptr) {
    return json_reply(
        status,
        {{"error", {{"message", message}, {"type", type}, {"param", param}, {"code", code}}}});
}

Reply bad_request(const std::string& message, const Json& param = nullptr) {
    return openai_error(400, message, "invalid_request_error", param);
}

// The reply for an injected failure, or nullopt for none/midstream.
std::optional<Reply> injected_failure(const std::string& fault) {
    if (fault == "429") {
        Reply r = openai_error(429, "Rate limit reached for requests (simulated).", "requests",
                               nullptr, "rate_limit_exceeded");
        r.headers.emplace_back("retry-after", "1");
        return r;
    }
    if (fault == "500" || fault == "529")
        return openai_error(fault == "500" ? 500 : 503,
                            "The server had an error while processing your request (simulated).",
                            "server_error");
    if (fault == "reset") {
        Reply r;
        r.fault = Fault::reset;
        return r;
    }
    return std::nullopt;
}

struct Common {
    Behaviour behaviour;
    std::string api_key;
    Json body;
};

// Authentication, JSON body, model: the checks every model endpoint makes.
std::optional<Reply> validate(const HttpRequest& r, SimState& state, Common& out) {
    auto b = state.behaviour_for(r);
    if (!b) return bad_request(b.status().message());
    out.behaviour = *b;
    std::string auth = r.header("authorization");
    if (auth.rfind("Bearer ", 0) == 0) out.api_key = auth.substr(7);
    if (out.api_key.empty())
        return openai_error(
            401,
            "You didn't provide an API key. You need to provide your API key in an "
            "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            "invalid_request_error");
    auto parsed = core::parse_json_strict(r.body);
    if (!parsed || !parsed->is_object())
        return bad_request(
            "We could not parse the JSON body of your request. (HINT: This likely means "
            "you aren't using your HTTP library correctly.) " +
            (parsed ? std::string("The body is not an object.") : parsed.status().message()));
    out.body = std::move(parsed).value();
    if (!out.body.contains("model"))
        return bad_request("Missing required parameter: 'model'.", "model");
    if (!out.body["model"].is_string())
        return bad_request("Invalid type for 'model': expected a string.", "model");
    std::string model = out.body["model"];
    if (!is_known_model(model, out.behaviour))
        return openai_error(
            404, "The model `" + model + "` does not exist or you do not have access to it.",
            "invalid_request_error", nullptr, "model_not_found");
    for (const char* key : {"temperature", "top_p"}) {
        if (out.body.contains(key) && !out.body[key].is_null()) {
            if (!out.body[key].is_number())
                return bad_request(
                    std::string("Invalid type for '") + key + "': expected a number.", key);
            double v = out.body[key];
            if (v < 0 || v > 2)
                return bad_request(std::string("Invalid '") + key + "': must be between 0 and 2.",
                                   key);
        }
    }
    for (const char* key :
         {"max_tokens", "max_completion_tokens", "max_output_tokens", "seed", "n"}) {
        if (out.body.contains(key) && !out.body[key].is_null() &&
            !out.body[key].is_number_integer())
            return bad_request(std::string("Invalid type for '") + key + "': expected an integer.",
                               key);
    }
    return std::nullopt;
}

double temperature_of(const Json& body) {
    return body.contains("temperature") && body["temperature"].is_number()
               ? body["temperature"].get<double>()
               : 1.0;
}

// Everything that determines a generation, and the draw's entropy where the
// provider would sample.
Json generation_key(const Json& body, const Common& c, const SimState::Draw& d, const Json& input,
                    const Json& tools, int choice) {
    Json key = {{"model", body["model"]},
                {"input", input},
                {"tools", tools},
                {"temperature", temperature_of(body)},
                {"fingerprint", d.fingerprint},
                {"choice", choice}};
    for (const char* k :
         {"top_p", "tool_choice", "parallel_tool_calls", "response_format", "instructions"})
        if (body.contains(k)) key[k] = body[k];
    bool seeded =
        body.contains("seed") && body["seed"].is_number_integer() && !c.behaviour.ignore_seed;
    if (seeded) key["seed"] = body["seed"];
    if (temperature_of(body) > 0 && !seeded) key["sample"] = std::to_string(d.sample);
    if (d.noisy) key["noise"] = d.request_index;
    if (c.behaviour.persona_by_key) key["persona"] = c.api_key;
    return key;
}

// Normalized function tools: [{"name", "parameters"}], from Chat
// ({"type":"function","function":{...}}) or Responses ({"type":"function","name",...}) shapes.
Json normalize_tools(const Json& tools) {
    Json out = Json::array();
    if (!tools.is_array()) return out;
    for (const auto& t : tools) {
        const Json& f = t.contains("function") ? t["function"] : t;
        if (f.is_object() && f.contains("name"))
            out.push_back(
                {{"name", f["name"]}, {"parameters", f.value("parameters", Json::object())}});
    }
    return out;
}

// The task (the last user message) and the tool calls made since it.
ToolContext chat_context(const Json& messages) {
    ToolContext c;
    for (const auto& m : messages) {
        if (m.value("role", "") == "user") {
            c.task = content_text(m.value("content", Json()));
            c.calls_made = 0;
        } else if (m.value("role", "") == "assistant" && m.contains("tool_calls") &&
                   m["tool_calls"].is_array()) {
            c.calls_made += static_cast<long long>(m["tool_calls"].size());
        }
    }
    return c;
}

// The JSON Schema of `response_format: {"type": "json_schema", ...}`, or null.
Json chat_schema(const Json& body) {
    const Json format = body.value("response_format", Json());
    if (!format.is_object() || format.value("type", "") != "json_schema") return nullptr;
    const Json spec = format.value("json_schema", Json::object());
    return spec.is_object() ? spec.value("schema", Json::object()) : Json::object();
}

long long max_tokens_of(const Json& body) {
    for (const char* k : {"max_completion_tokens", "max_tokens", "max_output_tokens"})
        if (body.contains(k) && body[k].is_number_integer()) return body[k].get<long long>();
    return 0;
}

Reply chat_completions(const HttpRequest& r, SimState& state) {
    Common c;
    if (auto err = validate(r, state, c)) return *err;
    const Json& body = c.body;
    if (!body.contains("messages"))
        return bad_request("Missing required parameter: 'messages'.", "messages");
    if (!body["messages"].is_array())
        return bad_request("Invalid type for 'messages': expected an array of objects.",
                           "messages");
    if (body["messages"].empty())
        return bad_request(
            "Invalid 'messages': empty array. Expected an array with minimum length 1.",
            "messages");
    long long prompt_tokens = 0;
    for (std::size_t i = 0; i < body["messages"].size(); ++i) {
        const Json& m = body["messages"][i];
        std::string where = "messages[" + std::to_string(i) + "]";
        if (!m.is_object() || !m.contains("role") || !m["role"].is_string())
            return bad_request("Invalid '" + where + "': expected an object with a string 'role'.",
                               where + ".role");
        prompt_tokens += count_tokens(content_text(m.value("content", Json()))) + 3;
    }
    Json tools = normalize_tools(body.value("tools", Json::array()));
    prompt_tokens += count_tokens(tools.dump()) / 2;
    long long n = body.value("n", 1LL);
    if (n < 1 || n > 8) return bad_request("Invalid 'n': must be between 1 and 8.", "n");

    bool zero = temperature_of(body) == 0;
    SimState::Draw d = state.draw(c.behaviour, zero);
    if (auto fail = injected_failure(d.fault)) return *fail;
    ToolChoice tool_choice = openai_tool_choice(body);
    ToolContext context = chat_context(body["messages"]);
    bool json_object = body.contains("response_format") && body["response_format"].is_object() &&
                       body["response_format"].value("type", "") == "json_object";
    std::string model = body["model"];
    long long created = unix_seconds();

    std::vector<Generation> gens;
    std::vector<std::uint64_t> seeds;  // each choice's: its stream's pieces follow from it
    long long completion_tokens = 0;
    for (long long i = 0; i < n; ++i) {
        GenerationRequest g;
        g.seed = generation_seed(
            generation_key(body, c, d, body["messages"], tools, static_cast<int>(i)));
        g.max_tokens = max_tokens_of(body);
        g.tools = tools;
        g.calls = plan_tool_calls(tools, tool_choice, context, g.seed);
        g.json_object = json_object;
        g.schema = chat_schema(body);
        if (c.behaviour.stateful_clock) g.prefix = clock_prefix();
        seeds.push_back(g.seed);
        gens.push_back(generate(g));
        completion_tokens += gens.back().output_tokens;
    }
    // The id, like the text, follows from the request (and the sampling
    // draw where it counts), so a rerun gets the same one.
    std::string id = make_id("chatcmpl-", seeds[0]);
    auto finish = [](const Generation& g) {
        return !g.tool_calls.empty() ? "tool_calls" : g.truncated ? "length" : "stop";
    };
    Json usage = {{"prompt_tokens", prompt_tokens},
                  {"completion_tokens", completion_tokens},
                  {"total_tokens", prompt_tokens + completion_tokens},
                  {"prompt_tokens_details", {{"cached_tokens", 0}}},
                  {"completion_tokens_details", {{"reasoning_tokens", 0}}}};
    bool stream = body.value("stream", false);
    if (!stream) {
        Json choices = Json::array();
        for (std::size_t i = 0; i < gens.size(); ++i) {
            Json message = {{"role", "assistant"}, {"content", nullptr}, {"refusal", nullptr}};
            if (gens[i].tool_calls.empty()) message["content"] = gens[i].text;
            Json calls = Json::array();
            for (const auto& tc : gens[i].tool_calls)
                calls.push_back({{"id", tc.id},
                                 {"type", "function"},
                                 {"function", {{"name", tc.name}, {"arguments", tc.arguments}}}});
            if (!calls.empty()) message["tool_calls"] = calls;
            choices.push_back({{"index", i},
                               {"message", message},
                               {"logprobs", nullptr},
                               {"finish_reason", finish(gens[i])}});
        }
        Reply reply = json_reply(200, {{"id", id},
                                       {"object", "chat.completion"},
                                       {"created", created},
                                       {"model", model},
                                       {"system_fingerprint", d.fingerprint},
                                       {"choices", choices},
                                       {"usage", usage},
                                       {"service_tier", "default"}});
        reply.delay_ms = d.latency_ms;
        if (d.fault == "midstream") reply.fault = Fault::midstream;
        return reply;
    }
    bool include_usage = body.contains("stream_options") && body["stream_options"].is_object() &&
                         body["stream_options"].value("include_usage", false);
    Reply reply;
    reply.stream = true;
    reply.headers.emplace_back("content-type", "text/event-stream; charset=utf-8");
    reply.delay_ms = d.latency_ms;
    reply.frame_interval_ms = c.behaviour.stream_interval_ms;
    // Every chunk starts with the same members: serialized once, up to
    // `"choices":`, and each chunk's choices written after them.
    const Wire common = {{"id", id},
                         {"object", "chat.completion.chunk"},
                         {"created", created},
                         {"model", model},
                         {"system_fingerprint", d.fingerprint}};
    std::string head = "data: " + common.dump();
    head.back() = ',';  // (the object goes on)
    head += "\"choices\":";
    const std::string tail = include_usage ? ",\"usage\":null}\n\n" : "}\n\n";
    auto chunk = [&](Json choices) {  // (by value: an argument `{x}` is then an array)
        return head + choices.dump() + tail;
    };
    auto choice = [](std::size_t index, Json delta, Json finish_reason) {
        return Json{{"index", index},
                    {"delta", std::move(delta)},
                    {"logprobs", nullptr},
                    {"finish_reason", std::move(finish_reason)}};
    };
    for (std::size_t i = 0; i < gens.size(); ++i) {
        const Generation& g = gens[i];
        reply.frames.push_back(chunk(
            {choice(i, {{"role", "assistant"}, {"content", ""}, {"refusal", nullptr}}, nullptr)}));
        if (g.tool_calls.empty()) {
            for (const auto& piece : stream_pieces(g.text, seeds[i]))
                reply.frames.push_back(chunk({choice(i, {{"content", piece}}, nullptr)}));
        }
        for (std::size_t t = 0; t < g.tool_calls.size(); ++t) {
            const auto& tc = g.tool_calls[t];
            reply.frames.push_back(
                chunk({choice(i,
                              {{"tool_calls",
                                {{{"index", t},
                                  {"id", tc.id},
                                  {"type", "function"},
                                  {"function", {{"name", tc.name}, {"arguments", ""}}}}}}},
                              nullptr)}));
            for (std::size_t at = 0; at < tc.arguments.size(); at += 7)
                reply.frames.push_back(chunk({choice(
                    i,
                    {{"tool_calls",
                      {{{"index", t}, {"function", {{"arguments", tc.arguments.substr(at, 7)}}}}}}},
                    nullptr)}));
        }
        reply.frames.push_back(chunk({choice(i, Json::object(), finish(g))}));
    }
    if (include_usage) {
        Wire j = {
            {"id", id},       {"object", "chat.completion.chunk"},   {"created", created},
            {"model", model}, {"system_fingerprint", d.fingerprint}, {"choices", Json::array()},
            {"usage", usage}};
        reply.frames.push_back(sse(j));
    }
    reply.frames.push_back("data: [DONE]\n\n");
    if (d.fault == "midstream") reply.fault = Fault::midstream;
    return reply;
}

Reply embeddings(const HttpRequest& r, SimState& state) {
    Common c;
    if (auto err = validate(r, state, c)) return *err;
    const Json& body = c.body;
    if (!body.contains("input"))
        return bad_request("Missing required parameter: 'input'.", "input");
    Json inputs = body["input"].is_array() ? body["input"] : Json::array({body["input"]});
    long long dims = body.value("dimensions", 256LL);
    if (dims < 1 || dims > 4096) return bad_request("Invalid 'dimensions'.", "dimensions");
    bool b64 = body.value("encoding_format", "float") == "base64";
    Json data = Json::array();
    long long tokens = 0;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        if (!inputs[i].is_string())
            return bad_request(
                "Invalid type for 'input[" + std::to_string(i) + "]': expected a string.", "input");
        std::string text = inputs[i];
        tokens += count_tokens(text);
        Rng rng(seed_of(body["model"].get<std::string>() + "\n" + text));
        std::vector<float> v(static_cast<std::size_t>(dims));
        double norm = 0;
        for (auto& x : v) {
            x = static_cast<float>(rng.unit() * 2 - 1);
            norm += static_cast<double>(x) * x;
        }
        for (auto& x : v) x = static_cast<float>(x / std::sqrt(norm));
        Json emb;
        if (b64) {
            std::string bytes(v.size() * sizeof(float), '\0');
            std::memcpy(bytes.data(), v.data(), bytes.size());
            emb = base64(bytes);
        } else {
            emb = Json(v);
        }
        data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", emb}});
    }
    state.draw(c.behaviour, false);
    return json_reply(200, {{"object", "list"},
                            {"data", data},
                            {"model", body["model"]},
                            {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}});
}

// The model list, in the shape of the provider whose client asks: the
// Anthropic SDK sends `anthropic-version` and reads a page of its models.
Reply models(const HttpRequest& r) {
    Json data = Json::array();
    if (!r.header("anthropic-version").empty()) {
        for (const auto& m : known_models())
            if (m.provider == Provider::anthropic)
                data.push_back({{"type", "model"},
                                {"id", m.id},
                                {"display_name", m.id},
                                {"created_at", "2025-01-01T00:00:00Z"}});
        return json_reply(200, {{"data", data},
                                {"has_more", false},
                                {"first_id", data.front()["id"]},
                                {"last_id", data.back()["id"]}});
    }
    for (const auto& m : known_models())
        data.push_back({{"id", m.id},
                        {"object", "model"},
                        {"created", 1700000000},
                        {"owned_by", "retrace-sim"}});
    return json_reply(200, {{"object", "list"}, {"data", data}});
}

}  // namespace

Reply handle_openai(const HttpRequest& r, SimState& state) {
    if (r.path == "/v1/chat/completions" && r.method == "POST") return chat_completions(r, state);
    if (r.path == "/v1/embeddings" && r.method == "POST") return embeddings(r, state);
    if (r.path == "/v1/models" && r.method == "GET") return models(r);
    if (r.path == "/v1/responses" && r.method == "POST") {
        Common c;
        if (auto err = validate(r, state, c)) return *err;
        return handle_responses(r, state, c.body, c.behaviour, c.api_key);
    }
    return openai_error(404, "Unknown request URL: " + r.method + " " + r.path + ".",
                        "invalid_request_error", nullptr, "unknown_url");
}

}  // namespace retrace::sim
