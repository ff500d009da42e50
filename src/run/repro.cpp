#include "retrace/run/repro.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "environment_block.hpp"
#include "retrace/analysis/diff.hpp"
#include "retrace/analysis/doctor.hpp"
#include "retrace/run/command_run.hpp"
#include "retrace/run/determinism.hpp"
#include "retrace/run/oracle.hpp"
#include "retrace/run/replay.hpp"
#include "retrace/run/run_setup.hpp"
#include "retrace/store/run_ref.hpp"
#include "retrace/trace/process.hpp"

namespace retrace::run {

namespace {

using analysis::TestOutcome;
using core::Json;
using replay::Blend;
using replay::Cassette;
using replay::ReplayPolicy;
using replay::Slot;

// A run as repro reads it: its row, its events (by seq) and its process.
struct Loaded {
    store::RunRow row;
    std::vector<store::EventRow> events;
    std::map<long long, const core::Event*> by_seq;
    trace::ProcessRecord process;
    std::string stdout_text;
};

Result<Loaded> load_run(store::Store& store, store::RunRow row) {
    Loaded l;
    l.row = std::move(row);
    RETRACE_ASSIGN(l.events, store.events(l.row.id));
    for (const auto& e : l.events) {
        l.by_seq[e.event.seq] = &e.event;
        if (e.event.kind == core::EventKind::process) {
            l.process = trace::ProcessRecord::from_attrs(e.event.attrs);
            l.stdout_text = store::blob_text(store, l.process.stdout_digest);
        }
    }
    return l;
}

std::string display_name(const store::RunRow& row) {
    return row.name ? *row.name : row.id.substr(0, 12);
}

bool is_repro_run(const store::RunRow& row) {
    auto conditions = core::parse_json_strict(row.conditions);
    return conditions && conditions->is_object() && conditions->contains("params") &&
           (*conditions)["params"].is_object() && (*conditions)["params"].contains("retrace_repro");
}

Json argv_of(const store::RunRow& row) {
    auto conditions = core::parse_json_strict(row.conditions);
    if (!conditions || !conditions->is_object()) return nullptr;
    return conditions->value("code", Json::object()).value("argv", Json());
}

// The recorded environment variables of a run: name -> value (null:
// recorded as absent). Secrets, stored as present or redacted, are left out.
std::map<std::string, std::optional<std::string>> recorded_vars(const store::RunRow& row) {
    std::map<std::string, std::optional<std::string>> out;
    auto conditions = core::parse_json_strict(row.conditions);
    if (!conditions || !conditions->is_object()) return out;
    Json vars = conditions->value("env", Json::object()).value("vars", Json::object());
    if (!vars.is_object()) return out;
    for (const auto& [name, value] : vars.items()) {
        if (value.is_null()) {
            out[name] = std::nullopt;
        } else if (value.is_string()) {
            const std::string& v = value.get_ref<const std::string&>();
            if (v != "<present>" && v.find(core::k_redacted) == std::string::npos) out[name] = v;
        }
    }
    return out;
}

// Judges a replay the way the options say: the oracle, or the failed run's
// exit code.
class Judge {
  public:
    Judge(std::string oracle, int failed_exit, char** envp, std::string store)
        : m_oracle(std::move(oracle)),
          m_failed_exit(failed_exit),
          m_envp(envp),
          m_store(std::move(store)) {}

    Result<bool> fails(const std::string& run_id, const std::string& stdout_text, int exit) const {
        if (m_oracle.empty()) return exit == m_failed_exit;
        RETRACE_ASSIGN(bool passes,
                       oracle_passes(m_oracle, run_id, stdout_text, exit, m_envp, m_store));
        return !passes;
    }
    std::string describe() const {
        return m_oracle.empty() ? "exit code " + std::to_string(m_failed_exit) : m_oracle;
    }

  private:
    std::string m_oracle;
    int m_failed_exit;
    char** m_envp;
    std::string m_store;  // given to the oracle as $RETRACE_STORE
};

class Repro {
  public:
    Repro(const ReproOptions& o, store::StoreOpener& opener, char** envp)
        : m_o(o), m_opener(opener), m_envp(envp) {}

