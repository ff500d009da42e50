// Copying runs between stores (`retrace push`, `retrace pull`): SQLite to
// PostgreSQL and back, or any store to any other.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "retrace/store/store.hpp"

namespace retrace::store {

// One run's copy, as it is made.
struct TransferStep {
    int index = 0;  // 1-based, of count
    int count = 0;
    std::string run_id;
    bool copied = false;  // false: the destination had it already
    long long events = 0;
    long long blobs = 0;
    long long bytes = 0;  // blob bytes read (uncompressed)
};

struct TransferSummary {
    int copied = 0;
    int present = 0;  // already in the destination, left as they were
    long long events = 0;
    long long blobs = 0;
    long long bytes = 0;
};

// Copies sealed runs from `from` into `to`, one transaction per run, with
// their events, files and blobs. Each run is verified in `from` first
// (verify_run), and what is copied is checked again as it is read: the
// event chain relinked to the sealed head, every blob's digest recomputed.
// Nothing is written for a run that fails. A run already in `to` is left
// as it is (the copy is idempotent); one there under the same id with a
// different record digest is an error. Every run is checked to exist and
// be sealed before any is copied. Each new run is marked as imported from
// `source` (replay then asks before running its command). progress is
// called after each run.
Result<TransferSummary> transfer_runs(Store& from, Store& to, const std::vector<std::string>& ids,
                                      const std::string& source,
                                      const std::function<void(const TransferStep&)>& progress);

}  // namespace retrace::store
