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
    bool incomplete = false;  // not sealed: conditions, events and blobs checked only
    std::string problem;      // the first broken item, e.g. "event 3: chain link mismatch"
    long long events = 0;
    long long blobs = 0;
};

// Never fails for a damaged run: damage is reported in the result. Fails
// only when the store cannot be read at all.
Result<VerifyResult> verify_run(Store& store, const std::string& run_id);

}  // namespace retrace::store