    Result<ReproOutcome> run() {
        RETRACE_ASSIGN(m_store, m_opener.open(false));
        RETRACE_ASSIGN(auto failed_row, store::resolve_run(*m_store, m_o.failed));
        if (!failed_row.sealed())
            return error(ErrorCode::invalid_input,
                         "run " + failed_row.id + " is not sealed (still running, or cut off)");
        RETRACE_ASSIGN(m_failed, load_run(*m_store, std::move(failed_row)));
        m_out.failed_id = m_failed.row.id;
        m_out.k = m_o.k;
        if (!m_o.command.empty())
            m_command = {"/bin/sh", "-c", m_o.command};
        else
            m_command = m_failed.process.argv;
        if (m_command.empty())
            return error(ErrorCode::invalid_input,
                         "run " + m_failed.row.id +
                             " has no recorded command (a gateway's run): give --command CMD, "
                             "the program to drive");
        if (!m_failed.process.exit_code && m_o.oracle.empty())
            return error(ErrorCode::invalid_input,
                         "run " + m_failed.row.id +
                             " has no recorded exit code (a gateway's run): give --oracle CMD "
                             "to say what makes it a failure");
        int failed_exit = static_cast<int>(m_failed.process.exit_code.value_or(0));
        if (m_o.oracle.empty() && failed_exit == 0)
            return error(ErrorCode::invalid_input,
                         "run " + m_failed.row.id +
                             " exited 0: give --oracle CMD to say what makes it a failure");
        m_judge.emplace(local(m_o.oracle), failed_exit, m_envp, m_opener.location().str());
        m_out.oracle = m_judge->describe();
        RETRACE_ASSIGN(bool recorded_fails,
                       m_judge->fails(m_failed.row.id, m_failed.stdout_text, failed_exit));
        if (!recorded_fails)
            return error(ErrorCode::invalid_input, "the oracle passes run " + m_failed.row.id +
                                                       " as recorded: nothing to reproduce");
        RETRACE_ASSIGN(m_secret, m_store->secret());
        if (auto metadata = core::parse_json_strict(m_failed.row.metadata))
            if (auto patterns = recorded_redact_patterns(m_secret, *metadata)) m_redact = *patterns;

        if (m_o.against) {  // (bad input is refused before any replay)
            RETRACE_ASSIGN(auto row, store::resolve_run(*m_store, *m_o.against));
            if (row.id == m_failed.row.id)
                return error(ErrorCode::invalid_input, "--against names the failed run itself");
        }
        // Replays run in the failing run's recorded environment variables.
        m_failed_vars = local(recorded_vars(m_failed.row));
        m_failed_env = std::make_unique<EnvironmentBlock>(m_envp, m_failed_vars);
        RETRACE_TRY(validate());
        if (!m_out.validated()) return m_out;
        if (m_o.cause && !m_o.against) return m_out;  // checking a bundle without a cause
        RETRACE_TRY(find_passing());
        if (!m_out.passed_id) return m_out;
        RETRACE_TRY(isolate());
        return m_out;
    }

  private:
    void progress(const std::string& line) const {
        if (m_o.progress) m_o.progress(line);
    }

    // A command line or oracle as it runs here: the program's files moved
    // from path_from to path_to.
    std::string local(std::string text) const {
        if (m_o.path_from.empty()) return text;
        for (std::size_t at = text.find(m_o.path_from); at != std::string::npos;
             at = text.find(m_o.path_from, at + m_o.path_to.size())) {
            std::size_t end = at + m_o.path_from.size();
            if (end < text.size() && text[end] != '/' && text[end] != ' ' && text[end] != '"' &&
                text[end] != '\'') {
                at += 1;
                continue;
            }
            text.replace(at, m_o.path_from.size(), m_o.path_to);
        }
        return text;
    }
    std::vector<std::string> local(std::vector<std::string> argv) const {
        for (auto& a : argv) a = local(std::move(a));
        return argv;
    }
    // (a recorded variable may name a file of the program's: CONFIG=/repo/app.yaml)
    std::map<std::string, std::optional<std::string>> local(
        std::map<std::string, std::optional<std::string>> vars) const {
        for (auto& [_, value] : vars)
            if (value) value = local(std::move(*value));
        return vars;
    }

