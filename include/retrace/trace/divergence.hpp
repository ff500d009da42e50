// A divergence: a request or SDK call of a replay that the recording could
// not answer. Replay keeps it (replay/cassette.hpp), stores it in the
// replay run's event (the `divergence` attribute, docs/cassette.md), tells
// the program in one line, and reports it; each of those forms is made
// here, and nowhere else.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "retrace/core/canonical_json.hpp"
#include "retrace/core/matching.hpp"

namespace retrace::trace {

struct Divergence {
    enum class Of { request, call };  // a model/HTTP request, or an SDK event
    Of of = Of::request;
    std::string request;                     // "POST /openai/chat/completions", "tool get_time"
    std::string reason;                      // why nothing was served
    std::optional<long long> nearest;        // seq of the nearest recorded request
    std::vector<core::JsonDifference> diff;  // from the nearest to this request
    std::string nearest_raw;  // when the bodies are not JSON: a note instead of a diff

    // The `divergence` attribute of the replay's event: {reason, diff:
    // [{path, recorded, now}], nearest?}.
    core::Json to_attrs() const;
    // Back from an event's attribute (request and nearest_raw are not
    // stored); missing fields stay empty.
    static Divergence from_attrs(const core::Json& attrs);
    // As `replay --json` reports it: the attribute's fields plus request,
    // nearest (null when none) and note (nearest_raw, when set).
    core::Json to_json() const;
    // The one line the program is answered with: "retrace replay diverged:
    // REQUEST: REASON; nearest recorded request is #N; PATH: A -> B ..."
    // (the first three differences).
    std::string message() const;
    // The lines of a replay's report: "REQUEST: REASON (nearest recorded:
    // #N)", then one indented line per difference, then the note.
    std::vector<std::string> report_lines() const;
};

}  // namespace retrace::trace
