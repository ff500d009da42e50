// What `record`, `replay` and the gateway (`retrace proxy`) share when they
// start a run: its row and metadata, and the upstreams its proxy forwards to.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "retrace/proxy/proxy.hpp"
#include "retrace/store/store.hpp"

namespace retrace::run {

std::optional<std::string> env_value(char** envp, std::string_view name);

// A new run's incomplete row (id, conditions and their digest, metadata).
struct NewRun {
    store::RunRow row;
    core::Json metadata;  // sealed again at the end, with ended_ns and duration
};
Result<NewRun> new_run(core::Json conditions, const std::optional<std::string>& name,
                       const std::optional<std::string>& replay_of, core::Json extra_metadata = {});
// The metadata a run is sealed with when it ends at ended_ns: its metadata
// from the start plus ended_ns and duration_ms. Every kind of run (record,
// replay, the gateway's, a probe's records) is sealed with this.
core::Json sealed_metadata(const NewRun& run, long long ended_ns);

// The upstreams: the program's own OPENAI_BASE_URL / ANTHROPIC_BASE_URL when
// envp sets them (it keeps talking to what it talked to before), else the
// providers' public APIs; then --upstream (openai, anthropic) and --route.
Result<std::map<std::string, std::string>> upstream_urls(char** envp,
                                                         const std::vector<std::string>& upstreams,
                                                         const std::vector<std::string>& routes);

// --read-timeout and --keepalive-timeout, in seconds, into the proxy's
// options; invalid_input unless both are positive.
Status set_timeouts(proxy::ProxyOptions& proxy, int read_seconds, int keepalive_seconds);

// A run recorded with --redact keeps its patterns in its metadata under
// this key, sealed under the store's secret (core/sealed_text.hpp): a
// pattern may spell the very secret it hides. Its replays redact as it did.
inline constexpr const char* k_redact_metadata = "redact_sealed";
std::string seal_redact_patterns(const std::string& secret,
                                 const std::vector<std::string>& patterns);
// The patterns a run's metadata holds (none when it was recorded without
// --redact); invalid_input when this store's secret does not open them
// (the run came from another store's pack).
Result<std::vector<std::string>> recorded_redact_patterns(const std::string& secret,
                                                          const core::Json& metadata);

}  // namespace retrace::run
