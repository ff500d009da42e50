// A run as an OpenTelemetry trace (docs/interop.md): OTLP/HTTP's JSON form
// of an ExportTraceServiceRequest, with the GenAI semantic conventions on
// the model exchanges and tool calls, and retrace's own facts as retrace.*
// attributes. otlp_protobuf.hpp turns it into protobuf; post_otlp sends it.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "retrace/core/canonical_json.hpp"
#include "retrace/core/result.hpp"
#include "retrace/store/store.hpp"

namespace retrace::interop {

struct OtlpOptions {
    // Message content (gen_ai.input.messages, gen_ai.output.messages,
    // gen_ai.system_instructions, tool arguments and results): opt-in, as
    // the conventions have it. Stored content is already redacted.
    bool content = false;
};

// The 16 hex digits of the span of a run's event seq: the SDK's own span
// id when the event has one, else derived from the run id and seq.
std::string span_id_of(std::string_view run_id, long long seq);

// The trace of run_id (core::trace_id_of), one span per event, parents as
// the events' (events without one are children of the process's span).
Result<core::Json> otlp_trace(store::Store& store, const std::string& run_id,
                              const OtlpOptions& options);

// The GenAI conventions' message lists from a model request and response
// (OpenAI chat completions and Responses, Anthropic messages): what
// --content exports. Unknown shapes give empty lists.
struct GenAiMessages {
    core::Json system = core::Json::array();  // gen_ai.system_instructions
    core::Json input = core::Json::array();   // gen_ai.input.messages
    core::Json output = core::Json::array();  // gen_ai.output.messages
};
GenAiMessages genai_messages(std::string_view route, std::string_view request_body,
                             std::string_view content_type, std::string_view response_body);

// Sends body to an OTLP/HTTP endpoint (a collector's URL; /v1/traces is
// appended unless the path already ends with it), retrying 429, 502, 503
// and 504 and a refused or broken connection as the OTLP specification
// says: after Retry-After when the answer gives one, else with exponential
// backoff, up to max_attempts. Any other answer but 2xx is an error naming
// the status and the start of its body.
struct OtlpPost {
    std::string url;
    std::string content_type;  // application/json or application/x-protobuf
    std::vector<std::pair<std::string, std::string>> headers;
    int max_attempts = 5;
    double first_backoff_seconds = 1.0;
};
struct OtlpPostResult {
    int attempts = 0;
    int status = 0;
};
Result<OtlpPostResult> post_otlp(const OtlpPost& post, const std::string& body);

}  // namespace retrace::interop
