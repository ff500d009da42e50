#include "retrace/net/upstream.hpp"

#include <charconv>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/ssl/host_name_verification.hpp>

namespace retrace::net {

std::string Upstream::host_header() const {
    bool default_port = (scheme == "http" && port == "80") || (scheme == "https" && port == "443");
    return default_port ? host : authority();
}

Result<Upstream> parse_upstream(const std::string& name, const std::string& url) {
    auto bad = [&](const std::string& why) {
        return error(ErrorCode::invalid_input, "upstream " + name + ": " + why);
    };
    Upstream u;
    u.name = name;
    auto sep = url.find("://");
    if (sep == std::string::npos) return bad("not a URL: '" + url + "'");
    u.scheme = url.substr(0, sep);
    if (u.scheme != "http" && u.scheme != "https")
        return bad("want http:// or https://, got '" + url + "'");
    std::string rest = url.substr(sep + 3);
    auto slash = rest.find('/');
    std::string authority = rest.substr(0, slash);
    u.base_path = slash == std::string::npos ? "" : rest.substr(slash);
    while (!u.base_path.empty() && u.base_path.back() == '/') u.base_path.pop_back();
    if (u.base_path.find_first_of("?#") != std::string::npos)
        return bad("a base URL has no query or fragment: '" + url + "'");
    if (!authority.empty() && authority.front() == '[') {  // [v6 address]:port
        auto close = authority.find(']');
        if (close == std::string::npos) return bad("unclosed [ in '" + url + "'");
        u.host = authority.substr(1, close - 1);
        if (close + 1 < authority.size() && authority[close + 1] == ':')
            u.port = authority.substr(close + 2);
    } else {
        auto colon = authority.rfind(':');
        u.host = authority.substr(0, colon);
        if (colon != std::string::npos) u.port = authority.substr(colon + 1);
    }
    if (u.port.empty()) u.port = u.scheme == "https" ? "443" : "80";
    if (u.host.empty()) return bad("no host in '" + url + "'");
    if (u.port.empty() || u.port.size() > 5 ||
        u.port.find_first_not_of("0123456789") != std::string::npos || std::stoi(u.port) < 1 ||
        std::stoi(u.port) > 65535)
        return bad("bad port in '" + url + "' (1 to 65535)");
    return u;
}

Result<std::shared_ptr<ssl::context>> client_tls_context(
    const std::optional<std::string>& ca_file) {
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
    boost::system::error_code ec;
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                         ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1,
                     ec);
    ctx->set_default_verify_paths(ec);  // the system store; a missing one is not an error here
    if (ca_file) {
        ctx->load_verify_file(*ca_file, ec);
        if (ec)
            return error(ErrorCode::invalid_input, "cannot use --ca-file " + *ca_file +
                                                       ": not a readable PEM certificate file");
    }
    ctx->set_verify_mode(ssl::verify_peer);
    return ctx;
}

asio::awaitable<Status> UpstreamStream::connect(const Upstream& u, ssl::context* tls) {
    auto fail = [&](const std::string& what) {
        return error(ErrorCode::io,
                     "upstream " + u.name + " (" + u.scheme + "://" + u.authority() + "): " + what);
    };
    boost::system::error_code ec;
    auto with_ec = asio::redirect_error(asio::use_awaitable, ec);
    // A numeric address is connected to at once: the resolver would hand
    // it to its own thread and back, a wake-up each way per connection.
    boost::system::error_code not_numeric;
    auto address = asio::ip::make_address(u.host, not_numeric);
    unsigned short port = 0;
    auto [end, perr] = std::from_chars(u.port.data(), u.port.data() + u.port.size(), port);
    if (!not_numeric && perr == std::errc() && end == u.port.data() + u.port.size()) {
        tcp::endpoint endpoint(address, port);  // (named: see tests/lint/co_await_arguments.py)
        co_await m_socket.async_connect(endpoint, with_ec);
    } else {
        tcp::resolver resolver(m_socket.get_executor());
        auto endpoints = co_await resolver.async_resolve(u.host, u.port, with_ec);
        if (ec) co_return fail("cannot resolve: " + ec.message());
        co_await asio::async_connect(m_socket, endpoints, with_ec);
    }
    if (ec) co_return fail("cannot connect: " + ec.message());
    m_socket.set_option(tcp::no_delay(true), ec);
    if (u.scheme != "https") co_return Status::ok();
    if (!tls) co_return fail("no TLS context");
    m_tls.emplace(m_socket, *tls);
    // SNI, and the certificate must name the host.
    if (!SSL_set_tlsext_host_name(m_tls->native_handle(), u.host.c_str()))
        co_return fail("cannot set the TLS server name");
    m_tls->set_verify_callback(ssl::host_name_verification(u.host), ec);
    co_await m_tls->async_handshake(ssl::stream_base::client, with_ec);
    if (ec) {
        long verify = SSL_get_verify_result(m_tls->native_handle());
        std::string why = verify != X509_V_OK ? std::string("certificate verify failed: ") +
                                                    X509_verify_cert_error_string(verify)
                                              : ec.message();
        std::string hint =
            verify != X509_V_OK ? " (is its CA in the system store, or given with --ca-file?)" : "";
        co_return fail("TLS handshake failed: " + why + hint);
    }
    co_return Status::ok();
}

}  // namespace retrace::net
