#include "retrace/analysis/run_groups.hpp"

#include <algorithm>
#include <set>

#include "retrace/core/identity.hpp"
#include "retrace/core/outcome.hpp"
#include "retrace/store/run_ref.hpp"

namespace retrace::analysis {

using core::Json;

Result<GroupReport> group_runs(store::Store& store, const std::vector<std::string>& refs) {
    GroupReport g;
    std::set<std::string> declared, observed, outcomes;
    for (const auto& ref : refs) {
        RunGroupRow row;
        RETRACE_ASSIGN(row.run, store::resolve_run(store, ref));
        RETRACE_ASSIGN(Json c, core::parse_json_strict(row.run.conditions));
        RETRACE_ASSIGN(auto identity, core::identify_conditions(c));
        row.declared = identity.declared.to_string();
        row.observed = identity.observed.to_string();
        core::RunOutcome outcome;
        if (row.run.outcome)
            if (auto parsed = core::parse_json_strict(*row.run.outcome))
                outcome = core::RunOutcome::from_json(*parsed);
        row.outcome = "exit " + (outcome.exit_code ? std::to_string(*outcome.exit_code) : "null") +
                      " stdout " + outcome.stdout_digest.value_or("?").substr(0, 19);
        declared.insert(row.declared);
        observed.insert(row.observed);
        outcomes.insert(row.outcome);
        g.runs.push_back(std::move(row));
    }
    std::stable_sort(g.runs.begin(), g.runs.end(), [](const auto& a, const auto& b) {
        return a.run.started_ns < b.run.started_ns;
    });
    g.declared_groups = declared.size();
    g.observed_groups = observed.size();
    g.outcome_groups = outcomes.size();
    return g;
}

Json GroupReport::to_json() const {
    Json list = Json::array();
    for (const auto& r : runs)
        list.push_back({{"id", r.run.id},
                        {"name", r.run.name ? Json(*r.run.name) : Json()},
                        {"declared", r.declared},
                        {"observed", r.observed},
                        {"outcome", r.outcome}});
    return {{"runs", list},
            {"groups",
             {{"declared", declared_groups},
              {"observed", observed_groups},
              {"outcome", outcome_groups}}}};
}

}  // namespace retrace::analysis