    std::vector<std::string> params(const std::string& step) const {
        return {"retrace_repro=" + m_failed.row.id, "retrace_repro_step=" + step};
    }

    // 1. The failed run replayed K times, judged each time.
    Status validate() {
        // What escaped, the first replay's word for each way (replays that
        // differ by a random value would otherwise each add a line).
        std::map<std::string, std::string> escaped;
        for (int i = 1; i <= m_o.k; ++i) {
            ReplayOptions r;
            r.run = m_failed.row.id;
            r.name = display_name(m_failed.row) + ".repro";
            r.quiet = true;
            r.params = params("validate");
            if (!m_o.path_from.empty() || !m_o.command.empty()) r.command = local(m_command);
            r.confirm_imported = [this](const std::string&, const std::string&,
                                        const std::vector<std::string>&) { return m_o.imported; };
            std::optional<LaunchFailure> launch;
            RETRACE_ASSIGN(ReplayOutcome replayed,
                           replay(r, m_opener, m_failed_env->envp(), &launch));
            if (launch) return error(ErrorCode::invalid_input, launch->message);
            m_out.runs.push_back(replayed.run.run_id);
            RETRACE_ASSIGN(bool fails, m_judge->fails(replayed.run.run_id, replayed.run.stdout_text,
                                                      replayed.run.exit_code));
            bool answered = replayed.divergences.empty() && replayed.run.shim_divergences.empty();
            // Judged by its exit code alone, a replay that crashed with the
            // same code would pass for the failure: it must also print what
            // the failed run printed.
            bool same_way = !m_o.oracle.empty() || replayed.run.stdout_text == m_failed.stdout_text;
            if (fails && answered && same_way) {
                ++m_out.reproduced;
            } else if (fails && answered) {
                std::string how;
                for (const auto& d : replayed.differences)
                    if (d.starts_with("stdout")) how = d;
                escaped.try_emplace("failed another way",
                                    "a replay failed another way: " +
                                        (how.empty() ? std::string("its output differs") : how));
            } else if (!answered) {
                escaped.try_emplace("diverged", replayed.differences.empty()
                                                    ? "the replay diverged"
                                                    : replayed.differences.front());
            } else {
                std::string how;
                for (const auto& d : replayed.differences) how += (how.empty() ? "" : "; ") + d;
                escaped.try_emplace(
                    "passed", "a replay passed: " + (how.empty() ? "the oracle passed it" : how));
            }
            progress("repro: validating: " + std::to_string(i) + "/" + std::to_string(m_o.k) +
                     " replays, " + std::to_string(m_out.reproduced) + " failed as recorded");
        }
        if (m_out.validated()) return Status::ok();
        for (auto& [_, what] : escaped) m_out.escaped.push_back(std::move(what));
        if (auto doctor = analysis::doctor_run(*m_store, m_failed.row.id))
            for (const auto& f : doctor->findings)
                if (f.severity != "info")
                    m_out.escaped.push_back("doctor: " + f.check + ": " + f.message);
        return Status::ok();
    }

    // The passing run: given, or the newest one of the same name (else of
    // the same command) that the oracle passes.
    Status find_passing() {
        if (m_o.against) {
            RETRACE_ASSIGN(auto row, store::resolve_run(*m_store, *m_o.against));
            RETRACE_ASSIGN(m_passed, load_run(*m_store, std::move(row)));
            RETRACE_ASSIGN(bool fails, judge_recorded(m_passed));
            if (fails)
                return error(ErrorCode::invalid_input,
                             "--against " + m_passed.row.id + ": the oracle fails that run too");
            m_out.passed_id = m_passed.row.id;
            m_out.passed_how = "given";
            return Status::ok();
        }
        store::RunFilter filter;
        filter.name = m_failed.row.name;
        filter.limit = 500;
        RETRACE_ASSIGN(auto rows, m_store->list_runs(filter));
        Json argv = argv_of(m_failed.row);
        for (auto& row : rows) {
            if (row.id == m_failed.row.id || row.replay_of || !row.sealed() || is_repro_run(row))
                continue;
            if (!m_failed.row.name && argv_of(row) != argv) continue;
            RETRACE_ASSIGN(auto loaded, load_run(*m_store, row));
            if (m_o.command.empty() && (loaded.process.argv.empty() || !loaded.process.exit_code))
                continue;
            RETRACE_ASSIGN(bool fails, judge_recorded(loaded));
            if (fails) continue;
            m_passed = std::move(loaded);
            m_out.passed_id = m_passed.row.id;
            m_out.passed_how = m_failed.row.name
                                   ? "the newest passing run named " + *m_failed.row.name
                                   : std::string("the newest passing run of the same command");
            progress("repro: against " + m_passed.row.id + ", " + m_out.passed_how);
            return Status::ok();
        }
        m_out.not_isolated =
            "no passing run of this program to isolate the cause against: record one (retrace "
            "probe runs it until one passes), or give --against RUN";
        return Status::ok();
    }

