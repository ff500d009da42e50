#include "retrace/analysis/doctor.hpp"

#include <algorithm>
#include <filesystem>

#include "retrace/store/run_ref.hpp"
#include "retrace/trace/exchange.hpp"
#include "retrace/trace/process.hpp"

namespace retrace::analysis {

namespace {

using core::Json;

const Json& at(const Json& j, std::initializer_list<const char*> path) {
    static const Json null;
    const Json* p = &j;
    for (const char* k : path) {
        if (!p->is_object() || !p->contains(k)) return null;
        p = &(*p)[k];
    }
    return *p;
}

int rank(const std::string& severity) {
    return severity == "error" ? 0 : severity == "warning" ? 1 : 2;
}

// Decoding that samples: per provider and model, temperature above 0 (or
// the provider's default) with no seed to pin it.
void check_sampling(const Json& models, std::vector<Finding>& out) {
    if (!models.is_object()) return;
    for (const auto& [provider, by_model] : models.items()) {
        if (!by_model.is_object()) continue;
        for (const auto& [model, fields] : by_model.items()) {
            const Json& endpoints = at(fields, {"endpoints"});
            bool generates = !endpoints.is_array() || endpoints.empty() ||
                             std::any_of(endpoints.begin(), endpoints.end(), [](const Json& e) {
                                 return e.is_string() && e.get<std::string>().find("embeddings") ==
                                                             std::string::npos;
                             });
            if (!generates) continue;
            const Json& temps = at(fields, {"temperature"});
            bool seeded = fields.contains("seed");
            std::vector<std::string> hot;
            if (!temps.is_array() || temps.empty())
                hot.push_back("no temperature (the provider's default, 1)");
            else
                for (const auto& t : temps)
                    if (t.is_number() && t.get<double>() > 0)
                        hot.push_back("temperature " + t.dump());
            if (hot.empty()) continue;
            std::string what = provider + " " + model + ": " + hot.front();
            if (provider == "anthropic")
                out.push_back(
                    {"warning", "sampling", what + "; Anthropic's API takes no seed",
                     "temperature 0 for outputs that repeat; expect variation otherwise"});
            else if (!seeded)
                out.push_back({"error", "sampling",
                               what + " without a seed: every run samples anew",
                               "send a seed (honoured only under one system_fingerprint), or "
                               "temperature 0"});
        }
    }
}

void check_backend(const Json& backend, const Json& models, std::vector<Finding>& out) {
    if (!backend.is_object()) return;
    for (const auto& [provider, fields] : backend.items()) {
        const Json& fps = at(fields, {"system_fingerprints"});
        if (fps.is_array() && fps.size() > 1) {
            bool seeded = false;
            for (const auto& [model, f] : at(models, {provider.c_str()}).items())
                seeded = seeded || f.contains("seed");
            out.push_back({"error", "fingerprints",
                           provider + ": " + std::to_string(fps.size()) +
                               " system_fingerprint values within one run (" + fps.dump() +
                               "): the backend changed mid-run" +
                               (seeded ? ", so the seed sent cannot make outputs repeat" : ""),
                           "compare runs only under one fingerprint; `retrace doctor --provider` "
                           "measures how often it rotates"});
        }
        const Json& served = at(fields, {"served_models"});
        if (served.is_array() && served.size() > 1)
            out.push_back({"warning", "served model",
                           provider + ": several served models in one run: " + served.dump(),
                           "pin a dated model version instead of an alias"});
    }
}

}  // namespace

bool DoctorReport::has_errors() const {
    return std::any_of(findings.begin(), findings.end(),
                       [](const Finding& f) { return f.severity == "error"; });
}

Json DoctorReport::to_json() const {
    Json list = Json::array();
    for (const auto& f : findings)
        list.push_back(
            {{"severity", f.severity}, {"check", f.check}, {"message", f.message}, {"fix", f.fix}});
    return {{"run", run.id}, {"findings", list}, {"errors", has_errors()}};
}

Result<DoctorReport> doctor_run(store::Store& store, const std::string& ref) {
    DoctorReport r;
    RETRACE_ASSIGN(r.run, store::resolve_run(store, ref));
    RETRACE_ASSIGN(Json c, core::parse_json_strict(r.run.conditions));
    RETRACE_ASSIGN(auto rows, store.events(r.run.id));
    auto& out = r.findings;

    check_sampling(at(c, {"models"}), out);
    check_backend(at(c, {"backend"}), at(c, {"models"}), out);

    // Clock and randomness the program read without retrace seeing them.
    bool deterministic = false, sdk_draws = false, python = false;
    std::size_t streams = 0;
    std::optional<std::string> layout_refusal;
    long long truncated = 0, live = 0, gave_up = 0;
    for (const auto& row : rows) {
        const auto& e = row.event;
        if (e.kind == core::EventKind::process) {
            auto process = trace::ProcessRecord::from_attrs(e.attrs);
            deterministic = process.determinism.has_value();
            if (deterministic && process.determinism->is_array())
                streams = process.determinism->size();
            layout_refusal = process.layout_refusal();
            if (!process.argv.empty())
                python = std::filesystem::path(process.argv[0])
                             .filename()
                             .string()
                             .starts_with("python");
        }
        if (e.kind == core::EventKind::clock || e.kind == core::EventKind::random) sdk_draws = true;
        if (core::is_exchange(e.kind)) {
            trace::Exchange x = trace::Exchange::from_attrs(e.attrs);
            if (x.truncated) ++truncated;
            if (x.client_cancelled) ++gave_up;
            if (x.live) ++live;
        }
    }
    if (truncated > 0)
        out.push_back({"error", "truncated",
                       std::to_string(truncated) +
                           " stream(s) broke off: the program saw a partial "
                           "answer",
                       "retry the request, or treat a cut stream as a failure in the program"});
    if (gave_up > 0)
        out.push_back({"info", "client gave up",
                       std::to_string(gave_up) +
                           " request(s) the program itself left before the answer was complete (an "
                           "abort or a timeout of its own): when it left and how much it had read "
                           "are recorded, and replay answers them at their recorded timing",
                       "nothing to fix; replay --pace fast sends them at once"});
    if (!deterministic && !sdk_draws)
        out.push_back({"warning", "clock and randomness",
                       "the program's wall-clock reads and random draws were not recorded",
                       "record with --deterministic, or read them through the SDK "
                       "(retrace.now(), retrace.random())"});
    if (deterministic && layout_refusal)
        out.push_back({"warning", "clock and randomness",
                       "the address-space layout could not be fixed (" + *layout_refusal +
                           "): Node's Math.random and crypto.randomUUID, and OpenSSL's random "
                           "bytes, mix in addresses and will differ on replay",
                       "allow personality(ADDR_NO_RANDOMIZE) (a container's seccomp profile "
                       "refuses it), or draw through the SDK (retrace.random())"});
    if (deterministic && streams == 0)
        out.push_back({"warning", "clock and randomness",
                       "under --deterministic no process read the clock or OS randomness through "
                       "the C library: a statically linked program or direct system calls "
                       "bypass the shim, and their values are not recorded",
                       "read them through the SDK (retrace.now(), retrace.random())"});
    if (python && !deterministic && !at(c, {"env", "vars", "PYTHONHASHSEED"}).is_string())
        out.push_back({"warning", "environment",
                       "PYTHONHASHSEED is unset: the iteration order of sets of strings differs "
                       "from process to process",
                       "set PYTHONHASHSEED=0 (or record with --deterministic)"});
    if (at(c, {"env", "machine", "gpus"}).is_array() &&
        !at(c, {"env", "vars", "CUBLAS_WORKSPACE_CONFIG"}).is_string())
        out.push_back({"warning", "environment",
                       "a GPU is present and CUBLAS_WORKSPACE_CONFIG is unset: cuBLAS may pick "
                       "non-deterministic algorithms",
                       "set CUBLAS_WORKSPACE_CONFIG=:4096:8 (and deterministic algorithms in the "
                       "framework)"});
    const Json& git = at(c, {"code", "git"});
    if (git.is_object() && git.value("dirty", false))
        out.push_back({"warning", "code",
                       std::to_string(git.value("dirty_files", 0)) +
                           " uncommitted file(s): the commit does not say which code ran",
                       "commit before recording runs to compare"});
    else if (!git.is_object())
        out.push_back({"info", "code", "not in a git repository: code is identified by argv only",
                       "record from inside the repository"});
    const Json& inputs = at(c, {"data", "inputs"});
    if (!inputs.is_object() || inputs.empty())
        out.push_back({"info", "inputs", "no inputs declared: data the program read is not pinned",
                       "declare the files and directories it reads with --input PATH"});
    if (live > 0)
        out.push_back({"warning", "replay",
                       std::to_string(live) +
                           " model request(s) went live during this replay (--on-miss live or "
                           "--until): their answers are new",
                       "replay strictly to reproduce; fork only on purpose"});
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
        return rank(a.severity) < rank(b.severity);
    });
    return r;
}

}  // namespace retrace::analysis
