#include "retrace/store/run_ref.hpp"

#include "retrace/core/run_id.hpp"

namespace retrace::store {

namespace {
Result<RunRow> latest(Store& store, const std::string& ref) {
    long long back = 0;
    if (ref.size() > 7) {
        if (ref[7] != '~')
            return error(ErrorCode::invalid_input, "bad run reference '" + ref + "'");
        try {
            std::size_t used = 0;
            back = std::stoll(ref.substr(8), &used);
            if (used != ref.size() - 8 || back < 0) throw std::invalid_argument(ref);
        } catch (const std::exception&) {
            return error(ErrorCode::invalid_input,
                         "bad run reference '" + ref + "' (want @latest~N, N >= 0)");
        }
    }
    RunFilter f;
    f.limit = static_cast<int>(back + 1);
    RETRACE_ASSIGN(auto runs, store.list_runs(f));
    if (static_cast<long long>(runs.size()) <= back)
        return error(ErrorCode::not_found,
                     "no run " + ref + " (the store has " + std::to_string(runs.size()) + " runs)");
    return runs[static_cast<std::size_t>(back)];
}
}  // namespace

Result<RunRow> resolve_run(Store& store, const std::string& ref) {
    if (ref.empty()) return error(ErrorCode::invalid_input, "empty run reference");
    if (ref.rfind("@latest", 0) == 0) return latest(store, ref);
    if (ref.size() == core::RunId::k_length) {
        RETRACE_ASSIGN(auto exact, store.get_run(ref));
        if (exact) return *exact;
    }
    RunFilter by_name;
    by_name.name = ref;
    by_name.limit = 1;
    RETRACE_ASSIGN(auto named, store.list_runs(by_name));
    if (!named.empty()) return named.front();
    std::string upper;
    for (char c : ref)
        upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    if (core::RunId::is_id_prefix(upper)) {
        RETRACE_ASSIGN(auto ids, store.run_ids_with_prefix(upper));
        if (ids.size() == 1) {
            RETRACE_ASSIGN(auto run, store.get_run(ids.front()));
            if (run) return *run;
        }
        if (ids.size() > 1) {
            std::string list;
            for (const auto& id : ids) list += (list.empty() ? "" : ", ") + id;
            return error(ErrorCode::invalid_input,
                         "ambiguous run reference '" + ref + "': matches " + list);
        }
    }
    return error(ErrorCode::not_found, "no run matches '" + ref + "'");
}

}  // namespace retrace::store
