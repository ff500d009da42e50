// Running one command as a run: what `record` and `replay` share. Each
// builds a CommandRun (record: answers forwarded upstream and recorded;
// replay: answers from the cassette, streams fed back), and run_command
// starts the run's session, the proxy and the child, writes the process
// event and seals the run.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "retrace/conditions/worktree.hpp"
#include "retrace/core/canonical_json.hpp"
#include "retrace/core/redact.hpp"
#include "retrace/core/result.hpp"
#include "retrace/proxy/proxy.hpp"
#include "retrace/run/determinism.hpp"
#include "retrace/store/store.hpp"

namespace retrace::run {

// A command that cannot be found or run: exit 126 or 127, before the store
// is touched (or, losing a race, a run sealed as failed to start).
struct LaunchFailure {
    int exit_code;  // 126 or 127
    std::string message;
};

// Finds argv0 as execvp would; distinguishes "not found" from "not executable".
std::optional<LaunchFailure> check_command(const std::string& argv0);

// The conditions a run starts under, known before its command runs.
struct StartSpec {
    std::vector<std::string> command;
    std::vector<std::string> inputs;     // --input PATH
    std::vector<std::string> params;     // --param KEY=VALUE
    std::vector<std::string> env_names;  // --env NAME
    std::vector<std::string> redact;     // --redact REGEX
    // record: keep what rebuilds a dirty git work tree (conditions/worktree.hpp)
    bool keep_worktree = false;
};
struct RunStart {
    core::Redactor redactor;
    // The --redact patterns, kept sealed in the run's metadata
    // (redact_patterns_sealed()) for its replays.
    std::vector<std::string> redact;
    std::filesystem::path cwd;
    std::optional<std::filesystem::path> repo_root;
    core::Json inputs = core::Json::object();      // path -> {digest, kind, files, bytes}
    core::Json conditions = core::Json::object();  // code, env, data, params
    // keep_worktree in a git work tree: the run's "worktree" metadata, and
    // the changed files' content, stored as blobs of the run.
    std::optional<conditions::WorktreeCapture> worktree;
};
// Captures code, env, data and params as `record` does (the store's stat
// cache, when it has one, speeds up input digests; the store is not opened).
Result<RunStart> capture_start(const StartSpec& spec, store::StoreOpener& opener, char** envp);

struct CommandRun {
    std::optional<std::string> name;
    std::vector<std::string> command;
    std::vector<std::string> outputs;  // --output PATH, digested at the end
    bool pass_through = true;          // the child's output also goes to ours
    proxy::ProxyOptions proxy;         // answers set: a replay (placeholder keys, RETRACE_MODE)
    std::optional<std::string> replay_of;
    bool deterministic = false;  // under the shim: record streams, or feed back `feed`
    std::vector<ShimStream> feed;
    // The run's params, given to the program as RETRACE_PARAM_<KEY> (the
    // key upper-cased, other than letters and digits as _): record's own,
    // a replay's source's (recorded_params).
    std::map<std::string, std::string> params;
};

// The params a run recorded (its conditions' params section), as a replay
// gives them to the program; a secret-named one, stored redacted, is left out.
std::map<std::string, std::string> recorded_params(const core::Json& conditions);
// KEY=VALUE strings (as --param takes them) into a map; the first of a key wins.
std::map<std::string, std::string> param_map(const std::vector<std::string>& params);

struct RecordOutcome {
    std::string run_id;
    std::string conditions_digest;
    std::string record_digest;
    int exit_code = 0;        // what `record` exits with
    std::string stdout_text;  // the child's stdout, redacted as stored
    std::vector<std::string> missing_outputs;
    std::vector<std::string> shim_divergences;  // replay: processes whose values diverged
    // Set when events could not be stored (disk full): what was lost. The
    // run is left incomplete with every event stored before the failure,
    // and the outcome still carries the program's exit code.
    std::optional<std::string> not_stored;
};

// Opens the store (creating it), runs the command and seals its run. A
// command that fails to start after all is reported through launch_failure.
Result<RecordOutcome> run_command(CommandRun run, RunStart start, store::StoreOpener& opener,
                                  char** envp, std::optional<LaunchFailure>* launch_failure);

}  // namespace retrace::run
