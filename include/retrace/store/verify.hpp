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
    std::string problem;      // the first broken item, e.g. "event 3: chain link mismatch"
    long long events = 0;    // events stored
    long long last_seq = 0;  // the highest event number among them
    long long blobs = 0;
};

// Never fails for a damaged run: damage is reported in the result. Fails
// only when the store cannot be read at all.
Result<VerifyResult> verify_run(Store& store, const std::string& run_id);

}  // namespace retrace::store
