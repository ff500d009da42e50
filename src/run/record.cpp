#include "retrace/run/record.hpp"

#include "retrace/run/run_setup.hpp"

namespace retrace::run {

namespace {

StartSpec start_spec(const RecordOptions& o) {
    return {o.command, o.inputs, o.params, o.env_names, o.redact, true};
}

}  // namespace

Result<core::Json> static_conditions(const RecordOptions& o, store::StoreOpener& opener,
                                     char** envp) {
    StartSpec spec = start_spec(o);
    spec.keep_worktree = false;
    RETRACE_ASSIGN(RunStart start, capture_start(spec, opener, envp));
    return start.conditions;
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
    RETRACE_ASSIGN(RunStart start, capture_start(start_spec(o), opener, envp));
    CommandRun run;
    run.name = o.name;
    run.command = o.command;
    run.outputs = o.outputs;
    run.pass_through = o.pass_through;
    run.deterministic = o.deterministic;
    run.params = param_map(o.params);
    run.proxy.ca_file = o.ca_file;
    run.proxy.max_request_body = o.max_body;
    RETRACE_TRY(set_timeouts(run.proxy, o.read_timeout, o.keepalive_timeout));
    RETRACE_ASSIGN(run.proxy.upstreams, upstream_urls(envp, o.upstreams, o.routes));
    return run_command(std::move(run), std::move(start), opener, envp, launch_failure);
}

}  // namespace retrace::run
