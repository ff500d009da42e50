// Server-sent events (the text/event-stream format of the WHATWG HTML
// standard), as model providers stream them: `event:` and `data:` fields,
// events separated by a blank line, CR, LF or CRLF line ends.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace retrace::core {

struct SseEvent {
    std::string event;  // the `event:` field; empty when absent
    std::string data;   // the `data:` lines joined with '\n'
    std::string id;     // the `id:` field; empty when absent
};

// An event as for_each_sse hands it over: views valid during the call
// (into the body, or for data of several lines into a joined copy).
struct SseEventView {
    std::string_view event;
    std::string_view data;
    std::string_view id;
};

// Parses a whole stream body. Comments (`:` lines) are skipped; an event
// with neither data (an empty `data:` line is none) nor a name is
// dropped; an unterminated last event (a stream cut mid-way) is returned
// when it has data.
std::vector<SseEvent> parse_sse(std::string_view body);

// The same events, one call each, without copying what needs no joining.
void for_each_sse(std::string_view body, const std::function<void(const SseEventView&)>& fn);

// True when the body looks like an event stream rather than JSON: a
// content-type of text/event-stream, or else its first line starts with a
// field name ("data:", "event:", "id:", "retry:") or a comment.
bool looks_like_sse(std::string_view content_type, std::string_view body);

}  // namespace retrace::core
