#include "retrace/run/gateway.hpp"

#include <algorithm>
#include <cctype>
#include <csignal>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <mutex>

#include "retrace/conditions/code.hpp"
#include "retrace/conditions/environment.hpp"
#include "retrace/conditions/traffic_facts.hpp"
#include "retrace/core/clock.hpp"
#include "retrace/net/listen_address.hpp"
#include "retrace/proxy/event_api.hpp"
#include "retrace/proxy/proxy.hpp"
#include "retrace/replay/cassette.hpp"
#include "retrace/run/run_setup.hpp"
#include "retrace/run/session.hpp"
#include "retrace/store/run_ref.hpp"

namespace retrace::run {

using conditions::capture_code;
using conditions::capture_env;
using conditions::find_repo_root;
using proxy::ProxyOptions;
using proxy::RecordingProxy;
using proxy::RunRouter;
using proxy::RunTarget;
using replay::Cassette;
using replay::ReplayPolicy;

namespace {

namespace fs = std::filesystem;
using core::Json;
using Clock = std::chrono::steady_clock;

// The group of exchanges without an x-retrace-run header: the current hour.
std::string hour_group() {
    return core::utc_time(core::unix_now_ns(), "gateway-%Y-%m-%dT%H");
}

// A client-chosen group becomes a run name: printable ASCII, at most 100 bytes.
Status check_group(const std::string& group) {
    bool printable =
        std::all_of(group.begin(), group.end(), [](char c) { return c > ' ' && c < 127; });
    if (!printable || group.size() > 100)
        return error(ErrorCode::invalid_input,
                     "x-retrace-run must be 1-100 printable characters without spaces");
    return Status::ok();
}

class GatewayRouter final : public RunRouter {
  public:
    // conditions: captured while the gateway starts listening (git and the
    // toolchain take a while to ask); the first run waits for them.
    GatewayRouter(store::Store& store, std::string secret, std::shared_future<Json> conditions,
                  Json gateway_info, std::optional<std::string> replay_of)
        : m_store(store),
          m_secret(std::move(secret)),
          m_conditions(std::move(conditions)),
          m_info(std::move(gateway_info)),
          m_replay_of(std::move(replay_of)) {}

    Result<RunTarget> acquire(const std::string& header, const std::string& credential) override {
        // (the hour's run is one per credential: each client's traffic its own)
        std::string group = header.empty() ? hour_group() : header;
        RETRACE_TRY(check_group(group));
        std::string key = header.empty() ? group + "\n" + credential : group;
        std::lock_guard lock(m_mutex);
        auto it = m_open.find(key);
        // A named run is bound to the first credential it sees; a request
        // carrying none (the service's calls to its own tools, its SDK
        // events) joins it, one carrying another is refused.
        if (it != m_open.end() && !credential.empty()) {
            if (it->second.owner.empty()) it->second.owner = credential;
            if (it->second.owner != credential)
                return error(ErrorCode::denied, "run '" + group +
                                                    "' was opened with another credential: "
                                                    "choose another x-retrace-run");
        }
        if (it == m_open.end()) {
            OpenRun run;
            run.owner = credential;
            RETRACE_ASSIGN(run.store, m_store.connect());  // (each run's writer has its own)
            Json extra = {{"gateway", m_info}};
            extra["gateway"]["group"] = group;
            RETRACE_ASSIGN(NewRun fresh, new_run(m_conditions.get(), group, m_replay_of, extra));
            RETRACE_ASSIGN(run.session,
                           RunSession::start(*run.store, std::move(fresh), {}, m_secret));
            it = m_open.emplace(key, std::move(run)).first;
        }
        OpenRun& run = it->second;
        ++run.active;
        ++run.exchanges;
        run.last_used = Clock::now();
        return run.session->target();
    }

    void release(const RunTarget& target) override {
        std::lock_guard lock(m_mutex);
        for (auto& [_, run] : m_open)
            if (run.session->target().writer == target.writer) {
                --run.active;
                run.last_used = Clock::now();
            }
    }

    // Seals the runs idle for at least idle (all of them when idle is zero
    // and none is in flight). Returns how many were sealed.
    int seal_idle(Clock::duration idle) {
        std::vector<OpenRun> done;
        {
            std::lock_guard lock(m_mutex);
            auto now = Clock::now();
            for (auto it = m_open.begin(); it != m_open.end();) {
                if (it->second.active == 0 && now - it->second.last_used >= idle) {
                    done.push_back(std::move(it->second));
                    it = m_open.erase(it);
                } else {
                    ++it;
                }
            }
        }
        int sealed = 0;
        for (auto& run : done) {
            Status s = seal(run);
            if (s.is_ok()) {
                ++sealed;
                m_exchanges += run.exchanges;
            } else {
                auto loss = run.session->loss();
                std::cerr << "retrace: run " << run.session->id() << " left incomplete: "
                          << (loss.events ? RunSession::describe(loss) : s.message()) << "\n";
            }
        }
        return sealed;
    }

    long long exchanges() const { return m_exchanges; }

  private:
    struct OpenRun {
        std::unique_ptr<store::Store> store;
        std::unique_ptr<RunSession> session;
        std::string owner;  // the fingerprint of the credential that opened it
        int active = 0;
        long long exchanges = 0;
        Clock::time_point last_used;
    };

    Status seal(OpenRun& run) {
        RunSession::End end;
        end.outcome.exchanges = run.exchanges;
        end.conditions = m_conditions.get();
        RETRACE_ASSIGN(auto row, run.session->seal(std::move(end)));
        std::cerr << "retrace: sealed run " << row.id << " (" << row.name.value_or("") << ", "
                  << run.exchanges << " exchange(s))\n";
        return Status::ok();
    }

