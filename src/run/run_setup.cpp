#include "retrace/run/run_setup.hpp"

#include <unistd.h>

#include <cstdio>

#include "retrace/core/clock.hpp"
#include "retrace/core/run_id.hpp"
#include "retrace/core/sealed_text.hpp"

namespace retrace::run {

namespace {

std::string hostname() {
    char buf[256] = {};
    gethostname(buf, sizeof buf - 1);
    return buf;
}

}  // namespace

std::optional<std::string> env_value(char** envp, std::string_view name) {
    for (char** e = envp; e && *e; ++e) {
        std::string_view kv(*e);
        if (kv.size() > name.size() && kv.starts_with(name) && kv[name.size()] == '=')
            return std::string(kv.substr(name.size() + 1));
    }
    return std::nullopt;
}

Result<NewRun> new_run(core::Json conditions, const std::optional<std::string>& name,
                       const std::optional<std::string>& replay_of, core::Json extra_metadata) {
    RETRACE_ASSIGN(auto identity, core::identify_conditions(conditions));
    NewRun r;
    RETRACE_ASSIGN(r.row.conditions, core::canonicalize(conditions));
    r.row.conditions_digest = identity.digest.to_string();
    r.row.id = core::RunId::generate().str();
    r.row.started_ns = core::unix_now_ns();
    r.row.state = "incomplete";
    r.row.name = name;
    r.row.replay_of = replay_of;
    r.metadata = {{"id", r.row.id},
                  {"started_ns", core::ns_text(r.row.started_ns)},
                  {"started_at", core::rfc3339(r.row.started_ns)},
                  {"host", hostname()},
                  {"pid", static_cast<long long>(getpid())},
                  {"retrace_version", RETRACE_VERSION}};
    if (name) r.metadata["name"] = *name;
    if (replay_of) r.metadata["replay_of"] = *replay_of;
    if (extra_metadata.is_object()) r.metadata.update(extra_metadata);
    RETRACE_ASSIGN(r.row.metadata, core::canonicalize(r.metadata));
    return r;
}

core::Json sealed_metadata(const NewRun& run, long long ended_ns) {
    core::Json m = run.metadata;
    m["ended_ns"] = core::ns_text(ended_ns);
    m["duration_ms"] = (ended_ns - run.row.started_ns) / 1000000;
    return m;
}

Status set_timeouts(proxy::ProxyOptions& proxy, int read_seconds, int keepalive_seconds) {
    if (read_seconds <= 0)
        return error(ErrorCode::invalid_input, "--read-timeout wants seconds > 0");
    if (keepalive_seconds <= 0)
        return error(ErrorCode::invalid_input, "--keepalive-timeout wants seconds > 0");
    proxy.read_timeout = std::chrono::seconds(read_seconds);
    proxy.keepalive_timeout = std::chrono::seconds(keepalive_seconds);
    return Status::ok();
}

Result<std::map<std::string, std::string>> upstream_urls(char** envp,
                                                         const std::vector<std::string>& upstreams,
                                                         const std::vector<std::string>& routes) {
    std::map<std::string, std::string> out;
    out["openai"] = env_value(envp, "OPENAI_BASE_URL").value_or("https://api.openai.com/v1");
    out["anthropic"] = env_value(envp, "ANTHROPIC_BASE_URL").value_or("https://api.anthropic.com");
    for (const auto* list : {&upstreams, &routes})
        for (const auto& spec : *list) {
            auto eq = spec.find('=');
            if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
                return error(ErrorCode::invalid_input, "want NAME=URL, got '" + spec + "'");
            std::string name = spec.substr(0, eq);
            if (list == &upstreams && name != "openai" && name != "anthropic")
                return error(
                    ErrorCode::invalid_input,
                    "--upstream names openai or anthropic; use --route for '" + name + "'");
            if (name.find_first_of("/?# ") != std::string::npos)
                return error(ErrorCode::invalid_input,
                             "a route name is one path segment: '" + name + "'");
            out[name] = spec.substr(eq + 1);
        }
    return out;
}

namespace {
constexpr std::string_view k_redact_purpose = "redact patterns";
}

std::string seal_redact_patterns(const std::string& secret,
                                 const std::vector<std::string>& patterns) {
    return core::seal_text(secret, k_redact_purpose, core::Json(patterns).dump());
}

Result<std::vector<std::string>> recorded_redact_patterns(const std::string& secret,
                                                          const core::Json& metadata) {
    std::vector<std::string> out;
    auto it = metadata.find(k_redact_metadata);
    if (it == metadata.end() || !it->is_string()) return out;
    RETRACE_ASSIGN(std::string text,
                   core::open_sealed(secret, k_redact_purpose, it->get<std::string>()));
    auto list = core::parse_json_strict(text);
    if (!list || !list->is_array())
        return error(ErrorCode::corrupt, "the run's sealed --redact patterns are not a list");
    for (const auto& p : *list)
        if (p.is_string()) out.push_back(p.get<std::string>());
    return out;
}

}  // namespace retrace::run
