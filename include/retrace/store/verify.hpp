// Integrity checking: recompute every digest, blob and chain link of a run
// from what is stored, and name the first thing that does not match.
#pragma once

#include <string>
#include <vector>

#include "retrace/store/store.hpp"

namespace retrace::store {

struct VerifyResult {
    std::string run_id;
    bool ok = true;
    // Not sealed (its recorder stopped before the end): its conditions,
    // events and blobs are checked, the chain and the seal cannot be.
    bool incomplete = false;
    std::string problem;     // the first broken item, e.g. "event 3: chain link mismatch"
    long long events = 0;    // events stored
    long long last_seq = 0;  // the highest event number among them
    long long blobs = 0;
};

// Never fails for a damaged run: damage is reported in the result. Fails
// only when the store cannot be read at all.
Result<VerifyResult> verify_run(Store& store, const std::string& run_id);

struct LogCheck {
    bool present = false;  // false: a store from before the log, read as it is
    long long entries = 0;
    std::string head;                   // the last entry's digest
    std::vector<std::string> problems;  // empty: the log and the store agree
};

// The store log against itself (every link recomputed, positions 1, 2, ...)
// and against the store: every sealed run is there as added, with its
// record digest, and every run the log holds (added and not removed since)
// is in the store. So a run deleted, inserted or reordered behind
// retrace's back is named.
Result<LogCheck> verify_store_log(Store& store);

}  // namespace retrace::store
