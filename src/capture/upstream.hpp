// Connections from the proxy to the upstreams it forwards to: plain TCP or
// TLS with certificate and host name verification (the system's CA store,
// plus --ca-file).
#pragma once

#include <utility>  // before Boost 1.74's asio, which uses std::exchange without it

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <memory>
#include <optional>
#include <string>

#include "retrace/core/result.hpp"

namespace retrace::capture {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;

struct Upstream {
    std::string name;  // route name: openai, anthropic, or a --route name
    std::string scheme, host, port, base_path;

    std::string authority() const { return host + ":" + port; }
    // The Host header: the port is left out when it is the scheme's default.
    std::string host_header() const;
};

// Parses http[s]://host[:port][/base/path] (invalid_input naming the upstream).
Result<Upstream> parse_upstream(const std::string& name, const std::string& url);

// The client TLS context for HTTPS upstreams: verifies peers against the
// system store and, when given, the PEM certificates in ca_file.
Result<std::shared_ptr<ssl::context>> client_tls_context(const std::optional<std::string>& ca_file);

// A connection to an upstream, TLS or not; a synchronous Beast stream.
class UpstreamStream {
  public:
    explicit UpstreamStream(net::io_context& ioc) : m_socket(ioc) {}

    // Connects (and for https, handshakes and verifies the certificate). The
    // error message says which upstream and what failed, in one line.
    Status connect(const Upstream& upstream, ssl::context* tls);

    tcp::socket& socket() { return m_socket; }

    template <typename Buffers>
    std::size_t read_some(const Buffers& b, boost::system::error_code& ec) {
        return m_tls ? m_tls->read_some(b, ec) : m_socket.read_some(b, ec);
    }
    template <typename Buffers>
    std::size_t read_some(const Buffers& b) {
        return m_tls ? m_tls->read_some(b) : m_socket.read_some(b);
    }
    template <typename Buffers>
    std::size_t write_some(const Buffers& b, boost::system::error_code& ec) {
        return m_tls ? m_tls->write_some(b, ec) : m_socket.write_some(b, ec);
    }
    template <typename Buffers>
    std::size_t write_some(const Buffers& b) {
        return m_tls ? m_tls->write_some(b) : m_socket.write_some(b);
    }

  private:
    tcp::socket m_socket;
    std::optional<ssl::stream<tcp::socket&>> m_tls;
};

}  // namespace retrace::capture
