// Probes as stored (a registration run, then a result run naming it),
// answered as JSON: what `retrace probes --json` and `retrace probe show
// --json` print and what `retrace serve` answers at /api/v1/probes.
#pragma once

#include <optional>
#include <string>

#include "retrace/store/store.hpp"

namespace retrace::query {

// Whether a run is a probe's registration.
bool is_probe_registration(const store::RunRow& run);

// Every probe, newest first: {probe, name, started_ns, verdict, runs, failed}
// (the last three null while it has no result).
Result<core::Json> probes_json(store::Store& store);

struct ProbeAnswer {
    core::Json json;  // the result; or {probe, registration, result: null}
    bool finished = false;
};
// A probe by its registration's reference. not_found when the run is not
// a registration.
Result<ProbeAnswer> probe_json(store::Store& store, const std::string& ref);

}  // namespace retrace::query
