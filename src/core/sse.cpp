#include "retrace/core/sse.hpp"

#include <cstring>

namespace retrace::core {

namespace {

// The first '\r' or '\n' in text, or npos: the first '\n', then a '\r'
// before it, each found with memchr's wide compares. (find_first_of("\r\n")
// calls memchr over the two-character set once per byte of the stream; that
// cost recording at 32 streaming connections a sixth of its throughput.)
std::size_t line_end(std::string_view text) {
    const char* begin = text.data();
    const void* lf = std::memchr(begin, '\n', text.size());
    std::size_t end =
        lf ? static_cast<std::size_t>(static_cast<const char*>(lf) - begin) : text.size();
    if (const void* cr = std::memchr(begin, '\r', end))
        return static_cast<std::size_t>(static_cast<const char*>(cr) - begin);
    return lf ? end : std::string_view::npos;
}

// Splits off one line; accepts "\r\n", "\n" and "\r" as line ends.
bool next_line(std::string_view& rest, std::string_view& line, bool& terminated) {
    if (rest.empty()) return false;
    std::size_t end = line_end(rest);
    if (end == std::string_view::npos) {
        line = rest;
        rest = {};
        terminated = false;
        return true;
    }
    line = rest.substr(0, end);
    std::size_t skip =
        (rest[end] == '\r' && end + 1 < rest.size() && rest[end + 1] == '\n') ? 2 : 1;
    rest.remove_prefix(end + skip);
    terminated = true;
    return true;
}

}  // namespace

void for_each_sse(std::string_view body, const std::function<void(const SseEventView&)>& fn) {
    SseEventView current;
    std::string joined;  // data of several lines
    bool has_data = false, is_joined = false;
    auto dispatch = [&] {
        if (is_joined) current.data = joined;
        if ((has_data && !current.data.empty()) || !current.event.empty()) fn(current);
        current = SseEventView{};
        has_data = is_joined = false;
    };
    std::string_view line;
    bool terminated = true;
    while (next_line(body, line, terminated)) {
        if (line.empty()) {
            dispatch();
            continue;
        }
        if (line.front() == ':') continue;
        std::size_t colon = line.find(':');
        std::string_view field = line.substr(0, colon);
        std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
        if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
        if (field == "data") {
            if (!has_data) {
                current.data = value;
            } else {
                if (!is_joined) joined.assign(current.data);
                is_joined = true;
                joined.append(1, '\n').append(value);
            }
            has_data = true;
        } else if (field == "event") {
            current.event = value;
        } else if (field == "id") {
            current.id = value;
        }
    }
    if (has_data) dispatch();  // cut mid-way: keep what arrived
    (void)terminated;
}

std::vector<SseEvent> parse_sse(std::string_view body) {
    std::vector<SseEvent> out;
    for_each_sse(body, [&](const SseEventView& e) {
        out.push_back({std::string(e.event), std::string(e.data), std::string(e.id)});
    });
    return out;
}

bool looks_like_sse(std::string_view content_type, std::string_view body) {
    if (content_type.find("text/event-stream") != std::string_view::npos) return true;
    if (!content_type.empty() && content_type.find("json") != std::string_view::npos) return false;
    std::size_t start = body.find_first_not_of(" \t\r\n");
    if (start == std::string_view::npos) return false;
    body.remove_prefix(start);
    for (std::string_view f : {"data:", "event:", "id:", "retry:", ":"})
        if (body.starts_with(f)) return true;
    return false;
}

}  // namespace retrace::core
