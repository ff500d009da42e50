// One run from its start to its seal. Every kind of run is one RunSession:
// `record`'s, `replay`'s, each run the gateway groups exchanges into, and
// each record a probe keeps. The session owns what the run is written
// through (its incomplete row, the writer, what its traffic says about
// models and the backend, its SDK spans) and seals it with the metadata
// every run carries (sealed_metadata).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "retrace/conditions/traffic_facts.hpp"
#include "retrace/core/outcome.hpp"
#include "retrace/proxy/event_api.hpp"
#include "retrace/proxy/proxy.hpp"
#include "retrace/run/run_setup.hpp"
#include "retrace/store/run_writer.hpp"

namespace retrace::run {

class RunSession {
  public:
    // Inserts the run's incomplete row and its input files and starts its
    // writer. store is the session's until seal() (a connection of its own
    // when several sessions write at once). secret keys the traffic facts'
    // fingerprints. When events cannot be stored (disk full), one line on
    // stderr says so at once; the run goes on, and is left incomplete.
    static Result<std::unique_ptr<RunSession>> start(store::Store& store, NewRun run,
                                                     const std::vector<store::FileRow>& inputs,
                                                     std::string secret);
    RunSession(const RunSession&) = delete;
    RunSession& operator=(const RunSession&) = delete;

    const std::string& id() const { return m_run.row.id; }
    const NewRun& run() const { return m_run; }
    // What the proxy and the event API write an exchange or event into.
    proxy::RunTarget target() { return {m_writer.get(), &m_facts, &m_spans}; }
    long long next_seq() { return m_writer->next_seq(); }
    // Queues a completed event (thread safe; see RunWriter::complete).
    Status complete(core::Event event, std::vector<store::Blob> blobs);

    struct End {
        core::Json conditions;     // as known at the start; the traffic facts are merged in
        core::RunOutcome outcome;  // its exit code is also the run's exit_code column
        std::vector<store::FileRow> outputs;  // the rows of outcome.outputs
        long long ended_ns = 0;               // 0: now
    };
    // Completes the spans the program never ended (marked unfinished),
    // waits for every queued event, and seals the run in one transaction.
    // Call once, after the last exchange has been handed over. Fails, the
    // run left incomplete, when events were lost (loss() says which).
    Result<store::RunRow> seal(End end);
    store::RunWriter::Loss loss() { return m_writer->loss(); }
    // "N event(s) from #K on could not be stored: ERROR", for a loss.
    static std::string describe(const store::RunWriter::Loss& loss);

  private:
    RunSession(NewRun run, std::unique_ptr<store::RunWriter> writer, std::string secret);

    NewRun m_run;
    std::unique_ptr<store::RunWriter> m_writer;
    conditions::TrafficFacts m_facts;
    proxy::SpanTable m_spans;
};

}  // namespace retrace::run
