#include "retrace/query/probes.hpp"

#include "retrace/store/run_ref.hpp"

namespace retrace::query {

using core::Json;

namespace {

Json probe_metadata(const store::RunRow& run) {
    auto parsed = core::parse_json_strict(run.metadata);
    if (!parsed || !parsed->is_object()) return Json::object();
    Json probe = parsed->value("probe", Json::object());
    return probe.is_object() ? probe : Json::object();
}

// The sealed result of a registration, if the probe finished.
Result<std::optional<Json>> result_of(store::Store& store, const std::string& probe_id) {
    store::RunFilter filter;
    filter.kind = store::RunFilter::Kind::probe;  // (a result is marked as its registration is)
    RETRACE_ASSIGN(auto runs, store.list_runs(filter));
    for (const auto& run : runs) {
        auto probe = probe_metadata(run);
        if (probe.value("role", "") != "result" || probe.value("registration", "") != probe_id)
            continue;
        RETRACE_ASSIGN(auto rows, store.events(run.id));
        for (const auto& row : rows)
            if (row.event.name == "probe result")
                return std::optional<Json>(row.event.attrs.value("result", Json()));
    }
    return std::optional<Json>();
}

}  // namespace

bool is_probe_registration(const store::RunRow& run) {
    // (cheap first: most runs are no probe's)
    return run.metadata.find("\"probe\":") != std::string::npos &&
           probe_metadata(run).value("role", "") == "registration";
}

Result<Json> probes_json(store::Store& store) {
    store::RunFilter filter;
    filter.kind = store::RunFilter::Kind::probe;
    RETRACE_ASSIGN(auto runs, store.list_runs(filter));
    Json list = Json::array();
    for (const auto& run : runs) {
        if (!is_probe_registration(run)) continue;
        RETRACE_ASSIGN(auto result, result_of(store, run.id));
        list.push_back({{"probe", run.id},
                        {"name", run.name ? Json(*run.name) : Json()},
                        {"started_ns", run.started_ns},
                        {"verdict", result ? (*result)["verdict"] : Json()},
                        {"runs", result ? (*result)["done"] : Json()},
                        {"failed", result ? (*result)["failed"] : Json()}});
    }
    return list;
}

Result<ProbeAnswer> probe_json(store::Store& store, const std::string& ref) {
    RETRACE_ASSIGN(auto run, store::resolve_run(store, ref));
    if (!is_probe_registration(run))
        return error(ErrorCode::not_found, "run " + run.id + " is not a probe registration");
    RETRACE_ASSIGN(auto result, result_of(store, run.id));
    if (result) return ProbeAnswer{std::move(*result), true};
    Json plan;
    RETRACE_ASSIGN(auto rows, store.events(run.id));
    for (const auto& row : rows) plan = row.event.attrs.value("probe", Json());
    return ProbeAnswer{{{"probe", run.id}, {"registration", plan}, {"result", nullptr}}, false};
}

}  // namespace retrace::query
