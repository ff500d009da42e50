// The recording proxy that `retrace record` runs for the life of a run: an
// HTTP reverse proxy on an ephemeral loopback port. A request to /NAME/REST
// is forwarded to the upstream NAME's base URL + /REST; the response is
// relayed to the client as it arrives (stream frames are written through
// immediately, never buffered) and the exchange is recorded as an event.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "retrace/core/redact.hpp"
#include "retrace/store/run_writer.hpp"

namespace retrace::capture {

struct ProxyOptions {
    std::map<std::string, std::string> upstreams;  // name -> base URL, http://host[:port][/path]
    std::size_t max_request_body = std::size_t{64} << 20;
};

class RecordingProxy {
  public:
    // Validates the upstream URLs (invalid_input naming the bad one) and
    // starts serving on 127.0.0.1 with an ephemeral port.
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
