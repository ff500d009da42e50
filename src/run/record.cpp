#include "retrace/run/record.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "retrace/conditions/code.hpp"
#include "retrace/conditions/environment.hpp"
#include "retrace/conditions/input_digest.hpp"
#include "retrace/conditions/traffic_facts.hpp"
#include "retrace/core/clock.hpp"
#include "retrace/proxy/event_api.hpp"
#include "retrace/proxy/proxy.hpp"
#include "retrace/run/child_process.hpp"
#include "retrace/run/run_setup.hpp"
#include "retrace/store/run_writer.hpp"

namespace retrace::run {

using conditions::capture_code;
using conditions::capture_env;
using conditions::condition_path;
using conditions::digest_path;
using conditions::find_repo_root;
using conditions::k_placeholder_key;
using conditions::open_stat_cache;
using conditions::StatCache;
using conditions::TrafficFacts;
using proxy::ProxyOptions;
using proxy::RecordingProxy;
using proxy::RunRouter;
using proxy::RunTarget;
using proxy::SpanTable;
using replay::Cassette;

namespace {

namespace fs = std::filesystem;
using core::Json;

// Finds argv0 as execvp would; distinguishes "not found" from "not executable".
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

struct DeclaredFiles {
    Json inputs = Json::object();
    std::vector<store::FileRow> rows;
};

Result<DeclaredFiles> digest_inputs(const std::vector<std::string>& paths,
                                    const fs::path& store_dir,
                                    const std::optional<fs::path>& repo_root) {
    DeclaredFiles out;
    if (paths.empty()) return out;
    std::unique_ptr<StatCache> cache;
    std::error_code ec;
    if (fs::is_directory(store_dir, ec)) cache = open_stat_cache(store_dir / "cache" / "stat.db");
    for (const auto& p : paths) {
        auto d = digest_path(p, cache.get());
        if (!d)
            return error(ErrorCode::invalid_input,
                         "cannot read --input " + p + ": " + d.status().message());
        std::string key = condition_path(fs::absolute(p), repo_root);
        out.inputs[key] = {{"digest", d->digest.to_string()},
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
        out[key] = redactor.redact(p.substr(eq + 1));
    }
    return out;
}

Result<ProxyOptions> proxy_options(const RecordOptions& o, char** envp) {
    ProxyOptions p;
    p.ca_file = o.ca_file;
    p.max_request_body = o.max_body;
    p.answers = o.cassette;
    RETRACE_ASSIGN(p.upstreams, upstream_urls(envp, o.upstreams, o.routes));
    for (const auto& name : o.recorded_routes) p.upstreams.try_emplace(name, "");
    return p;
}

std::vector<std::string> child_environment(char** envp, const std::string& run_id, int proxy_port,
                                           const ProxyOptions& proxy, const ShimSession* shim) {
    std::string base = "http://127.0.0.1:" + std::to_string(proxy_port);
    bool replay = proxy.answers != nullptr;
    std::vector<std::string> set = {
        "RETRACE_RUN_ID=" + run_id, std::string("RETRACE_MODE=") + (replay ? "replay" : "record"),
        "RETRACE_PROXY_URL=" + base, "OPENAI_BASE_URL=" + base + "/openai",
        "ANTHROPIC_BASE_URL=" + base + "/anthropic"};
    if (replay)
        for (const char* key : {"OPENAI_API_KEY", "ANTHROPIC_API_KEY"})
            if (!env_value(envp, key)) set.push_back(key + ("=" + std::string(k_placeholder_key)));
    if (shim) {
        auto preload = env_value(envp, "LD_PRELOAD");
        for (auto& kv : shim->environment(preload ? preload->c_str() : nullptr))
            set.push_back(std::move(kv));
    }
    for (const auto& [name, url] : proxy.upstreams) {
        if (name == "openai" || name == "anthropic") continue;
        std::string upper;
        for (char c : name)
            upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
        set.push_back("RETRACE_ROUTE_" + upper + "=" + base + "/" + name);
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

// record's one run: every exchange goes into it.
class SingleRun final : public RunRouter {
  public:
    SingleRun(store::RunWriter& writer, TrafficFacts& facts, SpanTable& spans)
        : m_writer(writer), m_facts(facts), m_spans(spans) {}
    Result<RunTarget> acquire(const std::string&) override {
        return RunTarget{&m_writer, &m_facts, &m_spans};
    }
    void release(const RunTarget&) override {}

  private:
    store::RunWriter& m_writer;
    TrafficFacts& m_facts;
    SpanTable& m_spans;
};

}  // namespace

// What a run starts from, before its command runs: the redactor, where it
// runs, and the conditions known then (code, env, data, params).
struct Start {
    core::Redactor redactor;
    fs::path cwd, store_dir;
    std::optional<fs::path> repo_root;
    DeclaredFiles declared;
    Json conditions = Json::object();
};

Result<Start> start_run(const RecordOptions& o, const fs::path& store_dir, char** envp) {
    RETRACE_ASSIGN(core::Redactor redactor, core::Redactor::from_environment(envp, o.redact));
    Start s{std::move(redactor), fs::current_path(), {}, {}, {}, {}};
    s.repo_root = find_repo_root(s.cwd);
    s.store_dir = store_dir;
    RETRACE_ASSIGN(Json params, parse_params(o.params, s.redactor));
    RETRACE_ASSIGN(s.declared, digest_inputs(o.inputs, s.store_dir, s.repo_root));
    s.conditions["code"] = capture_code({o.command, s.cwd}, s.redactor);
    s.conditions["env"] = capture_env({o.env_names, s.repo_root.value_or(s.cwd), envp}, s.redactor);
    s.conditions["data"] =
        s.declared.inputs.empty() ? Json::object() : Json{{"inputs", s.declared.inputs}};
    s.conditions["params"] = params;
    return s;
}

Result<Json> static_conditions(const RecordOptions& o, const fs::path& store_dir, char** envp) {
    RETRACE_ASSIGN(Start s, start_run(o, store_dir, envp));
    return s.conditions;
}

Result<RecordOutcome> record(const RecordOptions& o, store::StoreOpener& opener, char** envp,
                             std::optional<LaunchFailure>* launch_failure) {
    if (o.command.empty())
        return error(ErrorCode::invalid_input, "no command given (retrace record -- CMD ARGS...)");
    // Everything that can be wrong with the user's input is checked before the
    // store is touched, so bad input changes nothing.
    if (auto failure = check_command(o.command[0])) {
        *launch_failure = failure;
        return RecordOutcome{};
    }
    RETRACE_ASSIGN(Start start, start_run(o, opener.directory(), envp));
    core::Redactor& redactor = start.redactor;
    const fs::path& store_dir = start.store_dir;
    const auto& repo_root = start.repo_root;
    DeclaredFiles& declared = start.declared;
    Json& conditions = start.conditions;
    RETRACE_ASSIGN(ProxyOptions proxy_opts, proxy_options(o, envp));
    std::optional<ShimSession> shim;
    if (o.deterministic) {
        RETRACE_ASSIGN(auto session, ShimSession::start(o.cassette != nullptr, o.shim_streams));
        shim.emplace(std::move(session));
    }
    RETRACE_ASSIGN(store::Store * store, opener.open(true));
    RETRACE_ASSIGN(NewRun fresh, new_run(conditions, o.name, o.replay_of));
    store::RunRow& row = fresh.row;
    const std::string& run_id = row.id;
    for (const auto& [path, info] : declared.inputs.items())
        declared.rows.push_back({run_id, "input", path, info["digest"].get<std::string>()});
    RETRACE_ASSIGN(auto writer, store::RunWriter::start(*store, row, declared.rows));

    RETRACE_ASSIGN(proxy_opts.secret, store->secret());
    long long process_seq = writer->next_seq();
    TrafficFacts facts(proxy_opts.secret);
    SpanTable spans(*writer);
    SingleRun router(*writer, facts, spans);
    RETRACE_ASSIGN(auto proxy, RecordingProxy::start(proxy_opts, router, redactor));
    auto child = run_child(
        o.command,
        child_environment(envp, run_id, proxy->port(), proxy_opts, shim ? &*shim : nullptr),
        o.pass_through);
    proxy->stop();                         // every exchange in flight is recorded before the seal
    spans.close_all(core::unix_now_ns());  // spans the program never ended
    ChildResult result;
    if (child) {
        result = std::move(child).value();
    } else {  // lost a race with check_command: the run is sealed as failed to start
        result.exit_code = child.status().code() == ErrorCode::not_found ? 127 : 126;
        result.start_ns = result.end_ns = core::unix_now_ns();
        result.stderr_data = child.status().message() + "\n";
        *launch_failure = LaunchFailure{result.exit_code, child.status().message()};
    }

    std::string out = redactor.redact(result.stdout_data);
    std::string err = redactor.redact(result.stderr_data);
    std::string out_digest = core::Digest::of(out).to_string();
    std::string err_digest = core::Digest::of(err).to_string();
    Json argv = Json::array();
    for (const auto& a : o.command) argv.push_back(redactor.redact(a));
    core::Event process;
    process.seq = process_seq;
    process.kind = core::EventKind::process;
    process.name = fs::path(o.command[0]).filename().string();
    process.start_ns = result.start_ns;
    process.end_ns = result.end_ns;
    process.attrs = {{"argv", argv},
                     {"exit_code", result.exit_code},
                     {"signal", result.signal},
                     {"stdout", out_digest},
                     {"stderr", err_digest},
                     {"stdout_bytes", out.size()},
                     {"stderr_bytes", err.size()}};
    std::vector<store::Blob> process_blobs = {{out_digest, std::move(out)},
                                              {err_digest, std::move(err)}};
    RecordOutcome outcome;
    if (shim) {
        // A replay keeps the streams it fed back, so that it replays in turn.
        auto streams = o.cassette ? o.shim_streams : shim->collect();
        process.attrs["determinism"] = streams_attribute(streams, process_blobs);
        outcome.shim_divergences = shim->divergences();
    }
    RETRACE_TRY(writer->complete(std::move(process), std::move(process_blobs)));

    store::RunWriter::Seal seal;
    Json outputs = Json::object();
    for (const auto& p : o.outputs) {
        auto d = digest_path(p, nullptr);
        std::string key = condition_path(fs::absolute(p), repo_root);
        if (!d) {
            outcome.missing_outputs.push_back(p);
            continue;
        }
        outputs[key] = d->digest.to_string();
        seal.outputs.push_back({run_id, "output", key, d->digest.to_string()});
    }
    long long ended = core::unix_now_ns();
    seal.metadata = sealed_metadata(fresh, ended);
    seal.outcome = {{"exit_code", result.exit_code},
                    {"signal", result.signal},
                    {"stdout", out_digest},
                    {"stderr", err_digest},
                    {"outputs", outputs}};
    if (!outcome.missing_outputs.empty()) seal.outcome["missing_outputs"] = outcome.missing_outputs;
    seal.exit_code = result.exit_code;
    facts.merge_into(conditions);  // what the traffic said about models and the backend
    seal.conditions = conditions;
    seal.ended_ns = ended;
    RETRACE_ASSIGN(auto sealed, writer->seal(std::move(seal)));

    outcome.run_id = run_id;
    outcome.conditions_digest = sealed.conditions_digest;
    outcome.record_digest = sealed.record_digest.value_or("");
    outcome.exit_code = result.exit_code;
    outcome.stdout_text = redactor.redact(result.stdout_data);
    return outcome;
}

}  // namespace retrace::run