    Result<bool> judge_recorded(const Loaded& run) const {
        return m_judge->fails(run.row.id, run.stdout_text,
                              static_cast<int>(run.process.exit_code.value_or(0)));
    }

    // The answers the two runs got differently to the same request.
    Status collect_differences() {
        auto compare = [&](bool event, const auto& failing_digests, auto at_failing,
                           auto at_passing) -> Status {
            for (const auto& [digest, count] : failing_digests)
                for (std::size_t k = 0; k < count; ++k) {
                    auto* f = at_failing(digest, k);
                    auto* p = at_passing(digest, k);
                    if (!f || !p) break;
                    const core::Event* fe = event_of(m_failed, f->seq);
                    const core::Event* pe = event_of(m_passed, p->seq);
                    if (!fe || !pe) continue;
                    if (analysis::answer_key(*m_store, *fe) == analysis::answer_key(*m_store, *pe))
                        continue;
                    Difference d;
                    d.slot = Slot{event, digest, k};
                    d.failing_seq = f->seq;
                    d.passing_seq = p->seq;
                    d.kind = std::string(core::to_string(fe->kind));
                    d.name = fe->name;
                    d.changes = analysis::answer_changes(*m_store, *pe, *fe);
                    m_out.differences.push_back(std::move(d));
                }
            return Status::ok();
        };
        RETRACE_TRY(compare(
            false, m_failing_cassette->exchange_digests(),
            [&](const std::string& d, std::size_t k) {
                return m_failing_cassette->exchange_at(d, k);
            },
            [&](const std::string& d, std::size_t k) {
                return m_passing_cassette->exchange_at(d, k);
            }));
        RETRACE_TRY(compare(
            true, m_failing_cassette->event_digests(),
            [&](const std::string& d, std::size_t k) { return m_failing_cassette->event_at(d, k); },
            [&](const std::string& d, std::size_t k) {
                return m_passing_cassette->event_at(d, k);
            }));
        std::sort(m_out.differences.begin(), m_out.differences.end(),
                  [](const auto& a, const auto& b) { return a.failing_seq < b.failing_seq; });
        // The command lines (unless a secret in one was stored redacted).
        const auto& fa = m_failed.process.argv;
        const auto& pa = m_passed.process.argv;
        auto redacted = [](const std::vector<std::string>& argv) {
            return std::any_of(argv.begin(), argv.end(), [](const std::string& a) {
                return a.find(core::k_redacted) != std::string::npos;
            });
        };
        // (with --command, neither is the program's)
        if (m_o.command.empty() && fa != pa && !redacted(fa) && !redacted(pa)) {
            Difference d;
            d.what = Difference::What::argv;
            d.kind = "argv";
            d.name = "command line";
            d.failing_argv = fa;
            d.passing_argv = pa;
            d.changes = core::json_diff(Json(pa), Json(fa));
            for (auto& c : d.changes) c.path = "$.argv" + c.path.substr(1);
            m_out.differences.push_back(std::move(d));
        }
        // The recorded environment variables.
        auto passing_vars = local(recorded_vars(m_passed.row));
        std::set<std::string> names;
        for (const auto& [name, _] : m_failed_vars) names.insert(name);
        for (const auto& [name, _] : passing_vars) names.insert(name);
        auto text = [](const std::optional<std::string>& v) {
            return v ? Json(*v).dump() : std::string("(absent)");
        };
        for (const auto& name : names) {
            auto f = m_failed_vars.find(name), p = passing_vars.find(name);
            // (a variable one run recorded as a secret, or did not record, is not compared)
            if (f == m_failed_vars.end() || p == passing_vars.end() || f->second == p->second)
                continue;
            Difference d;
            d.what = Difference::What::env;
            d.kind = "env";
            d.name = name;
            d.failing_value = f->second;
            d.passing_value = p->second;
            d.changes = {{"$.env." + name, text(p->second), text(f->second)}};
            m_out.differences.push_back(std::move(d));
        }
        collect_param_differences();
        return Status::ok();
    }

