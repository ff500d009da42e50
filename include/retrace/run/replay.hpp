// `retrace replay RUN [-- CMD]`: runs the recorded command (or CMD) with the
// proxy answering from the recording, records the replay as a run marked
// replay_of its source, and says whether the source was reproduced: same
// exit code, same stdout (after --mask), every request matched and every
// recorded exchange used (unless --allow-unused). See docs/replay.md.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "retrace/replay/cassette.hpp"
#include "retrace/run/command_run.hpp"

namespace retrace::run {

struct ReplayOptions {
    std::string run;                   // a run reference
    std::vector<std::string> command;  // empty: the recorded command
    std::optional<std::string> name;
    bool on_miss_live = false;       // --on-miss live
    std::optional<long long> until;  // --until N
    bool live_tools = false;         // --live-tools
    // --deterministic (true), --no-deterministic (false); unset: as the
    // recording was made (the shim on when it holds clock and randomness)
    std::optional<bool> deterministic;
    std::vector<std::string> overrides;                  // --override N=FILE
    std::vector<std::string> ignore;                     // --ignore JSONPATH
    bool reuse = false;                                  // --reuse
    replay::Pace pace = replay::Pace::automatic;         // --pace
    std::vector<std::string> masks;                      // --mask REGEX
    bool allow_unused = false;                           // --allow-unused
    std::vector<std::string> upstreams, routes, redact;  // as for record (live requests)
    std::optional<std::string> ca_file;
    bool quiet = false;               // the program's output is not passed through to ours
    std::vector<std::string> params;  // KEY=VALUE in the replay's conditions (as --param)
    // A run imported from elsewhere (a pack) carries a command nobody here
    // recorded: before running it, replay asks this (given the run, where it
    // came from and the command); false, or no function: refused.
    std::function<bool(const std::string& run_id, const std::string& source,
                       const std::vector<std::string>& command)>
        confirm_imported;
};

struct ReplayOutcome {
    std::string source_id;
    RecordOutcome run;  // the replay's own run
    bool reproduced = false;
    std::vector<std::string> differences;  // first difference first; empty when reproduced
    std::vector<trace::Divergence> divergences;
    std::vector<std::string> unused;  // labels of recorded exchanges never requested
    std::size_t served = 0;           // recorded exchanges answered from the cassette
    bool deterministic = false;       // the recorded clock and randomness were fed back
    // The recording holds them but --no-deterministic left them out.
    bool determinism_declined = false;
};

// The replay's run is recorded into the same store.
Result<ReplayOutcome> replay(const ReplayOptions& options, store::StoreOpener& store, char** envp,
                             std::optional<LaunchFailure>* launch_failure);

}  // namespace retrace::run
