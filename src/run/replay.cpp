#include "retrace/run/replay.hpp"

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>

#include "retrace/core/redact.hpp"
#include "retrace/run/run_setup.hpp"
#include "retrace/store/run_ref.hpp"
#include "retrace/trace/process.hpp"

namespace retrace::run {

using replay::Cassette;
using replay::ReplayPolicy;
using trace::Divergence;

namespace {

namespace fs = std::filesystem;
using core::Json;

Result<std::map<long long, std::string>> read_overrides(const std::vector<std::string>& specs) {
    std::map<long long, std::string> out;
    for (const auto& spec : specs) {
        auto eq = spec.find('=');
        long long n = 0;
        try {
            std::size_t used = 0;
            n = eq == std::string::npos ? 0 : std::stoll(spec.substr(0, eq), &used);
            if (used != eq) n = 0;
        } catch (const std::exception&) {
        }
        if (n <= 0 || eq + 1 >= spec.size())
            return error(ErrorCode::invalid_input, "--override wants N=FILE, got '" + spec + "'");
        std::ifstream in(spec.substr(eq + 1), std::ios::binary);
        if (!in)
            return error(ErrorCode::invalid_input, "--override " + std::to_string(n) +
                                                       ": cannot read " + spec.substr(eq + 1));
        std::ostringstream body;
        body << in.rdbuf();
        out[n] = body.str();
    }
    return out;
}

Result<std::vector<std::regex>> compile_masks(const std::vector<std::string>& masks) {
    std::vector<std::regex> out;
    for (const auto& m : masks) {
        try {
            out.emplace_back(m, std::regex::ECMAScript);
        } catch (const std::regex_error& e) {
            return error(ErrorCode::invalid_input,
                         "--mask '" + m + "' is not a regular expression: " + e.what());
        }
    }
    return out;
}

std::string masked(std::string text, const std::vector<std::regex>& masks) {
    for (const auto& re : masks) text = std::regex_replace(text, re, "<masked>");
    return text;
}

// The first line where two outputs differ, for the report.
std::string first_difference(const std::string& a, const std::string& b) {
    std::istringstream sa(a), sb(b);
    std::string la, lb;
    for (int line = 1;; ++line) {
        bool ha = static_cast<bool>(std::getline(sa, la));
        bool hb = static_cast<bool>(std::getline(sb, lb));
        if (!ha && !hb) return "stdout differs in its line endings";
        if (!ha || !hb || la != lb)
            return "stdout line " + std::to_string(line) + ": recorded " +
                   (ha ? Json(core::clip(la)).dump() : std::string("(end)")) + ", replayed " +
                   (hb ? Json(core::clip(lb)).dump() : std::string("(end)"));
    }
}

struct Source {
    store::RunRow run;
    trace::ProcessRecord process;
    std::string stdout_text;
};

// What replaying the run needs of it besides its answers; events are the
// run's (read once: a long recording takes a while to read).
Result<Source> load_source(store::Store& store, store::RunRow run,
                           const std::vector<store::EventRow>& events) {
    Source s;
    s.run = std::move(run);
    for (const auto& row : events) {
        if (row.event.kind != core::EventKind::process) continue;
        s.process = trace::ProcessRecord::from_attrs(row.event.attrs);
        if (!s.process.stdout_digest.empty()) {
            RETRACE_ASSIGN(auto blob, store.get_blob(s.process.stdout_digest));
            if (blob) s.stdout_text = std::move(*blob);
        }
        break;
    }
    return s;
}

}  // namespace

Result<ReplayOutcome> replay(const ReplayOptions& o, store::StoreOpener& opener, char** envp,
                             std::optional<LaunchFailure>* launch_failure) {
    // Everything the user gave is checked before anything runs.
    ReplayPolicy policy;
    policy.on_miss_live = o.on_miss_live;
    policy.reuse = o.reuse;
    policy.pace = o.pace;
    policy.until = o.until;
    policy.live_tools = o.live_tools;
    if (o.until && *o.until < 0)
        return error(ErrorCode::invalid_input, "--until wants an event number >= 0");
    for (const auto& path : o.ignore) {
        RETRACE_ASSIGN(auto p, core::JsonPath::parse(path));
        policy.ignore.push_back(std::move(p));
    }
    RETRACE_ASSIGN(policy.overrides, read_overrides(o.overrides));
    RETRACE_ASSIGN(auto masks, compile_masks(o.masks));
    // The redactor the replay stores its run under; the recorded stdout is
    // seen through it too, so that --redact matching the program's output
    // compares like with like.
    RETRACE_ASSIGN(core::Redactor redactor, core::Redactor::from_environment(envp, o.redact));

    RETRACE_ASSIGN(store::Store * store, opener.open(false));
    RETRACE_ASSIGN(auto source_run, store::resolve_run(*store, o.run));
    RETRACE_ASSIGN(auto events, store->events(source_run.id));
    RETRACE_ASSIGN(Source source, load_source(*store, std::move(source_run), events));
    RETRACE_ASSIGN(std::string secret, store->secret());
    // Redacted as the recording was (its sealed --redact patterns, with the
    // replay's own): what the replay stores, and its stdout as compared. A
    // run from another store's pack keeps them sealed; then --redact again.
    std::vector<std::string> redact = o.redact;
    if (auto metadata = core::parse_json_strict(source.run.metadata); metadata) {
        if (auto recorded = recorded_redact_patterns(secret, *metadata); recorded) {
            for (auto& p : *recorded)
                if (std::find(redact.begin(), redact.end(), p) == redact.end())
                    redact.push_back(std::move(p));
        }
    }
    if (redact.size() != o.redact.size()) {
        RETRACE_ASSIGN(redactor, core::Redactor::from_environment(envp, redact));
    }
    RETRACE_ASSIGN(auto cassette, Cassette::load(*store, source.run.id, events, std::move(secret),
                                                 std::move(policy)));
    events = {};  // (the cassette holds what it needs)

    std::vector<std::string> command = o.command.empty() ? source.process.argv : o.command;
    if (command.empty())  // (a gateway's run: the service's code is not its command)
        return error(ErrorCode::invalid_input,
                     "run " + source.run.id + " has no recorded command (give one after --)");
    if (o.command.empty())
        for (const auto& arg : command)
            if (arg.find(core::k_redacted) != std::string::npos)
                return error(ErrorCode::invalid_input,
                             "run " + source.run.id +
                                 " was recorded with a secret in its command line, stored "
                                 "redacted; give the command after --");
    if (o.command.empty()) {
        RETRACE_ASSIGN(auto imported, store->imported_from(source.run.id));
        if (imported &&
            !(o.confirm_imported && o.confirm_imported(source.run.id, *imported, command)))
            return error(ErrorCode::invalid_input,
                         "not replaying run " + source.run.id + ", imported from " + *imported +
                             ": its recorded command was not confirmed (--yes runs it; -- CMD "
                             "runs another)");
    }
    CommandRun run;
    // Replayed in the mode it was recorded in, unless told otherwise.
    bool recorded_deterministic = source.process.determinism.has_value();
    if (o.deterministic.value_or(false) && !recorded_deterministic)
        return error(ErrorCode::invalid_input,
                     "run " + source.run.id +
                         " was recorded without --deterministic: it holds no clock or "
                         "randomness values to feed back");
    const bool deterministic = o.deterministic.value_or(recorded_deterministic);
    run.deterministic = deterministic;
    // (the program gets the params it was recorded with; --param names the replay's own)
    if (auto conditions = core::parse_json_strict(source.run.conditions))
        run.params = recorded_params(*conditions);
    if (deterministic) {
        RETRACE_ASSIGN(run.feed, load_streams(*store, *source.process.determinism));
    }
    run.name = o.name;
    run.pass_through = !o.quiet;
    run.command = command;
    run.replay_of = source.run.id;
    run.proxy.ca_file = o.ca_file;
    run.proxy.answers = cassette.get();
    RETRACE_ASSIGN(run.proxy.upstreams, upstream_urls(envp, o.upstreams, o.routes));
    // The routes the recording used are served from it (a request that would
    // go live on one is refused), unless --route gave one a URL.
    for (const auto& name : cassette->routes()) run.proxy.upstreams.try_emplace(name, "");
    if (auto failure = check_command(command[0])) {
        *launch_failure = failure;
        ReplayOutcome none;
        none.source_id = source.run.id;
        return none;
    }
    RETRACE_ASSIGN(RunStart start,
                   capture_start({command, {}, o.params, {}, redact}, opener, envp));
    RETRACE_ASSIGN(RecordOutcome replayed,
                   run_command(std::move(run), std::move(start), opener, envp, launch_failure));

    ReplayOutcome out;
    out.source_id = source.run.id;
    out.run = replayed;
    if (replayed.run_id.empty()) return out;  // the command could not be started
    out.divergences = cassette->divergences();
    out.unused = cassette->unused();
    out.served = cassette->size() - out.unused.size();
    for (const auto& d : out.divergences)
        for (auto& line : d.report_lines()) out.differences.push_back(std::move(line));
    for (const auto& d : replayed.shim_divergences) out.differences.push_back(d);
    if (auto recorded = source.process.exit_code; recorded && *recorded != replayed.exit_code)
        out.differences.push_back("exit code: recorded " + std::to_string(*recorded) +
                                  ", replayed " + std::to_string(replayed.exit_code));
    else if (!recorded && replayed.exit_code != 0)
        // (a gateway's or an imported run has no exit code of its own: the
        // program's failure is the replay's)
        out.differences.push_back("the program exited " + std::to_string(replayed.exit_code) +
                                  " (the recording has no command's exit code to compare)");
    // (a gateway's run has no output of its own to compare)
    bool has_output = !source.process.stdout_digest.empty();
    std::string recorded = masked(redactor.redact(source.stdout_text), masks);
    std::string replayed_text = masked(replayed.stdout_text, masks);
    if (has_output && recorded != replayed_text) {
        out.differences.push_back(first_difference(recorded, replayed_text));
        if (recorded.find(core::k_redacted) != std::string::npos &&
            replayed_text.find(core::k_redacted) == std::string::npos)
            out.differences.push_back(
                "  (the recorded stdout was stored redacted: give the replay the --redact "
                "patterns the recording had)");
    }
    if (!o.allow_unused && !out.unused.empty())
        out.differences.push_back(std::to_string(out.unused.size()) +
                                  " recorded exchange(s) never requested, first " +
                                  out.unused.front());
    out.reproduced = out.differences.empty();
    out.deterministic = deterministic;
    out.determinism_declined = recorded_deterministic && !deterministic;
    if (!out.reproduced && out.determinism_declined)
        out.differences.push_back(
            "(replayed with --no-deterministic: the recording's clock and randomness were not "
            "fed back)");
    return out;
}

}  // namespace retrace::run
