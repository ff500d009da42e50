// Event streams and model answers (core/sse.cpp, core/llm_response.cpp):
// what an upstream sends and `show`, `diff` and the traffic facts read
// back. Properties: parse_sse and for_each_sse see the same events; no
// event is empty; assembling an answer from any body, as either provider,
// streamed or not, never fails.
#include <cstdint>
#include <vector>

#include "fuzz_support.hpp"
#include "retrace/core/llm_response.hpp"
#include "retrace/core/sse.hpp"

using namespace retrace;
using fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view body(reinterpret_cast<const char*>(data), size);

    auto events = core::parse_sse(body);
    std::size_t i = 0;
    core::for_each_sse(body, [&](const core::SseEventView& e) {
        require(i < events.size(), "for_each_sse sees no more events than parse_sse");
        require(e.event == events[i].event && e.data == events[i].data && e.id == events[i].id,
                "for_each_sse sees the events parse_sse returns");
        require(!e.event.empty() || !e.data.empty(), "an event has data or a name");
        ++i;
    });
    require(i == events.size(), "for_each_sse sees every event parse_sse returns");
    bool sse = core::looks_like_sse("", body);

    for (std::string_view route : {"openai", "anthropic"}) {
        auto answer =
            core::assemble_response(route, sse ? "text/event-stream" : "application/json", body);
        (void)answer.to_json().dump();
    }
    (void)core::summarize_request(body);
    return 0;
}
