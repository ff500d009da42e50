// Writes one run: the incomplete row at start, events as they complete, the
// seal at the end. One writer thread per recorder drains a queue and commits
// whatever has accumulated in a single transaction (group commit), so many
// concurrent producers cost one fsync per batch, not per event. An event
// counts as completed once its batch has committed.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "retrace/store/store.hpp"

namespace retrace::store {

class RunWriter {
  public:
    // Inserts run (state "incomplete") and its input files, then starts the
    // writer thread. The store is owned by the writer thread until seal().
    static Result<std::unique_ptr<RunWriter>> start(Store& store, const RunRow& run,
                                                    const std::vector<FileRow>& inputs);
    ~RunWriter();
    RunWriter(const RunWriter&) = delete;
    RunWriter& operator=(const RunWriter&) = delete;

    const std::string& run_id() const { return m_run_id; }

    // Allocates the next event number, in order of issue. Thread safe.
    long long next_seq() { return ++m_seq; }
    // Queues a completed event and the blobs it refers to. Thread safe.
    // event.attrs must be canonicalizable; events may complete in any order.
    Status complete(core::Event event, std::vector<Blob> blobs);
    // Blocks until everything queued so far is committed; the first write error, if any.
    Status flush();

    struct Seal {
        Json metadata;
        Json outcome;
        std::optional<long long> exit_code;
        long long ended_ns = 0;
        std::vector<FileRow> outputs;
        // The run's conditions as finally known, replacing those it started
        // with (and their digest); unset keeps them.
        std::optional<Json> conditions;
    };
    // Flushes, stops the writer thread and seals the run in one transaction.
    Result<RunRow> seal(Seal seal);

  private:
    RunWriter(Store& store, std::string run_id);
    void loop();

    Store& m_store;
    std::string m_run_id;
    std::atomic<long long> m_seq{0};
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::condition_variable m_done;
    std::deque<std::pair<EventRow, std::vector<Blob>>> m_queue;
    long long m_enqueued = 0;
    long long m_committed = 0;
    bool m_stop = false;
    Status m_error;
    std::thread m_thread;
};

// Computes the chain over the stored events and the record digest, and seals.
Result<RunRow> seal_run(Store& store, const std::string& run_id, const RunWriter::Seal& seal);

}  // namespace retrace::store
