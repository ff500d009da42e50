// The proxy that `record` and `replay` run for the life of a run: an HTTP
// reverse proxy on an ephemeral loopback port. A request to /NAME/REST is
// answered either by forwarding it to the upstream NAME's base URL + /REST
// (record; the response is relayed as it arrives, stream frames written
// through immediately, never buffered) or from a cassette (replay). Either
// way the exchange is recorded as an event of the run being written.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "retrace/capture/cassette.hpp"
#include "retrace/core/redact.hpp"
#include "retrace/store/run_writer.hpp"

namespace retrace::capture {

class ModelFacts;

struct ProxyOptions {
    std::map<std::string, std::string> upstreams;  // name -> base URL, http[s]://host[:port][/path]
    std::size_t max_request_body = std::size_t{64} << 20;
    std::optional<std::string> ca_file;  // extra CA certificates for https upstreams
    std::string secret;                  // the store's secret: keys match digests
    Cassette* cassette = nullptr;        // replay: answers come from here
    ModelFacts* facts = nullptr;         // what the traffic says about models, when set
};

class RecordingProxy {
  public:
    // Validates the upstream URLs and --ca-file (invalid_input naming the bad
    // one) and starts serving on 127.0.0.1 with an ephemeral port.
    static Result<std::unique_ptr<RecordingProxy>> start(const ProxyOptions& options,
                                                         store::RunWriter& writer,
                                                         const core::Redactor& redactor);
    virtual ~RecordingProxy() = default;
    virtual int port() const = 0;
    // Stops accepting, waits for exchanges in flight to be recorded.
    virtual void stop() = 0;
};

// Request headers whose values are credentials: recorded as "[REDACTED]".
bool is_secret_header(const std::string& lower_name);

}  // namespace retrace::capture
