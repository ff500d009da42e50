#include "retrace/store/transfer.hpp"

#include <set>

#include "retrace/core/identity.hpp"
#include "retrace/store/verify.hpp"

namespace retrace::store {

namespace {

// The run's rows as they go across, checked against its seal.
struct Copy {
    std::vector<EventRow> events;
    std::vector<FileRow> files;
    std::vector<Blob> blobs;
    long long bytes = 0;
};

Result<Copy> read_checked(Store& from, const RunRow& run) {
    Copy c;
    core::Digest head = core::chain_genesis(run.id);
    RETRACE_TRY(from.each_event(run.id, [&](EventRow&& row) -> Status {
        RETRACE_ASSIGN(head, core::chain_link(head, row.event));
        c.events.push_back(std::move(row));
        return Status::ok();
    }));
    if (static_cast<long long>(c.events.size()) != run.event_count.value_or(-1) ||
        head.to_string() != run.chain_head.value_or(""))
        return error(ErrorCode::corrupt, "run " + run.id +
                                             " changed while it was copied (its events no longer "
                                             "match its seal)");
    RETRACE_ASSIGN(c.files, from.files(run.id));
    RETRACE_ASSIGN(auto digests, from.run_blob_digests(run.id));
    for (const auto& d : digests) {
        RETRACE_ASSIGN(auto data, from.get_blob(d));
        if (!data)
            return error(ErrorCode::corrupt, "run " + run.id + ": blob " + d + " is missing");
        if (core::Digest::of(*data).to_string() != d)
            return error(ErrorCode::corrupt,
                         "run " + run.id + ": blob " + d + " does not match its digest");
        c.bytes += static_cast<long long>(data->size());
        c.blobs.push_back(Blob{d, std::move(*data)});
    }
    return c;
}

}  // namespace

Result<TransferSummary> transfer_runs(Store& from, Store& to, const std::vector<std::string>& ids,
                                      const std::string& source,
                                      const std::function<void(const TransferStep&)>& progress) {
    // Every run named is checked before any is copied.
    std::vector<RunRow> runs;
    std::set<std::string> seen;
    for (const auto& id : ids) {
        if (!seen.insert(id).second) continue;
        RETRACE_ASSIGN(auto run, from.get_run(id));
        if (!run) return error(ErrorCode::not_found, "no run " + id);
        if (!run->sealed())
            return error(ErrorCode::invalid_input,
                         "run " + id + " is incomplete; only sealed runs are copied");
        runs.push_back(std::move(*run));
    }
    TransferSummary summary;
    int index = 0;
    for (const auto& run : runs) {
        TransferStep step;
        step.index = ++index;
        step.count = static_cast<int>(runs.size());
        step.run_id = run.id;
        RETRACE_ASSIGN(auto there, to.get_run(run.id));
        if (there) {
            if (there->record_digest != run.record_digest)
                return error(ErrorCode::invalid_input,
                             "run " + run.id +
                                 " is already in the destination with a different "
                                 "record digest (" +
                                 there->record_digest.value_or("incomplete") + ")");
            ++summary.present;
            if (progress) progress(step);
            continue;
        }
        RETRACE_ASSIGN(auto check, verify_run(from, run.id));
        if (!check.ok)
            return error(ErrorCode::corrupt,
                         "run " + run.id + " fails verification: " + check.problem);
        RETRACE_ASSIGN(auto copy, read_checked(from, run));
        step.events = static_cast<long long>(copy.events.size());
        step.blobs = static_cast<long long>(copy.blobs.size());
        step.bytes = copy.bytes;
        std::vector<std::vector<EventRow>> events;
        events.push_back(std::move(copy.events));
        std::vector<std::vector<FileRow>> files;
        files.push_back(std::move(copy.files));
        RETRACE_ASSIGN(int imported, to.import_runs({run}, events, files, copy.blobs, source));
        step.copied = imported == 1;
        if (step.copied) {
            ++summary.copied;
            summary.events += step.events;
            summary.blobs += step.blobs;
            summary.bytes += step.bytes;
        } else {
            ++summary.present;  // (another copy got there first)
        }
        if (progress) progress(step);
    }
    return summary;
}

}  // namespace retrace::store