    // The params (record --param), which the program gets as
    // RETRACE_PARAM_<KEY>; repro's own markers are not compared.
    void collect_param_differences() {
        auto failing = params_of(m_failed.row), passing = params_of(m_passed.row);
        std::set<std::string> keys;
        for (const auto& [k, _] : failing) keys.insert(k);
        for (const auto& [k, _] : passing) keys.insert(k);
        auto text = [](const std::optional<std::string>& v) {
            return v ? Json(*v).dump() : std::string("(absent)");
        };
        for (const auto& key : keys) {
            auto f = failing.find(key), p = passing.find(key);
            std::optional<std::string> fv, pv;
            if (f != failing.end()) fv = f->second;
            if (p != passing.end()) pv = p->second;
            if (fv == pv) continue;
            Difference d;
            d.what = Difference::What::param;
            d.kind = "param";
            d.name = key;
            d.failing_value = fv;
            d.passing_value = pv;
            d.changes = {{"$.params." + key, text(pv), text(fv)}};
            m_out.differences.push_back(std::move(d));
        }
    }

    static std::map<std::string, std::string> params_of(const store::RunRow& row) {
        auto conditions = core::parse_json_strict(row.conditions);
        auto params =
            conditions ? recorded_params(*conditions) : std::map<std::string, std::string>{};
        std::erase_if(params, [](const auto& kv) { return kv.first.starts_with("retrace_repro"); });
        return params;
    }

    static const core::Event* event_of(const Loaded& run, long long seq) {
        auto it = run.by_seq.find(seq);
        return it == run.by_seq.end() ? nullptr : it->second;
    }

    // One test: the program replayed with the differences in `subset` taken
    // from the failed run and every other one from the passing run.
    Result<TestOutcome> test(const std::vector<std::size_t>& subset, const std::string& step) {
        std::set<Slot> from_failing;
        std::vector<std::string> command = m_command;
        std::map<std::string, std::optional<std::string>> vars = m_failed_vars;
        std::map<std::string, std::string> program_params = params_of(m_failed.row);
        std::vector<bool> applied(m_out.differences.size(), false);
        for (std::size_t i : subset) applied[i] = true;
        for (std::size_t i = 0; i < m_out.differences.size(); ++i) {
            const Difference& d = m_out.differences[i];
            switch (d.what) {
                case Difference::What::answer:
                    if (applied[i]) from_failing.insert(d.slot);
                    break;
                case Difference::What::argv:
                    command = applied[i] ? d.failing_argv : d.passing_argv;
                    break;
                case Difference::What::env:
                    vars[d.name] = applied[i] ? d.failing_value : d.passing_value;
                    break;
                case Difference::What::param: {
                    const auto& value = applied[i] ? d.failing_value : d.passing_value;
                    if (value)
                        program_params[d.name] = *value;
                    else
                        program_params.erase(d.name);
                    break;
                }
            }
        }
        EnvironmentBlock env(m_envp, vars);
        Blend blend(*m_failing_cassette, *m_passing_cassette, std::move(from_failing));
        CommandRun run;
        run.name = display_name(m_failed.row) + ".repro";
        run.command = local(command);
        run.replay_of = m_failed.row.id;
        run.pass_through = false;
        run.params = std::move(program_params);
        run.proxy.answers = &blend;
        RETRACE_ASSIGN(run.proxy.upstreams, upstream_urls(env.envp(), {}, {}));
        for (const auto& name : m_failing_cassette->routes())
            run.proxy.upstreams.try_emplace(name, "");
        for (const auto& name : m_passing_cassette->routes())
            run.proxy.upstreams.try_emplace(name, "");
        if (m_failed.process.determinism) {
            run.deterministic = true;
            RETRACE_ASSIGN(run.feed, load_streams(*m_store, *m_failed.process.determinism));
        }
        RETRACE_ASSIGN(RunStart start, capture_start({run.command, {}, params(step), {}, m_redact},
                                                     m_opener, env.envp()));
        std::optional<LaunchFailure> launch;
        RETRACE_ASSIGN(RecordOutcome done, run_command(std::move(run), std::move(start), m_opener,
                                                       env.envp(), &launch));
        if (launch) return error(ErrorCode::invalid_input, launch->message);
        m_out.runs.push_back(done.run_id);
        if (blend.misses() > 0) return TestOutcome::unresolved;
        RETRACE_ASSIGN(bool fails, m_judge->fails(done.run_id, done.stdout_text, done.exit_code));
        return fails ? TestOutcome::fail : TestOutcome::pass;
    }

