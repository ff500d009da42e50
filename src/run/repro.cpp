#include "retrace/run/repro.hpp"

#include <algorithm>
#include <map>
#include <set>

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

// Judges a replay the way the options say: the oracle, or the failed run's
// exit code.
class Judge {
  public:
    Judge(std::string oracle, int failed_exit, char** envp)
        : m_oracle(std::move(oracle)), m_failed_exit(failed_exit), m_envp(envp) {}

    Result<bool> fails(const std::string& run_id, const std::string& stdout_text, int exit) const {
        if (m_oracle.empty()) return exit == m_failed_exit;
        RETRACE_ASSIGN(bool passes, oracle_passes(m_oracle, run_id, stdout_text, exit, m_envp));
        return !passes;
    }
    std::string describe() const {
        return m_oracle.empty() ? "exit code " + std::to_string(m_failed_exit) : m_oracle;
    }

  private:
    std::string m_oracle;
    int m_failed_exit;
    char** m_envp;
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
        if (m_failed.process.argv.empty())
            return error(ErrorCode::invalid_input,
                         "run " + m_failed.row.id + " has no recorded command to replay");
        if (!m_failed.process.exit_code)
            return error(ErrorCode::invalid_input,
                         "run " + m_failed.row.id + " has no recorded exit code");
        int failed_exit = static_cast<int>(*m_failed.process.exit_code);
        if (m_o.oracle.empty() && failed_exit == 0)
            return error(ErrorCode::invalid_input,
                         "run " + m_failed.row.id +
                             " exited 0: give --oracle CMD to say what makes it a failure");
        m_judge.emplace(m_o.oracle, failed_exit, m_envp);
        m_out.oracle = m_judge->describe();
        RETRACE_ASSIGN(bool recorded_fails,
                       m_judge->fails(m_failed.row.id, m_failed.stdout_text, failed_exit));
        if (!recorded_fails)
            return error(ErrorCode::invalid_input, "the oracle passes run " + m_failed.row.id +
                                                       " as recorded: nothing to reproduce");
        RETRACE_ASSIGN(m_secret, m_store->secret());
        if (auto metadata = core::parse_json_strict(m_failed.row.metadata))
            if (auto patterns = recorded_redact_patterns(m_secret, *metadata)) m_redact = *patterns;

