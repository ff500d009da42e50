// `diff A B C...` / `diff --name NAME`: several runs grouped by declared
// conditions, backend (observed conditions) and outcome.
#pragma once

#include <string>
#include <vector>

#include "retrace/core/canonical_json.hpp"
#include "retrace/store/store.hpp"

namespace retrace::analysis {

// Several runs at once (diff A B C..., diff --name NAME): grouped by
// conditions (declared and observed apart) and by outcome.
struct RunGroupRow {
    store::RunRow run;
    std::string declared, observed;  // digests of the declared and observed conditions
    std::string outcome;             // "exit N stdout <digest>"
};
struct GroupReport {
    std::vector<RunGroupRow> runs;  // oldest first
    std::size_t declared_groups = 0, observed_groups = 0, outcome_groups = 0;
    core::Json to_json() const;
};
Result<GroupReport> group_runs(store::Store& store, const std::vector<std::string>& refs);

}  // namespace retrace::analysis