    static const char* word(TestOutcome o) {
        return o == TestOutcome::fail ? "fails" : o == TestOutcome::pass ? "passes" : "unresolved";
    }

    // 2. and 3.: isolate the cause among the differences, then prove it.
    Status isolate() {
        ReplayPolicy policy;
        RETRACE_ASSIGN(m_failing_cassette, Cassette::load(*m_store, m_failed.row.id,
                                                          m_failed.events, m_secret, policy));
        RETRACE_ASSIGN(m_passing_cassette, Cassette::load(*m_store, m_passed.row.id,
                                                          m_passed.events, m_secret, policy));
        RETRACE_TRY(collect_differences());
        const std::size_t n = m_out.differences.size();
        progress("repro: " + std::to_string(n) + " difference(s) between the two runs");
        if (n == 0) {
            m_out.not_isolated =
                "the two runs got the same answers to the same requests, with the same command "
                "line and recorded environment: the difference is in what was not recorded (an "
                "input file, a variable not declared with --env, unrecorded clock or randomness)";
            return Status::ok();
        }
        std::vector<std::size_t> all(n);
        for (std::size_t i = 0; i < n; ++i) all[i] = i;
        if (m_o.cause) {  // known: only the proof
            for (const auto& label : *m_o.cause) {
                auto it = std::find_if(m_out.differences.begin(), m_out.differences.end(),
                                       [&](const Difference& d) { return d.label() == label; });
                if (it == m_out.differences.end())
                    return error(ErrorCode::corrupt,
                                 "the cause " + label + " is not a difference between run " +
                                     m_failed.row.id + " and run " + m_passed.row.id);
                m_out.cause.push_back(static_cast<std::size_t>(it - m_out.differences.begin()));
            }
            std::sort(m_out.cause.begin(), m_out.cause.end());
            return prove(all);
        }
        // The controls: every difference applied fails, none passes.
        RETRACE_ASSIGN(TestOutcome with_all, test(all, "control"));
        RETRACE_ASSIGN(TestOutcome with_none, test({}, "control"));
        progress(std::string("repro: control: with the failed run's answers the program ") +
                 word(with_all) + ", with the passing run's it " + word(with_none));
        if (with_all != TestOutcome::fail || with_none != TestOutcome::pass) {
            m_out.not_isolated = std::string(
                                     "the controls did not hold: with every difference "
                                     "applied the program ") +
                                 word(with_all) + ", with none it " + word(with_none);
            return Status::ok();
        }
        Status failed = Status::ok();
        std::size_t tests = 0;
        m_out.isolation = analysis::isolate_cause(n, [&](const std::vector<std::size_t>& s) {
            if (!failed.is_ok()) return TestOutcome::unresolved;
            auto o = test(s, "test");
            if (!o) {
                failed = o.status();
                return TestOutcome::unresolved;
            }
            progress("repro: test " + std::to_string(++tests) + ": " + std::to_string(s.size()) +
                     " of " + std::to_string(n) +
                     " difference(s) from the failed run: " + word(*o));
            return *o;
        });
        RETRACE_TRY(failed);
        m_out.cause = m_out.isolation->cause;
        return prove(all);
    }

