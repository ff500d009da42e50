// `retrace proxy`: the recording proxy as a long-running gateway, for
// services that cannot be wrapped in `record`. Exchanges are grouped into
// runs by the client-chosen `x-retrace-run` request header, else into one
// run per hour (UTC) and credential. A run is bound to the first credential
// (Authorization, x-api-key, ...) it sees: another gets a 403, while a
// request carrying none (a call to the service's own tools on a --route, an
// SDK event) joins the run it names. A run is sealed when it has
// been idle for the idle timeout, and every open run is sealed on SIGINT or SIGTERM, after the
// exchanges in flight have been recorded. With a replay source, answers
// come from that recording instead of the upstreams.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "retrace/core/result.hpp"
#include "retrace/store/store.hpp"

namespace retrace::run {

struct GatewayOptions {
    std::string listen = "127.0.0.1:8080";  // HOST:PORT; port 0 picks a free one
    std::vector<std::string> upstreams, routes, redact;
    std::optional<std::string> ca_file;
    std::size_t max_body = std::size_t{64} << 20;
    int read_timeout = 60, keepalive_timeout = 300;  // seconds (proxy.hpp)
    int idle_seconds = 300;
    // The access token clients must present (x-retrace-token, or a base
    // URL under /_t/TOKEN): read from this file, else $RETRACE_GATEWAY_TOKEN.
    // Required to listen on an address other than loopback.
    std::optional<std::string> token_file;
    std::optional<std::string> replay;  // a run reference to answer from
    bool on_miss_live = false, reuse = false;
    std::vector<std::string> ignore;
    std::vector<std::string> argv;  // the gateway's own command line (its code condition)
};

struct GatewaySummary {
    int runs_sealed = 0;
    long long exchanges = 0;
};

// Serves until SIGINT or SIGTERM. on_listening gets the base URL once the
// port is open. Errors before serving: invalid_input / not_found for bad
// options, io for a port that cannot be bound.
Result<GatewaySummary> run_gateway(const GatewayOptions& options, store::StoreOpener& store,
                                   char** envp,
                                   const std::function<void(const std::string&)>& on_listening);

}  // namespace retrace::run
