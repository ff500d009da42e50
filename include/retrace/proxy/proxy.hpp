// The proxy that `record` and `replay` run for the life of a run: an HTTP
// reverse proxy on an ephemeral loopback port. A request to /NAME/REST is
// answered either by forwarding it to the upstream NAME's base URL + /REST
// (record; the response is relayed as it arrives, stream frames written
// through immediately, never buffered) or from a cassette (replay). Either
// way the exchange is recorded as an event of the run being written.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "retrace/core/redact.hpp"
#include "retrace/replay/answer_source.hpp"
#include "retrace/replay/cassette.hpp"
#include "retrace/store/run_writer.hpp"

namespace retrace::conditions {
class TrafficFacts;
}

namespace retrace::proxy {

class SpanTable;
class IssueLedger;

// The run an exchange is recorded into, held for the length of the exchange.
struct RunTarget {
    store::RunWriter* writer = nullptr;
    conditions::TrafficFacts* facts =
        nullptr;                 // what the run's traffic says about models, when set
    SpanTable* spans = nullptr;  // the run's SDK spans (event_api.hpp), when set
    // The SDKs' counts of events issued (issue_ledger.hpp), when the run's
    // program was given one: a request waits for the events before it.
    IssueLedger* issues = nullptr;
};

// Which run each exchange belongs to: `record` has one; the gateway
// (`retrace proxy`) groups exchanges into runs by the x-retrace-run request
// header. acquire() and release() bracket every exchange, so a run is never
// sealed while one of its exchanges is in flight.
class RunRouter {
  public:
    virtual ~RunRouter() = default;
    // group: the x-retrace-run header's value, or empty. credential: a
    // keyed fingerprint of the credential the request carries (its
    // Authorization, x-api-key, ...; empty for none): the gateway binds a
    // run to the credential that opened it and refuses others (denied).
    virtual Result<RunTarget> acquire(const std::string& group, const std::string& credential) = 0;
    virtual void release(const RunTarget& target) = 0;
};

struct ProxyOptions {
    // name -> base URL, http[s]://host[:port][/path]; "" for a route a
    // replay serves from its recording only
    std::map<std::string, std::string> upstreams;
    std::size_t max_request_body = std::size_t{64} << 20;
    // A request's header must arrive within read_timeout of its first byte,
    // and its body may pause no longer between reads (else a 408 and the
    // connection closed); a connection idle between requests for
    // keepalive_timeout is closed.
    std::chrono::milliseconds read_timeout = std::chrono::seconds(60);
    std::chrono::milliseconds keepalive_timeout = std::chrono::seconds(300);
    std::optional<std::string> ca_file;  // extra CA certificates for https upstreams
    std::string secret;                  // the store's secret: keys match digests
    // What answers each request and SDK call (replay/answer_source.hpp):
    // null for recording (every request forwarded), the cassette for replay.
    replay::AnswerSource* answers = nullptr;
    // When set, every request must present it, as the first segments of
    // its path (/_t/TOKEN/openai/...: a base URL carries it unchanged
    // through any SDK) or in an x-retrace-token header; others get a 403
    // and are not recorded. record and replay give one to the program they
    // run (core/token.hpp).
    std::string access_token;
    // Clients that are not the recorder's own program (the gateway's): a
    // divergence is answered without recorded content (no recorded prompt
    // reaches a client that did not prove it may read the run); the full
    // report goes to the recorder's stderr and into the run.
    bool shield_divergences = false;
    std::string listen_host = "127.0.0.1";
    int listen_port = 0;  // 0: an ephemeral port
};

class RecordingProxy {
  public:
    // Validates the upstream URLs and --ca-file (invalid_input naming the bad
    // one) and starts serving on the listen address. The router outlives the proxy.
    static Result<std::unique_ptr<RecordingProxy>> start(const ProxyOptions& options,
                                                         RunRouter& router,
                                                         const core::Redactor& redactor);
    virtual ~RecordingProxy() = default;
    virtual int port() const = 0;
    // Stops accepting and closes idle connections; waits up to a grace of
    // 2 s for exchanges in flight, then cuts what is left (upstreams still
    // answering, clients still sending) and records what was exchanged.
    virtual void stop() = 0;
};

}  // namespace retrace::proxy