    // 3. The proof, both ways.
    Status prove(const std::vector<std::size_t>& all) {
        std::vector<std::size_t> rest;
        std::set_difference(all.begin(), all.end(), m_out.cause.begin(), m_out.cause.end(),
                            std::back_inserter(rest));
        for (int i = 0; i < m_o.k; ++i) {
            RETRACE_ASSIGN(TestOutcome applied, test(m_out.cause, "proof"));
            if (applied == TestOutcome::fail) ++m_out.proof_applied_fails;
            m_out.proof_runs.push_back(m_out.runs.back());
            RETRACE_ASSIGN(TestOutcome reverted, test(rest, "proof"));
            if (reverted == TestOutcome::pass) ++m_out.proof_reverted_passes;
            m_out.proof_runs.push_back(m_out.runs.back());
            progress("repro: proof " + std::to_string(i + 1) + "/" + std::to_string(m_o.k) +
                     ": the cause applied " + word(applied) + ", reverted " + word(reverted));
        }
        if (!m_out.proven())
            m_out.not_isolated = "the proof did not hold " + std::to_string(m_o.k) + " of " +
                                 std::to_string(m_o.k) + " times";
        return Status::ok();
    }

    const ReproOptions& m_o;
    store::StoreOpener& m_opener;
    char** m_envp;
    store::Store* m_store = nullptr;
    std::string m_secret;
    std::vector<std::string> m_redact;
    std::optional<Judge> m_judge;
    std::vector<std::string> m_command;  // the program, as recorded or as --command gives it
    Loaded m_failed, m_passed;
    std::map<std::string, std::optional<std::string>> m_failed_vars;
    std::unique_ptr<EnvironmentBlock> m_failed_env;
    std::unique_ptr<Cassette> m_failing_cassette, m_passing_cassette;
    ReproOutcome m_out;
};

Json changes_json(const std::vector<core::JsonDifference>& changes) {
    Json out = Json::array();
    for (const auto& c : changes)
        out.push_back({{"path", c.path}, {"passing", c.before}, {"failing", c.after}});
    return out;
}

}  // namespace

std::string Difference::label() const {
    switch (what) {
        case What::answer:
            return "#" + std::to_string(failing_seq) + " " + kind + " " + name;
        case What::argv:
            return "argv";
        case What::env:
            return "env " + name;
        case What::param:
            return "param " + name;
    }
    return name;
}

Json Difference::to_json() const {
    Json j = {{"kind", kind}, {"name", name}, {"changes", changes_json(changes)}};
    if (what == What::answer) {
        j["failing_seq"] = failing_seq;
        j["passing_seq"] = passing_seq;
        j["occurrence"] = slot.occurrence;
    }
    return j;
}

int ReproOutcome::exit_code() const {
    if (!validated()) return 1;
    return proven() ? 0 : 3;
}

Json ReproOutcome::to_json() const {
    Json j = {{"failed", failed_id},
              {"oracle", oracle},
              {"k", k},
              {"validate", {{"replays", k}, {"failed_as_recorded", reproduced}}},
              {"runs", runs},
              {"exit_code", exit_code()}};
    if (!escaped.empty()) j["validate"]["escaped"] = escaped;
    j["passing"] = passed_id ? Json{{"run", *passed_id}, {"how", passed_how}} : Json();
    Json diffs = Json::array();
    for (const auto& d : differences) diffs.push_back(d.to_json());
    j["differences"] = diffs;
    Json cause_json = Json::array();
    for (std::size_t i : cause) cause_json.push_back(differences[i].to_json());
    if (isolation)
        j["isolate"] = {{"tests", isolation->tests},
                        {"unresolved", isolation->unresolved},
                        {"cause", cause_json}};
    if (!cause.empty()) {  // (isolated here, or known: a bundle's, proven again)
        j["proof"] = {{"cause", cause_json},
                      {"cause_applied_fails", proof_applied_fails},
                      {"cause_reverted_passes", proof_reverted_passes},
                      {"of", k},
                      {"proven", proven()}};
    }
    if (!not_isolated.empty()) j["not_isolated"] = not_isolated;
    return j;
}

Result<ReproOutcome> repro(const ReproOptions& options, store::StoreOpener& opener, char** envp) {
    if (options.k < 1) return error(ErrorCode::invalid_input, "--k wants a count of 1 or more");
    return Repro(options, opener, envp).run();
}

}  // namespace retrace::run
