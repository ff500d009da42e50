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

namespace retrace::net {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

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

// A connection to an upstream, TLS or not; an asynchronous Beast stream.
class UpstreamStream {
  public:
    using executor_type = tcp::socket::executor_type;

    explicit UpstreamStream(const executor_type& ex) : m_socket(ex) {}

    // Connects (and for https, handshakes and verifies the certificate). The
    // error message says which upstream and what failed, in one line.
    asio::awaitable<Status> connect(const Upstream& upstream, ssl::context* tls);

    tcp::socket& socket() { return m_socket; }
    executor_type get_executor() { return m_socket.get_executor(); }

    template <typename Buffers, typename Token>
    auto async_read_some(const Buffers& b, Token&& token) {
        if (m_tls) return m_tls->async_read_some(b, std::forward<Token>(token));
        return m_socket.async_read_some(b, std::forward<Token>(token));
    }
    template <typename Buffers, typename Token>
    auto async_write_some(const Buffers& b, Token&& token) {
        if (m_tls) return m_tls->async_write_some(b, std::forward<Token>(token));
        return m_socket.async_write_some(b, std::forward<Token>(token));
    }

  private:
    tcp::socket m_socket;
    std::optional<ssl::stream<tcp::socket&>> m_tls;
};

}  // namespace retrace::net
