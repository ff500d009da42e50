// `retrace doctor RUN`: every uncontrolled source of non-determinism in a
// recorded run, each with a severity and the fix. See docs/diff.md.
#pragma once

#include <string>
#include <vector>

#include "retrace/core/canonical_json.hpp"
#include "retrace/store/store.hpp"

namespace retrace::analysis {

struct Finding {
    std::string severity;  // error, warning, info
    std::string check;     // sampling, fingerprints, clock, ...
    std::string message;
    std::string fix;
};

struct DoctorReport {
    store::RunRow run;
    std::vector<Finding> findings;  // errors first
    bool has_errors() const;
    core::Json to_json() const;
};

Result<DoctorReport> doctor_run(store::Store& store, const std::string& ref);

}  // namespace retrace::analysis
