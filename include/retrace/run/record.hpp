// `retrace record`: capture the conditions, run the command, store the run.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "retrace/core/canonical_json.hpp"
#include "retrace/core/result.hpp"
#include "retrace/run/command_run.hpp"

namespace retrace::run {

struct RecordOptions {
    std::optional<std::string> name;
    std::vector<std::string> inputs;               // --input PATH
    std::vector<std::string> outputs;              // --output PATH
    std::vector<std::string> params;               // --param KEY=VALUE
    std::vector<std::string> env_names;            // --env NAME
    std::vector<std::string> upstreams;            // --upstream NAME=URL (openai, anthropic)
    std::vector<std::string> routes;               // --route NAME=URL (any other HTTP API)
    std::vector<std::string> redact;               // --redact REGEX (bodies, headers)
    std::optional<std::string> ca_file;            // --ca-file PEM: CAs for https upstreams
    std::size_t max_body = std::size_t{64} << 20;  // --max-body BYTES per request
    int read_timeout = 60;                         // --read-timeout SECONDS (proxy.hpp)
    int keepalive_timeout = 300;                   // --keepalive-timeout SECONDS
    bool deterministic = false;        // --deterministic: the shim records clocks, randomness
    bool pass_through = true;          // the child's output also goes to ours (not in a probe)
    std::vector<std::string> command;  // CMD ARGS...
};

// Errors before the child starts: invalid_input / not_found / corrupt for bad
// input (exit 2); ErrorCode::io etc. for retrace's own failures (exit 125).
// A command that cannot be found or run is reported through launch_failure.
// The store is opened (created if need be) only once the options and the
// command have been checked.
Result<RecordOutcome> record(const RecordOptions& options, store::StoreOpener& store, char** envp,
                             std::optional<LaunchFailure>* launch_failure);

// The conditions a run starts under (code, env, data, params), captured as
// `record` captures them before the command runs.
Result<core::Json> static_conditions(const RecordOptions& options, store::StoreOpener& store,
                                     char** envp);

}  // namespace retrace::run
