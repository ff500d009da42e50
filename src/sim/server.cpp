// The sim's HTTP/1.1 server: Boost.Beast on the proxy's coroutine server
// (a connection per coroutine, a thread per core), keep-alive, chunked SSE
// written frame by frame as the frames become ready.
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <utility>  // before Boost 1.74's asio, which uses std::exchange without it

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <iostream>
#include <set>
#include <sstream>

#include "protocol.hpp"
#include "retrace/net/async_server.hpp"
#include "retrace/net/chunked_body.hpp"
#include "retrace/net/expect_continue.hpp"

namespace retrace::sim {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

constexpr std::size_t k_body_limit = std::size_t{64} << 20;

HttpRequest to_request(const http::request<http::string_body>& req) {
    HttpRequest r;
    r.method = std::string(req.method_string());
    std::string target(req.target());
    r.path = target.substr(0, target.find('?'));
    for (const auto& field : req) {
        std::string name(field.name_string());
        for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        r.headers[name] = std::string(field.value());
    }
    r.body = req.body();
    return r;
}

Reply route(const HttpRequest& r, SimState& state) {
    if (r.path == "/v1/messages") return handle_anthropic(r, state);
    return handle_openai(r, state);
}

void abort_connection(tcp::socket& sock) {
    boost::system::error_code ec;
    sock.set_option(asio::socket_base::linger(true, 0), ec);  // RST, not FIN
    sock.close(ec);
}

asio::awaitable<void> pause_ms(long long ms) {
    if (ms <= 0) co_return;
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_after(std::chrono::milliseconds(ms));
    boost::system::error_code ignored;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
}

class Server final : public SimServer {
  public:
    Server(const SimOptions& o)
        : m_state(o.sim_seed, o.behaviour),
          m_server([this](tcp::socket& sock) { return serve(sock); }) {}

    Status load_tls(const std::string& cert, const std::string& key) {
        m_tls = std::make_unique<ssl::context>(ssl::context::tls_server);
        boost::system::error_code ec;
        m_tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                               ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                               ssl::context::no_tlsv1_1,
                           ec);
        m_tls->use_certificate_chain_file(cert, ec);
        if (ec)
            return error(ErrorCode::invalid_input,
                         "cannot load TLS certificate " + cert + ": " + ec.message());
        m_tls->use_private_key_file(key, ssl::context::pem, ec);
        if (ec)
            return error(ErrorCode::invalid_input,
                         "cannot load TLS key " + key + ": " + ec.message());
        return Status::ok();
    }

    Status listen(const SimOptions& o) { return m_server.listen(o.host, o.port); }

    int port() const override { return m_server.port(); }

    void stop() override {
        m_server.stop(std::chrono::milliseconds(0), true);
        m_server.wait();
        std::lock_guard lock(m_mutex);
        m_stopped = true;
        m_stopped_cv.notify_all();
    }

    void wait() override {
        std::unique_lock lock(m_mutex);
        m_stopped_cv.wait(lock, [&] { return m_stopped; });
    }

    ~Server() override { stop(); }

  private:
    asio::awaitable<void> serve(tcp::socket& sock) {
        boost::system::error_code ec;
        if (m_tls) {
            ssl::stream<tcp::socket&> tls(sock, *m_tls);
            co_await tls.async_handshake(ssl::stream_base::server,
                                         asio::redirect_error(asio::use_awaitable, ec));
            if (!ec) co_await serve_stream(tls, sock);
        } else {
            co_await serve_stream(sock, sock);
        }
    }

    // Stream is the plain socket or a TLS stream over it; raw is the socket.
    template <typename Stream>
    asio::awaitable<void> serve_stream(Stream& stream, tcp::socket& raw) {
        beast::flat_buffer buffer;
        buffer.reserve(std::size_t{16} << 10);  // else every read is 512 bytes
        boost::system::error_code ec;
        for (;;) {
            http::request_parser<http::string_body> parser;
            parser.body_limit(k_body_limit);
            auto with_ec = asio::redirect_error(asio::use_awaitable, ec);
            co_await http::async_read_header(stream, buffer, parser, with_ec);
            if (!ec) co_await net::continue_if_expected(stream, parser, ec);
            if (!ec) co_await http::async_read(stream, buffer, parser, with_ec);
            // (arguments of awaited calls are named: GCC 12 miscompiles
            // temporaries in co_await; tests/lint/co_await_arguments.py)
            if (ec == http::error::body_limit) {
                Reply too_large = json_error(413, "request too large");
                co_await respond(stream, raw, too_large, 11, false);
                break;
            }
            if (ec) break;
            auto& req = parser.get();
            Reply reply = route(to_request(req), m_state);
            unsigned version = req.version();
            bool keep_alive = req.keep_alive();
            if (!co_await respond(stream, raw, reply, version, keep_alive)) break;
            if (!keep_alive) break;
        }
    }

