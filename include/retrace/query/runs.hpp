// The questions asked of a store about its runs, answered as JSON: what
// `retrace runs --json` and `retrace show --json` print, and what
// `retrace serve` answers at /api/v1/runs. One answer for both, so the page
// and the command line never disagree (docs/web.md).
#pragma once

#include <string>

#include "retrace/core/llm_response.hpp"
#include "retrace/store/store.hpp"

namespace retrace::query {

// A run's row, its JSON text columns parsed, with what a list shows of it:
// its kind ("record", "replay", "probe"), the models it asked for and the
// system fingerprints it was served (both from its conditions).
core::Json run_summary_json(const store::RunRow& run);
// The summary with the conditions, their identity, metadata, outcome and
// every event; a model call's event with its answer's summary
// (answer_summary_json) as "summary".
core::Json run_full_json(store::Store& store, const store::RunRow& run);
core::Json event_json(const store::EventRow& row);
// An event as run_full_json lists it: a model call's with its answer's
// summary (answer_summary_json) as "summary".
core::Json listed_event_json(store::Store& store, const store::EventRow& row);

// What a list line says of a model's answer: model, fingerprint, tokens,
// the tools it called, its finish reason, whether streamed, its error.
core::Json answer_summary_json(const core::LlmResponse& response);

// Tokens a run's model exchanges used, summed from their answers:
// {"input": N, "output": N}, or null when no answer reported usage.
// Reads every answer of the run: for a page of runs, not for a whole store.
core::Json run_tokens_json(store::Store& store, const std::string& run_id);

// A list of runs as asked on the command line or in a URL's query.
struct RunQuery {
    std::string name, state, since, kind, contains;
    std::string before;  // a run reference: the runs older than it
    std::optional<int> limit;
    bool tokens = false;  // add each run's tokens (run_tokens_json)
};
// invalid_input for a bad since, state or kind; not_found for a before
// that names no run.
Result<core::Json> list_runs_json(store::Store& store, const RunQuery& query, long long now_ns);

// Parses WHEN for --since: "2026-11-22", "2026-11-22T10:00:00", or "30m", "2h", "7d" ago.
Result<long long> parse_since(const std::string& when, long long now_ns);

// The answer of an llm event's exchange, assembled from its stored body
// (streamed or not).
core::LlmResponse response_of(store::Store& store, const core::Event& event);

// Event seq of a run. not_found when there is none.
Result<core::Event> find_event(store::Store& store, const store::RunRow& run, long long seq);

// An event in full (`show RUN --event N --json`): the event; for an
// exchange its request and response (headers as stored: secrets
// redacted), the response's frames with their offsets and, for a model
// call, the assembled answer; for the process its stdout and stderr; for
// an SDK event its input, output and error.
core::Json event_detail_json(store::Store& store, const core::Event& event);

}  // namespace retrace::query
