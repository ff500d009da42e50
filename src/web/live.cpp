#include "retrace/web/live.hpp"

#include "retrace/query/runs.hpp"

namespace retrace::web {

namespace {
// How many of the newest runs each poll looks at for new ones.
constexpr int k_newest = 50;
}  // namespace

std::string sse_event(const std::string& name, const std::string& json_text) {
    return "event: " + name + "\ndata: " + json_text + "\n\n";  // (JSON text has no raw newline)
}

LiveFeed::LiveFeed(store::Store& store, std::optional<std::string> run_id)
    : m_store(store), m_run_id(std::move(run_id)) {}

Result<std::string> LiveFeed::poll() {
    std::string out;
    RETRACE_TRY(poll_runs(out));
    if (m_run_id && !m_ended) RETRACE_TRY(poll_run(out));
    m_first = false;
    return out;
}

Status LiveFeed::poll_runs(std::string& out) {
    store::RunFilter newest;
    newest.limit = k_newest;
    RETRACE_ASSIGN(auto rows, m_store.list_runs(newest));
    // Runs seen incomplete that left the newest: asked for one by one.
    std::set<std::string> listed;
    for (const auto& r : rows) listed.insert(r.id);
    std::set<std::string> asked;
    for (const auto& [id, seen] : m_seen)
        if (seen.first == "incomplete" && !listed.count(id)) asked.insert(id);
    if (m_run_id && !listed.count(*m_run_id)) asked.insert(*m_run_id);
    for (const auto& id : asked) {
        RETRACE_ASSIGN(auto row, m_store.get_run(id));
        if (row) rows.push_back(std::move(*row));
    }
    for (auto it = rows.rbegin(); it != rows.rend(); ++it) {  // (oldest first, as they came)
        const auto& r = *it;
        std::pair<std::string, long long> now{r.state, r.ended_ns.value_or(0)};
        auto seen = m_seen.find(r.id);
        bool changed = seen == m_seen.end() || seen->second != now;
        m_seen[r.id] = now;
        if (changed && !m_first) out += sse_event("run", query::run_summary_json(r).dump());
    }
    // (kept bounded: the sealed ones that left the newest are done with)
    for (auto it = m_seen.begin(); it != m_seen.end();)
        it = it->second.first == "sealed" && !listed.count(it->first) && it->first != m_run_id
                 ? m_seen.erase(it)
                 : std::next(it);
    return Status::ok();
}

Status LiveFeed::poll_run(std::string& out) {
    // The run's row first: events it has when sealed are all there.
    RETRACE_ASSIGN(auto run, m_store.get_run(*m_run_id));
    if (!run) return error(ErrorCode::not_found, "no run " + *m_run_id);
    RETRACE_ASSIGN(auto rows, m_store.events_after(*m_run_id, m_sent_below));
    for (const auto& row : rows) {
        long long seq = row.event.seq;
        if (!m_sent_above.insert(seq).second) continue;
        out += sse_event("event", query::event_json(row).dump());
    }
    while (!m_sent_above.empty() && *m_sent_above.begin() == m_sent_below + 1) {
        m_sent_below = *m_sent_above.begin();
        m_sent_above.erase(m_sent_above.begin());
    }
    if (run->sealed()) {
        out += sse_event("end", core::Json{{"run", run->id}}.dump());
        m_ended = true;
    }
    return Status::ok();
}

}  // namespace retrace::web
