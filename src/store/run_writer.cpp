#include "retrace/store/run_writer.hpp"

namespace retrace::store {

namespace {

// The queue's bounds: a batch is committed in one transaction, and what
// waits for it is held in memory.
constexpr std::size_t k_max_queued_events = 16384;
constexpr std::size_t k_max_queued_bytes = std::size_t{16} << 20;

std::size_t queued_size(const EventRow& row, const std::vector<Blob>& blobs) {
    std::size_t n = sizeof(EventRow) + row.attrs_text.size() + row.event.name.size();
    for (const auto& b : blobs) n += sizeof(Blob) + b.digest.size() + b.data.size();
    return n;
}

}  // namespace

Result<std::unique_ptr<RunWriter>> RunWriter::start(Store& store, const RunRow& run,
                                                    const std::vector<FileRow>& inputs,
                                                    FailureHandler on_failure) {
    RETRACE_TRY(store.insert_run(run, inputs));
    std::unique_ptr<RunWriter> w(new RunWriter(store, run.id, std::move(on_failure)));
    w->m_thread = std::thread([p = w.get()] { p->loop(); });
    return w;
}

RunWriter::RunWriter(Store& store, std::string run_id, FailureHandler on_failure)
    : m_store(store), m_run_id(std::move(run_id)), m_on_failure(std::move(on_failure)) {}

RunWriter::~RunWriter() {
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    m_room.notify_all();
    if (m_thread.joinable()) m_thread.join();
}

Status RunWriter::complete(core::Event event, std::vector<Blob> blobs) {
    auto attrs = core::canonicalize(event.attrs);
    if (!attrs) return attrs.status().with_context("event " + std::to_string(event.seq));
    EventRow row{std::move(event), std::move(attrs).value(), std::nullopt};
    row.event.attrs = Json();  // (the store takes attrs_text; the tree is many times its size)
    std::size_t size = queued_size(row, blobs);
    {
        std::unique_lock lock(m_mutex);
        m_room.wait(lock, [&] {
            return m_stop || m_queue.empty() ||
                   (m_queue.size() < k_max_queued_events &&
                    m_queued_bytes + size <= k_max_queued_bytes);
        });
        if (m_stop) return error(ErrorCode::internal, "run writer already stopped");
        m_queue.emplace_back(std::move(row), std::move(blobs));
        m_queued_bytes += size;
        ++m_enqueued;
    }
    m_wake.notify_one();
    return Status::ok();
}

void RunWriter::loop() {
    std::unique_lock lock(m_mutex);
    for (;;) {
        m_wake.wait(lock, [&] { return m_stop || !m_queue.empty(); });
        if (m_queue.empty() && m_stop) return;
        std::vector<EventRow> events;
        std::vector<Blob> blobs;
        long long n = 0;
        while (!m_queue.empty()) {
            auto& [row, b] = m_queue.front();
            events.push_back(std::move(row));
            for (auto& blob : b) blobs.push_back(std::move(blob));
            m_queue.pop_front();
            ++n;
        }
        m_queued_bytes = 0;
        m_room.notify_all();
        bool failed_before = !m_error.is_ok();
        Status s = m_error;
        if (!failed_before) {
            lock.unlock();
            s = m_store.append(m_run_id, events, blobs);
            lock.lock();
        }
        if (!s.is_ok()) {
            m_error = s;
            m_lost += n;
            if (!failed_before)
                for (const auto& e : events)
                    if (m_first_lost == 0 || e.event.seq < m_first_lost) m_first_lost = e.event.seq;
        }
        m_committed += n;
        m_done.notify_all();
        if (!s.is_ok() && !failed_before && m_on_failure) {
            lock.unlock();
            m_on_failure(s);
            lock.lock();
        }
    }
}

Status RunWriter::flush() {
    std::unique_lock lock(m_mutex);
    long long target = m_enqueued;
    m_done.wait(lock, [&] { return m_committed >= target; });
    return m_error;
}

RunWriter::Loss RunWriter::loss() {
    std::lock_guard lock(m_mutex);
    return {m_error, m_lost, m_first_lost};
}

Result<RunRow> RunWriter::seal(Seal s) {
    RETRACE_TRY(flush());
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    m_room.notify_all();
    if (m_thread.joinable()) m_thread.join();
    return seal_run(m_store, m_run_id, s);
}

Result<RunRow> seal_run(Store& store, const std::string& run_id, const RunWriter::Seal& s) {
    RETRACE_ASSIGN(auto found, store.get_run(run_id));
    if (!found) return error(ErrorCode::not_found, "no run " + run_id);
    SealRequest req;
    req.run_id = run_id;
    core::Digest head = core::chain_genesis(run_id);
    long long expected = 1;
    RETRACE_TRY(store.each_event(run_id, [&](EventRow&& row) -> Status {
        if (row.event.seq != expected)
            return error(ErrorCode::internal, "run " + run_id + ": event " +
                                                  std::to_string(expected) + " never completed");
        ++expected;
        RETRACE_ASSIGN(head, core::chain_link(head, row.event));
        req.event_digests.emplace_back(row.event.seq, head.to_string());
        return Status::ok();
    }));
    RETRACE_ASSIGN(req.metadata, core::canonicalize(s.metadata));
    RETRACE_ASSIGN(req.outcome, core::canonicalize(s.outcome));
    RETRACE_ASSIGN(auto meta_digest, core::json_digest(core::k_metadata_scheme, s.metadata));
    RETRACE_ASSIGN(auto outcome_digest, core::json_digest(core::k_outcome_scheme, s.outcome));
    core::Digest conditions;
    if (s.conditions) {
        Json final_conditions = *s.conditions;
        RETRACE_ASSIGN(auto identity, core::identify_conditions(final_conditions));
        RETRACE_ASSIGN(req.conditions, core::canonicalize(final_conditions));
        conditions = identity.digest;
        req.conditions_digest = conditions.to_string();
    } else {
        RETRACE_ASSIGN(conditions, core::Digest::parse(found->conditions_digest));
    }
    req.metadata_digest = meta_digest.to_string();
    req.outcome_digest = outcome_digest.to_string();
    req.chain_head = head.to_string();
    req.event_count = expected - 1;
    req.record_digest = core::record_digest({run_id, conditions, meta_digest, head, req.event_count,
                                             outcome_digest})
                            .to_string();
    req.ended_ns = s.ended_ns;
    req.exit_code = s.exit_code;
    req.files = s.outputs;
    RETRACE_TRY(store.seal(req));
    RETRACE_ASSIGN(auto sealed, store.get_run(run_id));
    return *sealed;
}

}  // namespace retrace::store
