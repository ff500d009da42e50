#include "common.hpp"

#include <ctime>

#include "retrace/core/clock.hpp"
#include "retrace/core/digest.hpp"

namespace retrace::sim {

Reply json_reply(int status, const Wire& body) {
    Reply r;
    r.status = status;
    r.body = body.dump();
    r.headers.emplace_back("content-type", "application/json");
    return r;
}

std::string sse(const Wire& data, const std::string& event) {
    std::string out;
    if (!event.empty()) out += "event: " + event + "\n";
    out += "data: " + data.dump() + "\n\n";
    return out;
}

std::vector<std::string> stream_pieces(const std::string& text, std::uint64_t seed) {
    Rng rng(seed);
    std::vector<std::string> pieces;
    std::size_t i = 0;
    while (i < text.size()) {
        std::size_t words = 1 + rng.below(2);
        std::size_t j = i;
        for (std::size_t w = 0; w < words && j < text.size(); ++w) {
            while (j < text.size() && text[j] == ' ') ++j;
            while (j < text.size() && text[j] != ' ') ++j;
        }
        pieces.push_back(text.substr(i, j - i));
        i = j;
    }
    return pieces;
}

std::string base64(const std::string& bytes) {
    static constexpr char k_alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                     (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                     static_cast<unsigned char>(bytes[i + 2]);
        for (int k = 18; k >= 0; k -= 6) out.push_back(k_alphabet[(v >> k) & 63]);
    }
    if (i < bytes.size()) {
        unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
        if (i + 1 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
        out.push_back(k_alphabet[(v >> 18) & 63]);
        out.push_back(k_alphabet[(v >> 12) & 63]);
        out.push_back(i + 1 < bytes.size() ? k_alphabet[(v >> 6) & 63] : '=');
        out.push_back('=');
    }
    return out;
}

std::string make_id(const std::string& prefix, std::uint64_t entropy) {
    return prefix + core::Digest::of(std::to_string(entropy)).hex().substr(0, 24);
}

long long unix_seconds() {
    return core::unix_now_ns() / 1000000000;
}

std::string content_text(const Json& content) {
    if (content.is_string()) return content.get<std::string>();
    std::string out;
    if (content.is_array())
        for (const auto& part : content)
            if (part.is_object() && part.contains("text") && part["text"].is_string()) {
                if (!out.empty()) out += ' ';
                out += part["text"].get_ref<const std::string&>();
            }
    return out;
}

long long content_tokens(const Json& content) {
    return count_tokens(content_text(content));
}

// tool_choice and parallel_tool_calls as Chat Completions and Responses
// send them: "none", "auto", "required", or a function named
// ({"type":"function","function":{"name"}} or {"type":"function","name"}).
ToolChoice openai_tool_choice(const Json& body) {
    ToolChoice c;
    const Json choice = body.value("tool_choice", Json());
    if (choice == "none") c.mode = ToolChoice::Mode::none;
    if (choice == "required") c.mode = ToolChoice::Mode::required;
    if (choice.is_object()) {
        const Json& f = choice.contains("function") ? choice["function"] : choice;
        if (f.is_object() && f.contains("name") && f["name"].is_string()) {
            c.mode = ToolChoice::Mode::named;
            c.name = f["name"];
        }
    }
    if (body.contains("parallel_tool_calls") && body["parallel_tool_calls"].is_boolean())
        c.parallel = body["parallel_tool_calls"].get<bool>();
    return c;
}

std::string clock_prefix() {
    return core::utc_time(core::unix_now_ns(), "It is %Y-%m-%d %H:%M:%S UTC.");
}

}  // namespace retrace::sim