    store::Store& m_store;  // the gateway's own connection: only connect() is called on it
    std::string m_secret;
    std::shared_future<Json> m_conditions;
    Json m_info;
    std::optional<std::string> m_replay_of;
    std::mutex m_mutex;
    std::map<std::string, OpenRun> m_open;
    long long m_exchanges = 0;
};

// The gateway's access token: --token-file's first line, else
// $RETRACE_GATEWAY_TOKEN, else none.
Result<std::string> gateway_token(const GatewayOptions& o, char** envp) {
    std::string token;
    if (o.token_file) {
        std::ifstream in(*o.token_file);
        if (!in) return error(ErrorCode::not_found, "cannot read --token-file " + *o.token_file);
        std::getline(in, token);
        while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back())))
            token.pop_back();
    } else if (auto env = env_value(envp, "RETRACE_GATEWAY_TOKEN")) {
        token = *env;
    } else {
        return std::string();
    }
    bool printable = std::all_of(token.begin(), token.end(),
                                 [](char c) { return c > ' ' && c < 127 && c != '/'; });
    if (token.size() < 16 || !printable)
        return error(ErrorCode::invalid_input,
                     "the gateway's token must be at least 16 printable characters, without "
                     "spaces or '/'");
    return token;
}

}  // namespace

Result<GatewaySummary> run_gateway(const GatewayOptions& o, store::StoreOpener& opener, char** envp,
                                   const std::function<void(const std::string&)>& on_listening) {
    if (o.idle_seconds <= 0) return error(ErrorCode::invalid_input, "--idle wants seconds > 0");
    RETRACE_ASSIGN(auto listen, net::parse_listen(o.listen));
    RETRACE_ASSIGN(std::string token, gateway_token(o, envp));
    if (token.empty() && !net::is_loopback(listen.first))
        return error(ErrorCode::invalid_input,
                     "--listen " + o.listen +
                         " is not a loopback address: whoever reaches it could record into this "
                         "store, or read recorded answers; give --token-file FILE (or "
                         "RETRACE_GATEWAY_TOKEN) for clients to present");
    RETRACE_ASSIGN(core::Redactor redactor, core::Redactor::from_environment(envp, o.redact));
    ProxyOptions p;
    RETRACE_ASSIGN(p.upstreams, upstream_urls(envp, o.upstreams, o.routes));
    p.ca_file = o.ca_file;
    p.max_request_body = o.max_body;
    RETRACE_TRY(set_timeouts(p, o.read_timeout, o.keepalive_timeout));
    p.listen_host = listen.first;
    p.access_token = token;
    p.shield_divergences = true;
    p.listen_port = listen.second;

    fs::path cwd = fs::current_path();
    RETRACE_ASSIGN(store::Store * store, opener.open(true));
    RETRACE_ASSIGN(p.secret, store->secret());
    std::unique_ptr<Cassette> cassette;
    std::optional<std::string> replay_of;
    if (o.replay) {
        RETRACE_ASSIGN(auto source, store::resolve_run(*store, *o.replay));
        ReplayPolicy policy;
        policy.on_miss_live = o.on_miss_live;
        policy.reuse = o.reuse;
        for (const auto& path : o.ignore) {
            RETRACE_ASSIGN(auto jp, core::JsonPath::parse(path));
            policy.ignore.push_back(std::move(jp));
        }
        RETRACE_ASSIGN(cassette, Cassette::load(*store, source.id, p.secret, std::move(policy)));
        replay_of = source.id;
        p.answers = cassette.get();
    }

    // SIGINT and SIGTERM are taken with sigtimedwait by this thread only:
    // blocked before any other thread exists (the capture of the conditions,
    // the proxy's), so they inherit the mask.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigset_t previous;
    pthread_sigmask(SIG_BLOCK, &signals, &previous);
    std::shared_future<Json> conditions =
        std::async(std::launch::async, [argv = o.argv, cwd, envp, redactor] {
            auto repo_root = find_repo_root(cwd);
            Json c = Json::object();
            c["code"] = capture_code({argv, cwd}, redactor);
            c["env"] = capture_env({{}, repo_root.value_or(cwd), envp}, redactor);
            return c;
        }).share();
    Json info = {{"listen", o.listen}, {"idle_seconds", o.idle_seconds}};
    GatewayRouter router(*store, p.secret, conditions, info, replay_of);

    auto proxy = RecordingProxy::start(p, router, redactor);
    if (!proxy) {
        pthread_sigmask(SIG_SETMASK, &previous, nullptr);
        return proxy.status();
    }
    std::string host =
        listen.first.find(':') == std::string::npos ? listen.first : "[" + listen.first + "]";
    on_listening("http://" + host + ":" + std::to_string((*proxy)->port()));

    GatewaySummary summary;
    auto idle = std::chrono::seconds(o.idle_seconds);
    timespec tick{0, 200'000'000};
    for (;;) {
        int sig = sigtimedwait(&signals, nullptr, &tick);
        if (sig == SIGINT || sig == SIGTERM) break;
        summary.runs_sealed += router.seal_idle(idle);
    }
    std::cerr << "retrace: stopping: recording the exchanges in flight\n";
    (*proxy)->stop();
    summary.runs_sealed += router.seal_idle(Clock::duration::zero());
    summary.exchanges = router.exchanges();
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    return summary;
}

}  // namespace retrace::run