        RETRACE_TRY(validate());
        if (!m_out.validated()) return m_out;
        RETRACE_TRY(find_passing());
        if (!m_out.passed_id) return m_out;
        RETRACE_TRY(isolate());
        return m_out;
    }

  private:
    void progress(const std::string& line) const {
        if (m_o.progress) m_o.progress(line);
    }

    std::vector<std::string> params(const std::string& step) const {
        return {"retrace_repro=" + m_failed.row.id, "retrace_repro_step=" + step};
    }

    // 1. The failed run replayed K times, judged each time.
    Status validate() {
        std::set<std::string> escaped;
        for (int i = 1; i <= m_o.k; ++i) {
            ReplayOptions r;
            r.run = m_failed.row.id;
            r.name = display_name(m_failed.row) + ".repro";
            r.quiet = true;
            r.params = params("validate");
            r.redact = m_redact;
            std::optional<LaunchFailure> launch;
            RETRACE_ASSIGN(ReplayOutcome replayed, replay(r, m_opener, m_envp, &launch));
            if (launch) return error(ErrorCode::invalid_input, launch->message);
            m_out.runs.push_back(replayed.run.run_id);
            RETRACE_ASSIGN(bool fails, m_judge->fails(replayed.run.run_id, replayed.run.stdout_text,
                                                      replayed.run.exit_code));
            bool answered = replayed.divergences.empty() && replayed.run.shim_divergences.empty();
            if (fails && answered) {
                ++m_out.reproduced;
            } else if (!answered) {
                escaped.insert(replayed.differences.empty() ? "the replay diverged"
                                                            : replayed.differences.front());
            } else {
                std::string how;
                for (const auto& d : replayed.differences) how += (how.empty() ? "" : "; ") + d;
                escaped.insert("a replay passed: " + (how.empty() ? "the oracle passed it" : how));
            }
            progress("repro: validating: " + std::to_string(i) + "/" + std::to_string(m_o.k) +
                     " replays, " + std::to_string(m_out.reproduced) + " failed as recorded");
        }
        if (m_out.validated()) return Status::ok();
        m_out.escaped.assign(escaped.begin(), escaped.end());
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
            if (row.id == m_failed.row.id)
                return error(ErrorCode::invalid_input, "--against names the failed run itself");
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
            if (loaded.process.argv.empty() || !loaded.process.exit_code) continue;
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
                    AnswerDifference d;
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
        return Status::ok();
    }

    static const core::Event* event_of(const Loaded& run, long long seq) {
        auto it = run.by_seq.find(seq);
        return it == run.by_seq.end() ? nullptr : it->second;
    }

    // One test: the program replayed with the differences in `subset` taken
    // from the failed run and every other answer from the passing run.
    Result<TestOutcome> test(const std::vector<std::size_t>& subset, const std::string& step) {
        std::set<Slot> from_failing;
        for (std::size_t i : subset) from_failing.insert(m_out.differences[i].slot);
        Blend blend(*m_failing_cassette, *m_passing_cassette, std::move(from_failing));
        CommandRun run;
        run.name = display_name(m_failed.row) + ".repro";
        run.command = m_failed.process.argv;
        run.replay_of = m_failed.row.id;
        run.pass_through = false;
        run.proxy.answers = &blend;
        RETRACE_ASSIGN(run.proxy.upstreams, upstream_urls(m_envp, {}, {}));
        for (const auto& name : m_failing_cassette->routes())
            run.proxy.upstreams.try_emplace(name, "");
        for (const auto& name : m_passing_cassette->routes())
            run.proxy.upstreams.try_emplace(name, "");
        if (m_failed.process.determinism) {
            run.deterministic = true;
            RETRACE_ASSIGN(run.feed, load_streams(*m_store, *m_failed.process.determinism));
        }
        RETRACE_ASSIGN(RunStart start, capture_start({run.command, {}, params(step), {}, m_redact},
                                                     m_opener, m_envp));
        std::optional<LaunchFailure> launch;
        RETRACE_ASSIGN(RecordOutcome done,
                       run_command(std::move(run), std::move(start), m_opener, m_envp, &launch));
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
        progress("repro: " + std::to_string(n) + " answer(s) differ between the two runs");
        if (n == 0) {
            m_out.not_isolated =
                "the two runs got the same answers to the same requests: the difference is "
                "not in what was recorded (the command, its inputs or its environment)";
            return Status::ok();
        }
        std::vector<std::size_t> all(n);
        for (std::size_t i = 0; i < n; ++i) all[i] = i;
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
        // 3. The proof, both ways.
        std::vector<std::size_t> rest;
        std::set_difference(all.begin(), all.end(), m_out.cause.begin(), m_out.cause.end(),
                            std::back_inserter(rest));
        for (int i = 0; i < m_o.k; ++i) {
            RETRACE_ASSIGN(TestOutcome applied, test(m_out.cause, "proof"));
            if (applied == TestOutcome::fail) ++m_out.proof_applied_fails;
            RETRACE_ASSIGN(TestOutcome reverted, test(rest, "proof"));
            if (reverted == TestOutcome::pass) ++m_out.proof_reverted_passes;
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
    Loaded m_failed, m_passed;
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

std::string AnswerDifference::label() const {
    return "#" + std::to_string(failing_seq) + " " + kind + " " + name;
}

Json AnswerDifference::to_json() const {
    return {{"failing_seq", failing_seq},
            {"passing_seq", passing_seq},
            {"kind", kind},
            {"name", name},
            {"occurrence", slot.occurrence},
            {"changes", changes_json(changes)}};
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
    if (isolation) {
        Json cause_json = Json::array();
        for (std::size_t i : cause) cause_json.push_back(differences[i].to_json());
        j["isolate"] = {{"tests", isolation->tests},
                        {"unresolved", isolation->unresolved},
                        {"cause", cause_json}};
        j["proof"] = {{"cause_applied_fails", proof_applied_fails},
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
