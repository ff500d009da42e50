#include "retrace/run/session.hpp"

#include <iostream>

#include "retrace/core/clock.hpp"

namespace retrace::run {

RunSession::RunSession(NewRun run, std::unique_ptr<store::RunWriter> writer, std::string secret)
    : m_run(std::move(run)),
      m_writer(std::move(writer)),
      m_facts(std::move(secret)),
      m_spans(*m_writer) {}

Result<std::unique_ptr<RunSession>> RunSession::start(store::Store& store, NewRun run,
                                                      const std::vector<store::FileRow>& inputs,
                                                      std::string secret) {
    std::string id = run.row.id;
    auto warn = [id](const Status& s) {
        std::cerr << "retrace: cannot store the events of run " << id << ": " << s.message()
                  << "; the program goes on, unrecorded from here\n";
    };
    RETRACE_ASSIGN(auto writer, store::RunWriter::start(store, run.row, inputs, warn));
    return std::unique_ptr<RunSession>(
        new RunSession(std::move(run), std::move(writer), std::move(secret)));
}

Status RunSession::complete(core::Event event, std::vector<store::Blob> blobs) {
    return m_writer->complete(std::move(event), std::move(blobs));
}

Result<store::RunRow> RunSession::seal(End end) {
    long long ended = end.ended_ns ? end.ended_ns : core::unix_now_ns();
    m_spans.close_all(ended);
    store::RunWriter::Seal seal;
    seal.metadata = sealed_metadata(m_run, ended);
    seal.outcome = end.outcome.to_json();
    seal.exit_code = end.outcome.exit_code;
    seal.outputs = std::move(end.outputs);
    seal.ended_ns = ended;
    if (!end.conditions.is_null()) {
        m_facts.merge_into(end.conditions);  // what the traffic said about models and the backend
        seal.conditions = std::move(end.conditions);
    }
    return m_writer->seal(std::move(seal));
}

std::string RunSession::describe(const store::RunWriter::Loss& loss) {
    return std::to_string(loss.events) + " event(s) from #" + std::to_string(loss.first_seq) +
           " on could not be stored: " + loss.error.message();
}

}  // namespace retrace::run
