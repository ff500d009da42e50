#include "retrace/web/live.hpp"

#include <algorithm>

#include "retrace/query/runs.hpp"
#include "retrace/web/api.hpp"

namespace retrace::web {

namespace {
// How many of the newest runs each poll looks at for new ones.
constexpr int k_newest = 50;
// How many missing event numbers each poll looks up (the rest, next time).
constexpr std::size_t k_gaps_per_poll = 64;
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
        if (row)
            rows.push_back(std::move(*row));
        else
            m_seen.erase(id);  // removed
    }
    for (auto it = rows.rbegin(); it != rows.rend(); ++it) {  // (oldest first, as they came)
        const auto& r = *it;
        std::pair<std::string, long long> now{r.state, r.ended_ns.value_or(0)};
        auto seen = m_seen.find(r.id);
        bool changed = seen == m_seen.end() || seen->second != now;
        m_seen[r.id] = now;
        if (changed && !m_first) out += sse_event("run", json_text(query::run_summary_json(r)));
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
    if (!run) return error(ErrorCode::not_found, "no run " + *m_run_id + " (removed?)");
    auto send = [&](const store::EventRow& row) {
        long long seq = row.event.seq;
        if (seq <= m_sent_below || !m_sent_above.insert(seq).second) return;
        m_highest = std::max(m_highest, seq);
        out += sse_event("event", json_text(query::listed_event_json(m_store, row)));
    };
    // The numbers below the highest sent that were not there yet (the
    // process event, ends last; a model call still answering), each looked
    // up alone: a run being recorded is not read again whole.
    std::vector<long long> gaps;
    for (long long seq = m_sent_below + 1; seq < m_highest && gaps.size() < k_gaps_per_poll; ++seq)
        if (!m_sent_above.count(seq)) gaps.push_back(seq);
    for (long long gap : gaps) {
        std::optional<store::EventRow> found;
        // (the first row is all that is wanted: the visitor stops there)
        Status s = m_store.each_event_after(*m_run_id, gap - 1, [&](store::EventRow&& row) {
            found = std::move(row);
            return error(ErrorCode::internal, "enough");
        });
        if (!found && !s.is_ok()) return s;
        if (found && found->event.seq == gap) send(*found);
    }
    // Then what is new: above the highest sent.
    RETRACE_ASSIGN(auto rows, m_store.events_after(*m_run_id, m_highest));
    for (const auto& row : rows) send(row);
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
