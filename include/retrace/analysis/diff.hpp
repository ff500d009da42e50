// `retrace diff A B`: why two runs differ. Conditions are compared section
// by section (field-level JSON paths for those that differ; a difference
// only in env.machine is "different machine"); trajectories are aligned
// (concurrent siblings compared as a set, inserted and missing steps
// tolerated); outcomes compared; and a verdict given. See docs/diff.md.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "retrace/analysis/align.hpp"
#include "retrace/analysis/run_groups.hpp"
#include "retrace/core/canonical_json.hpp"
#include "retrace/core/event_kind.hpp"
#include "retrace/core/matching.hpp"
#include "retrace/store/store.hpp"

namespace retrace::analysis {

struct SectionDiff {
    std::string section;                     // "data", "backend", ...
    std::vector<core::JsonDifference> diff;  // paths start with the section: $.data.inputs...
};

// One step of a trajectory, as aligned.
struct Step {
    long long seq = 0;
    core::EventKind kind = core::EventKind::custom;
    std::string name;
    std::string key;       // kind, name and request digest: what alignment matches
    std::string response;  // response digest, status and error: what a match compares
};

// Where two aligned trajectories part.
struct Divergence {
    std::optional<Step> a, b;                         // absent: only the other run has it
    std::vector<core::JsonDifference> request_diff;   // when both exist
    std::vector<core::JsonDifference> response_diff;  // when the requests match
    bool same_request = false;
};

// One row of the two trajectories side by side: a step of each run paired
// by alignment, or a step only one run has (the other absent).
struct AlignedStep {
    std::optional<long long> a, b;  // the steps' seqs
    bool equal = false;             // paired and answered the same
};

struct DiffReport {
    store::RunRow a, b;
    std::vector<SectionDiff> declared;  // differing declared sections (machine excluded)
    bool different_machine = false;
    std::vector<core::JsonDifference> backend;
    std::size_t a_steps = 0, b_steps = 0;
    std::size_t matching_prefix = 0;  // aligned steps equal before the first divergence
    std::size_t matched = 0;          // aligned steps equal in all
    std::optional<Divergence> first;
    std::optional<std::pair<long long, long long>> realigned;  // next equal pair after it
    std::vector<AlignedStep> steps;  // every step of both, in trajectory order
    std::optional<long long> a_exit, b_exit;
    std::string stdout_difference;  // empty when equal
    std::string verdict;            // identical, conditions differ, backend differs, ...
    std::string explanation;        // one line: why

    core::Json to_json() const;
};

Result<DiffReport> diff_runs(store::Store& store, const std::string& a_ref,
                             const std::string& b_ref);

// What an event's answer is compared by: a model's by what it said (model,
// fingerprint, text, tool calls, finish, error; not the ids and timestamps
// every response carries), with its status and whether it was cut; any
// other by its bytes and error. Two answers with the same key are the same.
std::string answer_key(store::Store& store, const core::Event& e);
// How b's answer differs from a's, by JSON path (ids and timestamps left out).
std::vector<core::JsonDifference> answer_changes(store::Store& store, const core::Event& a,
                                                 const core::Event& b);

}  // namespace retrace::analysis