    static Reply json_error(int status, const std::string& message) {
        Reply r;
        r.status = status;
        r.body = Json{{"error", {{"message", message}, {"type", "invalid_request_error"}}}}.dump();
        r.headers.emplace_back("content-type", "application/json");
        return r;
    }

    // Writes and empties `pending`, unless an earlier write failed.
    template <typename Stream>
    static asio::awaitable<void> send(Stream& sock, std::string& pending,
                                      boost::system::error_code& ec) {
        if (!pending.empty() && !ec)
            co_await asio::async_write(sock, asio::buffer(pending),
                                       asio::redirect_error(asio::use_awaitable, ec));
        pending.clear();
    }

    // Returns false when the connection must not be reused.
    template <typename Stream>
    asio::awaitable<bool> respond(Stream& sock, tcp::socket& raw, const Reply& reply,
                                  unsigned version, bool keep_alive) {
        co_await pause_ms(reply.delay_ms);
        if (reply.fault == Fault::reset) {
            abort_connection(raw);
            co_return false;
        }
        boost::system::error_code ec;
        auto with_ec = asio::redirect_error(asio::use_awaitable, ec);
        if (!reply.stream) {
            http::response<http::string_body> res{static_cast<http::status>(reply.status), version};
            res.set(http::field::server, "retrace-sim");
            for (const auto& [k, v] : reply.headers) res.set(k, v);
            res.keep_alive(keep_alive);
            res.body() = reply.body;
            res.prepare_payload();
            if (reply.fault == Fault::midstream) {
                std::ostringstream text;
                text << res;
                std::string bytes = text.str();
                co_await asio::async_write(
                    sock, asio::buffer(bytes.data(), bytes.size() - reply.body.size() / 2),
                    with_ec);
                abort_connection(raw);
                co_return false;
            }
            co_await http::async_write(sock, res, with_ec);
            co_return !ec;
        }
        http::response<http::empty_body> res{static_cast<http::status>(reply.status), version};
        res.set(http::field::server, "retrace-sim");
        res.set(http::field::cache_control, "no-cache");
        for (const auto& [k, v] : reply.headers) res.set(k, v);
        res.keep_alive(keep_alive);
        // Frames ready together go out together (as a server writes what
        // its model produced in one step); a pause between frames, or a
        // cut to come, sends each on its own.
        std::string pending = net::chunked_head(res);
        const bool one_by_one = reply.frame_interval_ms > 0 || reply.fault == Fault::midstream;
        for (std::size_t i = 0; i < reply.frames.size() && !ec; ++i) {
            if (reply.fault == Fault::midstream && i == reply.frames.size() / 2) {
                abort_connection(raw);
                co_return false;
            }
            if (i) co_await pause_ms(reply.frame_interval_ms);
            net::append_chunk(pending, reply.frames[i]);
            if (one_by_one) co_await send(sock, pending, ec);
        }
        pending.append(net::k_last_chunk);
        co_await send(sock, pending, ec);
        co_return !ec;
    }

    SimState m_state;
    std::unique_ptr<ssl::context> m_tls;
    std::mutex m_mutex;
    std::condition_variable m_stopped_cv;
    bool m_stopped = false;
    net::AsyncServer m_server;  // last: its threads use the members above
};

}  // namespace

Result<std::unique_ptr<SimServer>> SimServer::start(const SimOptions& options) {
    auto server = std::make_unique<Server>(options);
    if (options.tls_cert && options.tls_key)
        RETRACE_TRY(server->load_tls(*options.tls_cert, *options.tls_key));
    RETRACE_TRY(server->listen(options));
    return std::unique_ptr<SimServer>(std::move(server));
}

}  // namespace retrace::sim
