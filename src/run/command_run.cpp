#include "retrace/run/command_run.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "retrace/conditions/code.hpp"
#include "retrace/conditions/environment.hpp"
#include "retrace/conditions/input_digest.hpp"
#include "retrace/conditions/traffic_facts.hpp"
#include "retrace/core/clock.hpp"
#include "retrace/core/token.hpp"
#include "retrace/proxy/issue_ledger.hpp"
#include "retrace/run/child_process.hpp"
#include "retrace/run/run_setup.hpp"
#include "retrace/run/session.hpp"
#include "retrace/trace/process.hpp"

namespace retrace::run {

using conditions::condition_path;
using conditions::digest_path;
using conditions::k_placeholder_key;
using proxy::ProxyOptions;
using proxy::RecordingProxy;
using proxy::RunRouter;
using proxy::RunTarget;

namespace {

namespace fs = std::filesystem;
using core::Json;

Result<Json> digest_inputs(const std::vector<std::string>& paths, store::StoreOpener& opener,
                           const std::optional<fs::path>& repo_root) {
    Json out = Json::object();
    if (paths.empty()) return out;
    auto cache = opener.stat_cache();
    for (const auto& p : paths) {
        auto d = digest_path(p, cache.get());
        if (!d)
            return error(ErrorCode::invalid_input,
                         "cannot read --input " + p + ": " + d.status().message());
        std::string key = condition_path(fs::absolute(p), repo_root);
        out[key] = {{"digest", d->digest.to_string()},
                    {"kind", d->kind},
                    {"files", d->files},
                    {"bytes", d->bytes}};
    }
    if (cache) cache->flush();
    return out;
}

Result<Json> parse_params(const std::vector<std::string>& params, const core::Redactor& redactor) {
    Json out = Json::object();
    for (const auto& p : params) {
        auto eq = p.find('=');
        if (eq == std::string::npos || eq == 0)
            return error(ErrorCode::invalid_input, "--param wants KEY=VALUE, got '" + p + "'");
        std::string key = p.substr(0, eq);
        if (out.contains(key))
            return error(ErrorCode::invalid_input, "--param " + key + " given twice");
        // A secret-named parameter (api_key=...) is stored as present only.
        out[key] = core::is_secret_param(key) ? std::string(core::k_redacted)
                                              : redactor.redact(p.substr(eq + 1));
    }
    return out;
}

std::vector<std::string> child_environment(char** envp, const std::string& run_id, int proxy_port,
                                           const ProxyOptions& proxy, const ShimSession* shim,
                                           const proxy::IssueLedger* issues,
                                           const std::map<std::string, std::string>& params) {
    // (every URL carries the run's access token in its path: any client
    // given a base URL presents it unchanged)
    std::string base =
        "http://127.0.0.1:" + std::to_string(proxy_port) + "/_t/" + proxy.access_token;
    bool replay = proxy.answers != nullptr;
    std::vector<std::string> set = {
        "RETRACE_RUN_ID=" + run_id, std::string("RETRACE_MODE=") + (replay ? "replay" : "record"),
        "RETRACE_PROXY_URL=" + base, "RETRACE_TOKEN=" + proxy.access_token,
        "OPENAI_BASE_URL=" + base + "/openai", "ANTHROPIC_BASE_URL=" + base + "/anthropic",
        // (an OpenTelemetry SDK's spans come to the run too, over OTLP/HTTP;
        // its metrics and logs go where they went)
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=" + base + "/_retrace/v1/traces",
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/protobuf"};
    if (replay)
        for (const char* key : {"OPENAI_API_KEY", "ANTHROPIC_API_KEY"})
            if (!env_value(envp, key)) {
                std::string kv = key;
                kv.append("=").append(k_placeholder_key);
                set.push_back(std::move(kv));
            }
    if (issues) {
        std::string kv = "RETRACE_ORDER_DIR=";
        kv.append(issues->dir().string());
        set.push_back(std::move(kv));
    }
    if (shim) {
        auto preload = env_value(envp, "LD_PRELOAD");
        for (auto& kv : shim->environment(preload ? preload->c_str() : nullptr))
            set.push_back(std::move(kv));
    }
    for (const auto& [name, url] : proxy.upstreams) {
        if (name == "openai" || name == "anthropic") continue;
        // (a name such as api-example-com is RETRACE_ROUTE_API_EXAMPLE_COM:
        // a shell keeps only variables whose names are letters, digits and _)
        std::string upper;
        for (char c : name)
            upper.push_back(std::isalnum(static_cast<unsigned char>(c))
                                ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
                                : '_');
        set.push_back("RETRACE_ROUTE_" + upper + "=" + base + "/" + name);
    }
    for (const auto& [key, value] : params) {
        std::string name = "RETRACE_PARAM_";
        for (char c : key)
            name.push_back(std::isalnum(static_cast<unsigned char>(c))
                               ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
                               : '_');
        set.push_back(name + "=" + value);
    }
    std::vector<std::string> env;
    for (char** e = envp; e && *e; ++e) {
        std::string_view kv(*e);
        std::string_view key = kv.substr(0, kv.find('=') + 1);
        bool overridden = std::any_of(set.begin(), set.end(), [&](const std::string& s) {
            return std::string_view(s).substr(0, s.find('=') + 1) == key;
        });
        if (!overridden) env.emplace_back(kv);
    }
    env.insert(env.end(), set.begin(), set.end());
    return env;
}

// A command's one run: every exchange goes into it.
class SingleRun final : public RunRouter {
  public:
    SingleRun(RunSession& session, proxy::IssueLedger* issues)
        : m_session(session), m_issues(issues) {}
    Result<RunTarget> acquire(const std::string&, const std::string&) override {
        RunTarget target = m_session.target();
        target.issues = m_issues;
        return target;
    }
    void release(const RunTarget&) override {}

  private:
    RunSession& m_session;
    proxy::IssueLedger* m_issues;
};

}  // namespace

std::optional<LaunchFailure> check_command(const std::string& argv0) {
    auto check = [](const fs::path& p) -> int {
        struct stat st {};
        if (stat(p.c_str(), &st) != 0) return 127;
        if (S_ISDIR(st.st_mode) || access(p.c_str(), X_OK) != 0) return 126;
        return 0;
    };
    int code = 127;
    if (argv0.find('/') != std::string::npos) {
        code = check(argv0);
    } else {
        const char* path = std::getenv("PATH");
        std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
        std::size_t start = 0;
        while (start <= dirs.size()) {
            std::size_t end = dirs.find(':', start);
            if (end == std::string::npos) end = dirs.size();
            std::string dir = dirs.substr(start, end - start);
            int c = check(fs::path(dir.empty() ? "." : dir) / argv0);
            if (c == 0) return std::nullopt;
            if (c == 126) code = 126;
            start = end + 1;
        }
    }
    if (code == 0) return std::nullopt;
    return LaunchFailure{
        code, code == 127 ? "command not found: " + argv0 : "command cannot be run: " + argv0};
}

std::map<std::string, std::string> recorded_params(const Json& conditions) {
    std::map<std::string, std::string> out;
    if (!conditions.is_object()) return out;
    Json params = conditions.value("params", Json::object());
    if (!params.is_object()) return out;
    for (const auto& [key, value] : params.items())
        if (value.is_string() &&
            value.get_ref<const std::string&>().find(core::k_redacted) == std::string::npos)
            out[key] = value.get<std::string>();
    return out;
}

std::map<std::string, std::string> param_map(const std::vector<std::string>& params) {
    std::map<std::string, std::string> out;
    for (const auto& p : params) {
        auto eq = p.find('=');
        if (eq != std::string::npos && eq > 0) out.try_emplace(p.substr(0, eq), p.substr(eq + 1));
    }
    return out;
}

Result<RunStart> capture_start(const StartSpec& spec, store::StoreOpener& opener, char** envp) {
    RETRACE_ASSIGN(core::Redactor redactor, core::Redactor::from_environment(envp, spec.redact));
    RunStart s{std::move(redactor), spec.redact, fs::current_path(), {}, {}, {}};
    s.repo_root = conditions::find_repo_root(s.cwd);
    RETRACE_ASSIGN(Json params, parse_params(spec.params, s.redactor));
    RETRACE_ASSIGN(s.inputs, digest_inputs(spec.inputs, opener, s.repo_root));
    s.conditions["code"] = conditions::capture_code({spec.command, s.cwd, spec.inputs}, s.redactor);
    s.conditions["env"] =
        conditions::capture_env({spec.env_names, s.repo_root.value_or(s.cwd), envp}, s.redactor);
    s.conditions["data"] = s.inputs.empty() ? Json::object() : Json{{"inputs", s.inputs}};
    s.conditions["params"] = params;
    if (spec.keep_worktree && s.repo_root) {
        Json git = s.conditions["code"].value("git", Json::object());
        s.worktree = git.value("dirty", true)
                         ? conditions::capture_worktree(*s.repo_root, spec.inputs, s.redactor)
                         : conditions::clean_worktree(*s.repo_root, git.value("commit", Json()));
    }
    return s;
}

Result<RecordOutcome> run_command(CommandRun o, RunStart start, store::StoreOpener& opener,
                                  char** envp, std::optional<LaunchFailure>* launch_failure) {
    const core::Redactor& redactor = start.redactor;
    bool replaying = o.proxy.answers != nullptr;
    std::optional<ShimSession> shim;
    if (o.deterministic) {
        RETRACE_ASSIGN(auto session, ShimSession::start(replaying, o.feed));
        shim.emplace(std::move(session));
    }
    RETRACE_ASSIGN(store::Store * store, opener.open(true));
    RETRACE_ASSIGN(o.proxy.secret, store->secret());
    // (the --redact patterns, for replays to redact as this run did; sealed,
    // since a pattern may spell the secret it hides)
    Json extra = Json::object();
    if (!start.redact.empty())
        extra[k_redact_metadata] = seal_redact_patterns(o.proxy.secret, start.redact);
    if (start.worktree) extra["worktree"] = start.worktree->metadata;
    RETRACE_ASSIGN(NewRun fresh, new_run(start.conditions, o.name, o.replay_of, extra));
    std::string run_id = fresh.row.id;
    std::vector<store::FileRow> inputs;
    for (const auto& [path, info] : start.inputs.items())
        inputs.push_back({run_id, "input", path, info["digest"].get<std::string>()});
    RETRACE_ASSIGN(auto session,
                   RunSession::start(*store, std::move(fresh), inputs, o.proxy.secret));
    // (the program's OpenTelemetry spans are sent here: a request naming one is its child)
    session->target().spans->adopt_foreign_traces();

    long long process_seq = session->next_seq();  // the process is event 1
    // Recording, the SDKs count the events they issue, so that a model
    // request is numbered after every event issued before it. (A replay's
    // SDK calls are answered one at a time: they arrive in order.)
    std::unique_ptr<proxy::IssueLedger> issues;
    if (!replaying) issues = proxy::IssueLedger::create();
    SingleRun router(*session, issues.get());
    // Only the program (which gets it in its environment) may add to its run.
    o.proxy.access_token = core::random_token();
    RETRACE_ASSIGN(auto proxy, RecordingProxy::start(o.proxy, router, redactor));
    auto child = run_child(o.command,
                           child_environment(envp, run_id, proxy->port(), o.proxy,
                                             shim ? &*shim : nullptr, issues.get(), o.params),
                           o.pass_through, o.deterministic);
    proxy->stop();  // every exchange in flight is recorded before the seal
    ChildResult result;
    if (child) {
        result = std::move(child).value();
    } else {  // lost a race with check_command: the run is sealed as failed to start
        result.exit_code = child.status().code() == ErrorCode::not_found ? 127 : 126;
        result.start_ns = result.end_ns = core::unix_now_ns();
        result.stderr_data = child.status().message() + "\n";
        *launch_failure = LaunchFailure{result.exit_code, child.status().message()};
    }

    trace::ProcessRecord process;
    std::string out = redactor.redact(result.stdout_data);
    std::string err = redactor.redact(result.stderr_data);
    process.stdout_digest = core::Digest::of(out).to_string();
    process.stderr_digest = core::Digest::of(err).to_string();
    process.stdout_bytes = out.size();
    process.stderr_bytes = err.size();
    process.argv = core::redact_argv(redactor, o.command);
    process.exit_code = result.exit_code;
    process.signal = result.signal;
    std::vector<store::Blob> process_blobs = {{process.stdout_digest, out},
                                              {process.stderr_digest, std::move(err)}};
    RecordOutcome outcome;
    if (shim) {
        // A replay keeps the streams it fed back, so that it replays in turn.
        auto streams = replaying ? o.feed : shim->collect(redactor);
        process.determinism = streams_attribute(streams, process_blobs);
        process.layout = trace::ProcessRecord::layout_of(result.layout_error);
        outcome.shim_divergences = shim->divergences();
    }
    // (the work tree's changed files: blobs of the run, named by its metadata)
    if (start.worktree)
        for (auto& [digest, bytes] : start.worktree->contents)
            process_blobs.push_back({digest, std::move(bytes)});
    core::Event event = process.to_event(process_seq, fs::path(o.command[0]).filename().string(),
                                         result.start_ns, result.end_ns);
    RETRACE_TRY(session->complete(std::move(event), std::move(process_blobs)));
    outcome.run_id = run_id;
    outcome.exit_code = result.exit_code;

    RunSession::End end;
    end.outcome.outputs.emplace();
    for (const auto& p : o.outputs) {
        auto d = digest_path(p, nullptr);
        std::string key = condition_path(fs::absolute(p), start.repo_root);
        if (!d) {
            outcome.missing_outputs.push_back(p);
            continue;
        }
        (*end.outcome.outputs)[key] = d->digest.to_string();
        end.outputs.push_back({run_id, "output", key, d->digest.to_string()});
    }
    end.outcome.exit_code = result.exit_code;
    end.outcome.signal = result.signal;
    end.outcome.stdout_digest = process.stdout_digest;
    end.outcome.stderr_digest = process.stderr_digest;
    end.outcome.missing_outputs = outcome.missing_outputs;
    end.conditions = std::move(start.conditions);
    outcome.stdout_text = std::move(out);
    auto sealed = session->seal(std::move(end));
    if (!sealed) {
        // (the program ran: its exit code stands; the run stays incomplete)
        auto loss = session->loss();
        outcome.not_stored = loss.events > 0
                                 ? RunSession::describe(loss)
                                 : "the run could not be sealed: " + sealed.status().message();
        outcome.conditions_digest = session->run().row.conditions_digest;
        return outcome;
    }
    outcome.conditions_digest = sealed->conditions_digest;
    outcome.record_digest = sealed->record_digest.value_or("");
    return outcome;
}

}  // namespace retrace::run
