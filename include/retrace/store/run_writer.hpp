// Writes one run: the incomplete row at start, events as they complete, the
// seal at the end. One writer thread per recorder drains a queue and commits
// whatever has accumulated in a single transaction (group commit), so many
// concurrent producers cost one fsync per batch, not per event. An event
// counts as completed once its batch has committed.
//
// A batch that cannot be committed (the disk is full, a file size limit is
// reached) is lost whole, and so is every later one: what is stored stays
// the run's events up to the failure, and the run is left incomplete for
// verify to report, never sealed over a gap.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "retrace/store/store.hpp"

namespace retrace::store {

class RunWriter {
  public:
    // Inserts run (state "incomplete") and its input files, then starts the
    // writer thread. The store is owned by the writer thread until seal().
    // on_failure, when set, is called once, on the writer thread, with the
    // error of the first batch that could not be stored.
    using FailureHandler = std::function<void(const Status&)>;
    static Result<std::unique_ptr<RunWriter>> start(Store& store, const RunRow& run,
                                                    const std::vector<FileRow>& inputs,
                                                    FailureHandler on_failure = {});
    ~RunWriter();
    RunWriter(const RunWriter&) = delete;
    RunWriter& operator=(const RunWriter&) = delete;

    const std::string& run_id() const { return m_run_id; }

    // Allocates the next event number, in order of issue. Thread safe.
    long long next_seq() { return ++m_seq; }
    // Queues a completed event and the blobs it refers to. Thread safe.
    // event.attrs must be canonicalizable; events may complete in any order.
    // While the queue holds more than its bounds (events or bytes) that the
    // store has not caught up with, waits for room: a producer faster than
    // the disk is slowed down rather than buffered without limit.
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
    // Fails, leaving the run incomplete, when events were lost.
    Result<RunRow> seal(Seal seal);

    // What could not be stored: the first error, how many events were
    // lost with it and after it, and the lowest number in the first batch
    // lost (events completed after it, whatever their numbers, were lost).
    struct Loss {
        Status error;
        long long events = 0;
        long long first_seq = 0;
    };
    Loss loss();

  private:
    RunWriter(Store& store, std::string run_id, FailureHandler on_failure);
    void loop();

    Store& m_store;
    std::string m_run_id;
    std::atomic<long long> m_seq{0};
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::condition_variable m_done;
    std::condition_variable m_room;
    std::deque<std::pair<EventRow, std::vector<Blob>>> m_queue;
    std::size_t m_queued_bytes = 0;
    long long m_enqueued = 0;
    long long m_committed = 0;
    bool m_stop = false;
    Status m_error;  // the first failure: from then on, batches are dropped
    long long m_lost = 0, m_first_lost = 0;
    FailureHandler m_on_failure;
    std::thread m_thread;
};

// Computes the chain over the stored events and the record digest, and seals.
Result<RunRow> seal_run(Store& store, const std::string& run_id, const RunWriter::Seal& seal);

}  // namespace retrace::store
