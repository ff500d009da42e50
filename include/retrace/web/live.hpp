// What a page watching the store is sent, as server-sent events
// (text/event-stream; docs/web.md), worked out by polling the store: a
// recorder in another process writes to it, and the store is the one place
// both see.
//
//   event: run    data: a run's summary (query::run_summary_json), when a
//                       run appears or its state changes
//   event: event  data: one event of the watched run, as /api/v1/runs/RUN
//                       lists it (query::listed_event_json)
//   event: end    data: {"run": ID}, once the watched run is sealed
//
// Watching one run, the first poll sends every event it has so far (the
// page keeps what it has and skips the numbers it knows), later polls only
// the new ones: those above the highest sent, and, since events complete
// out of order (the process event last of all), each missing number below
// it looked up alone. Not thread safe.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>

#include "retrace/store/store.hpp"

namespace retrace::web {

class LiveFeed {
  public:
    // run_id: the run to watch, or nullopt for the list of runs only.
    LiveFeed(store::Store& store, std::optional<std::string> run_id);

    // The events since the last poll, as SSE text ("" when nothing changed).
    Result<std::string> poll();
    // The watched run is sealed and its end was sent.
    bool ended() const { return m_ended; }

  private:
    Status poll_runs(std::string& out);
    Status poll_run(std::string& out);

    store::Store& m_store;
    std::optional<std::string> m_run_id;
    bool m_first = true, m_ended = false;
    // Runs seen, by id: their state and end, to tell a change.
    std::map<std::string, std::pair<std::string, long long>> m_seen;
    long long m_sent_below = 0;        // every event numbered up to this was sent
    std::set<long long> m_sent_above;  // and these above it
    long long m_highest = 0;           // the highest sent
};

// One server-sent event: "event: NAME\ndata: JSON\n\n".
std::string sse_event(const std::string& name, const std::string& json_text);

}  // namespace retrace::web
