// `retrace record`: capture the conditions, run the command, store the run.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "retrace/core/canonical_json.hpp"
#include "retrace/core/result.hpp"
#include "retrace/run/determinism.hpp"

namespace retrace::replay {
class Cassette;
}

namespace retrace::run {

struct RecordOptions {
    std::optional<std::string> name;
    std::vector<std::string> inputs;     // --input PATH
    std::vector<std::string> outputs;    // --output PATH
    std::vector<std::string> params;     // --param KEY=VALUE
    std::vector<std::string> env_names;  // --env NAME
    std::vector<std::string> upstreams;  // --upstream NAME=URL (openai, anthropic)
    std::vector<std::string> routes;     // --route NAME=URL (any other HTTP API)
    // Routes a replay serves from its recording: their names, no URL
    // (a request that goes live on one is refused), unless routes has it.
    std::set<std::string> recorded_routes;
    std::vector<std::string> redact;               // --redact REGEX (bodies, headers)
    std::optional<std::string> ca_file;            // --ca-file PEM: CAs for https upstreams
    std::size_t max_body = std::size_t{64} << 20;  // --max-body BYTES per request
    bool deterministic = false;        // --deterministic: the shim records clocks, randomness
    bool pass_through = true;          // the child's output also goes to ours (not in a probe)
    std::vector<std::string> command;  // CMD ARGS...

    // Replay: answers come from the cassette, the run is marked replay_of
    // the source, and the child gets placeholder API keys when it has none.
    replay::Cassette* cassette = nullptr;
    std::optional<std::string> replay_of;
    std::vector<ShimStream> shim_streams;  // with deterministic: the values to feed back
};

struct RecordOutcome {
    std::string run_id;
    std::string conditions_digest;
    std::string record_digest;
    int exit_code = 0;        // what `record` exits with
    std::string stdout_text;  // the child's stdout, redacted as stored
    std::vector<std::string> missing_outputs;
    std::vector<std::string> shim_divergences;  // replay: processes whose values diverged
};

// Errors before the child starts: invalid_input / not_found / corrupt for bad
// input (exit 2); ErrorCode::io etc. for retrace's own failures (exit 125).
// A command that cannot be found or run is reported through launch_failure.
struct LaunchFailure {
    int exit_code;  // 126 or 127
    std::string message;
};

// The store is opened (created if need be) only once the options and the
// command have been checked.
Result<RecordOutcome> record(const RecordOptions& options, store::StoreOpener& store, char** envp,
                             std::optional<LaunchFailure>* launch_failure);

// The conditions a run starts under (code, env, data, params), captured as
// `record` captures them before the command runs.
// store_dir: where the store is (its stat cache speeds up input digests).
Result<core::Json> static_conditions(const RecordOptions& options,
                                     const std::filesystem::path& store_dir, char** envp);

}  // namespace retrace::run
