#include "retrace/capture/proxy.hpp"

#include <sys/socket.h>

#include <utility>  // before Boost 1.74's asio, which uses std::exchange without it

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <limits>
#include <set>
#include <thread>

namespace retrace::capture {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using core::Json;

// How long stop() waits for exchanges still in flight after the program ended.
constexpr auto k_stop_grace = std::chrono::seconds(2);

struct Upstream {
    std::string scheme, host, port, base_path;
};

Result<Upstream> parse_upstream(const std::string& name, const std::string& url) {
    Upstream u;
    auto sep = url.find("://");
    if (sep == std::string::npos)
        return error(ErrorCode::invalid_input, "upstream " + name + ": not a URL: '" + url + "'");
    u.scheme = url.substr(0, sep);
    if (u.scheme != "http" && u.scheme != "https")
        return error(ErrorCode::invalid_input,
                     "upstream " + name + ": want http:// or https://, got '" + url + "'");
    std::string rest = url.substr(sep + 3);
    auto slash = rest.find('/');
    std::string authority = rest.substr(0, slash);
    u.base_path = slash == std::string::npos ? "" : rest.substr(slash);
    while (!u.base_path.empty() && u.base_path.back() == '/') u.base_path.pop_back();
    auto colon = authority.rfind(':');
    u.host = authority.substr(0, colon);
    u.port = colon == std::string::npos ? (u.scheme == "https" ? "443" : "80")
                                        : authority.substr(colon + 1);
    if (u.host.empty())
        return error(ErrorCode::invalid_input, "upstream " + name + ": no host in '" + url + "'");
    return u;
}

bool is_hop_by_hop(const std::string& lower) {
    return lower == "connection" || lower == "keep-alive" || lower == "proxy-connection" ||
           lower == "te" || lower == "trailer" || lower == "transfer-encoding" ||
           lower == "upgrade" || lower == "host" || lower == "content-length";
}

std::string str(beast::string_view s) {
    return std::string(s.data(), s.size());
}

std::string lower(beast::string_view s) {
    std::string out = str(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

long long now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

class Proxy final : public RecordingProxy {
  public:
    Proxy(std::map<std::string, Upstream> upstreams, const ProxyOptions& o,
          store::RunWriter& writer, const core::Redactor& redactor)
        : m_upstreams(std::move(upstreams)),
          m_options(o),
          m_writer(writer),
          m_redactor(redactor),
          m_acceptor(m_ioc) {}
    ~Proxy() override { stop(); }

    Status listen() {
        boost::system::error_code ec;
        tcp::endpoint ep(net::ip::make_address("127.0.0.1"), 0);
        m_acceptor.open(ep.protocol(), ec);
        if (!ec) m_acceptor.bind(ep, ec);
        if (!ec) m_acceptor.listen(net::socket_base::max_listen_connections, ec);
        if (ec) return error(ErrorCode::io, "recording proxy cannot listen: " + ec.message());
        m_port = m_acceptor.local_endpoint().port();
        m_accept_thread = std::thread([this] { accept_loop(); });
        return Status::ok();
    }

    int port() const override { return m_port; }

    void stop() override {
        {
            std::lock_guard lock(m_mutex);
            if (m_stopping) return;
            m_stopping = true;
            boost::system::error_code ec;
            ::shutdown(m_acceptor.native_handle(), SHUT_RDWR);  // wakes the blocked accept()
            m_acceptor.close(ec);
            // Idle keep-alive connections are closed; exchanges in flight finish.
            for (auto* s : m_idle_sockets) s->shutdown(tcp::socket::shutdown_both, ec);
        }
        if (m_accept_thread.joinable()) m_accept_thread.join();
        std::unique_lock lock(m_mutex);
        if (m_done.wait_for(lock, k_stop_grace, [&] { return m_connections == 0; })) return;
        // The program is gone but an upstream is still answering (say, an
        // endless stream to an orphaned grandchild): cut it, so the run can
        // be sealed; those exchanges are recorded as truncated.
        m_cut = true;
        boost::system::error_code ec;
        for (auto* s : m_upstream_sockets) s->shutdown(tcp::socket::shutdown_both, ec);
        m_done.wait(lock, [&] { return m_connections == 0; });
    }

  private:
    // Registers an upstream socket for the length of an exchange, so that
    // stop() can cut it after its grace period.
    class UpstreamGuard {
      public:
        UpstreamGuard(Proxy& proxy, tcp::socket& socket) : m_proxy(proxy), m_socket(&socket) {
            std::lock_guard lock(m_proxy.m_mutex);
            m_proxy.m_upstream_sockets.insert(m_socket);
            boost::system::error_code ec;
            if (m_proxy.m_cut) m_socket->shutdown(tcp::socket::shutdown_both, ec);
        }
        ~UpstreamGuard() {
            std::lock_guard lock(m_proxy.m_mutex);
            m_proxy.m_upstream_sockets.erase(m_socket);
        }
        UpstreamGuard(const UpstreamGuard&) = delete;
        UpstreamGuard& operator=(const UpstreamGuard&) = delete;

      private:
        Proxy& m_proxy;
        tcp::socket* m_socket;
    };

    void accept_loop() {
        for (;;) {
            auto sock = std::make_unique<tcp::socket>(m_ioc);
            boost::system::error_code ec;
            m_acceptor.accept(*sock, ec);
            std::lock_guard lock(m_mutex);
            if (m_stopping) return;
            if (ec) continue;
            sock->set_option(tcp::no_delay(true), ec);
            ++m_connections;
            std::thread([this, s = sock.release()] {
                serve(*s);
                delete s;
                std::lock_guard done(m_mutex);
                --m_connections;
                m_done.notify_all();
            }).detach();
        }
    }

    void set_idle(tcp::socket* s, bool idle) {
        std::lock_guard lock(m_mutex);
        if (idle)
            m_idle_sockets.insert(s);
        else
            m_idle_sockets.erase(s);
        if (idle && m_stopping) {
            boost::system::error_code ec;
            s->shutdown(tcp::socket::shutdown_both, ec);
        }
    }

    void serve(tcp::socket& client) {
        beast::flat_buffer buffer;
        boost::system::error_code ec;
        for (;;) {
            http::request_parser<http::string_body> parser;
            parser.body_limit(m_options.max_request_body);
            set_idle(&client, true);
            http::read_header(client, buffer, parser, ec);
            set_idle(&client, false);
            if (!ec) http::read(client, buffer, parser, ec);
            if (ec == http::error::body_limit) {
                reply_error(client, 413, "request body larger than the proxy's limit");
                break;
            }
            if (ec) break;
            auto& req = parser.get();
            bool keep = req.keep_alive();
            if (!exchange(client, req)) break;
            if (!keep) break;
        }
        client.shutdown(tcp::socket::shutdown_both, ec);
        client.close(ec);
    }

    void reply_error(tcp::socket& client, int status, const std::string& message) {
        http::response<http::string_body> res{static_cast<http::status>(status), 11};
        res.set(http::field::content_type, "application/json");
        res.body() =
            Json{{"error", {{"message", "retrace: " + message}, {"type", "retrace_proxy_error"}}}}
                .dump();
        res.keep_alive(false);
        res.prepare_payload();
        boost::system::error_code ec;
        http::write(client, res, ec);
    }

    // Forwards one request, relays the response, records the exchange.
    // Returns false when the client connection cannot be reused.
    bool exchange(tcp::socket& client, http::request<http::string_body>& req) {
        long long seq = m_writer.next_seq();  // order of issue
        long long start = now_ns();
        std::string target(req.target());
        std::string path = target.substr(0, target.find('?'));
        std::string query = target.size() > path.size() ? target.substr(path.size()) : "";
        auto slash = path.find('/', 1);
        std::string route =
            path.substr(1, slash == std::string::npos ? std::string::npos : slash - 1);
        std::string rest = slash == std::string::npos ? "" : path.substr(slash);
        auto it = m_upstreams.find(route);

        Json attrs = {
            {"route", route}, {"method", std::string(req.method_string())}, {"path", rest}};
        Json req_headers = Json::object();
        for (const auto& f : req) {
            std::string name = lower(f.name_string());
            req_headers[name] = is_secret_header(name) ? std::string(core::k_redacted)
                                                       : m_redactor.redact(str(f.value()));
        }
        attrs["request_headers"] = req_headers;
        std::string response_body;
        bool truncated = false;
        bool client_ok = true;
        int status = 0;
        Json chunks = Json::array();
        Json resp_headers = Json::object();

        if (it == m_upstreams.end()) {
            status = 404;
            reply_error(client, 404,
                        "no upstream named '" + route +
                            "' (routes: /openai, /anthropic, --route NAME=URL)");
            client_ok = false;
        } else if (it->second.scheme == "https") {
            status = 502;
            reply_error(client, 502,
                        "HTTPS upstreams are not supported by this build yet: " + route);
            client_ok = false;
        } else {
            const Upstream& up = it->second;
            boost::system::error_code ec;
            tcp::resolver resolver(m_ioc);
            tcp::socket upstream(m_ioc);
            auto endpoints = resolver.resolve(up.host, up.port, ec);
            if (!ec) net::connect(upstream, endpoints, ec);
            if (ec) {
                status = 502;
                reply_error(client, 502,
                            "cannot reach upstream " + route + " at " + up.host + ":" + up.port +
                                ": " + ec.message());
                return record(seq, start, route, attrs, req.body(), "", status, true, chunks,
                              resp_headers),
                       false;
            }
            upstream.set_option(tcp::no_delay(true), ec);
            UpstreamGuard guard(*this, upstream);
            http::request<http::string_body> fwd{req.method(), up.base_path + rest + query, 11};
            for (const auto& f : req) {
                std::string name = lower(f.name_string());
                if (!is_hop_by_hop(name) && name != "accept-encoding")
                    fwd.set(f.name_string(), f.value());
            }
            fwd.set(http::field::host, up.host + (up.port == "80" ? "" : ":" + up.port));
            fwd.set(http::field::accept_encoding, "identity");  // store readable, canonical bodies
            fwd.keep_alive(false);
            fwd.body() = req.body();
            fwd.prepare_payload();
            http::write(upstream, fwd, ec);
            beast::flat_buffer ubuf;
            http::response_parser<http::buffer_body> parser;
            parser.body_limit(std::numeric_limits<std::uint64_t>::max());
            if (!ec) http::read_header(upstream, ubuf, parser, ec);
            if (ec) {
                status = 502;
                reply_error(client, 502, "upstream " + route + " failed: " + ec.message());
                return record(seq, start, route, attrs, req.body(), "", status, true, chunks,
                              resp_headers),
                       false;
            }
            auto& ures = parser.get();
            status = static_cast<int>(ures.result_int());
            http::response<http::empty_body> res{ures.result(), 11};
            for (const auto& f : ures) {
                std::string name = lower(f.name_string());
                resp_headers[name] = m_redactor.redact(str(f.value()));
                if (!is_hop_by_hop(name)) res.set(f.name_string(), f.value());
            }
            res.set("x-retrace-run-id", m_writer.run_id());
            res.keep_alive(req.keep_alive());
            res.chunked(true);
            http::response_serializer<http::empty_body> sr{res};
            boost::system::error_code cec;
            http::write_header(client, sr, cec);
            char buf[65536];
            while (!parser.is_done()) {
                parser.get().body().data = buf;
                parser.get().body().size = sizeof buf;
                http::read(upstream, ubuf, parser, ec);
                if (ec == http::error::need_buffer) ec = {};
                std::size_t n = sizeof buf - parser.get().body().size;
                if (n) {
                    chunks.push_back({(now_ns() - start) / 1000, n});
                    response_body.append(buf, n);
                    if (!cec) net::write(client, http::make_chunk(net::buffer(buf, n)), cec);
                }
                if (ec) {
                    truncated = true;  // the upstream broke off: the client sees it too
                    break;
                }
            }
            if (truncated) {
                client.set_option(net::socket_base::linger(true, 0), cec);
                client_ok = false;
            } else if (!cec) {
                net::write(client, http::make_chunk_last(), cec);
            }
            client_ok = client_ok && !cec;
        }
        record(seq, start, route, attrs, req.body(), response_body, status, truncated, chunks,
               resp_headers);
        return client_ok;
    }

    void record(long long seq, long long start, const std::string& route, Json attrs,
                const std::string& request, const std::string& response, int status, bool truncated,
                const Json& chunks, const Json& resp_headers) {
        attrs["status"] = status;
        attrs["truncated"] = truncated;
        attrs["response_headers"] = resp_headers;
        attrs["chunks"] = chunks;
        std::string req_body = m_redactor.redact(request);
        std::string resp_body = m_redactor.redact(response);
        core::Event e;
        e.seq = seq;
        e.kind = (route == "openai" || route == "anthropic") ? "llm" : "http";
        e.name = attrs["method"].get<std::string>() + " " + attrs["path"].get<std::string>();
        e.start_ns = start;
        e.end_ns = now_ns();
        e.attrs = std::move(attrs);
        e.request = core::Digest::of(req_body).to_string();
        e.response = core::Digest::of(resp_body).to_string();
        std::vector<store::Blob> blobs = {{e.request, std::move(req_body)},
                                          {e.response, std::move(resp_body)}};
        (void)m_writer.complete(std::move(e), std::move(blobs));
    }

    std::map<std::string, Upstream> m_upstreams;
    ProxyOptions m_options;
    store::RunWriter& m_writer;
    core::Redactor m_redactor;
    net::io_context m_ioc;
    tcp::acceptor m_acceptor;
    int m_port = 0;
    std::thread m_accept_thread;
    std::mutex m_mutex;
    std::condition_variable m_done;
    std::set<tcp::socket*> m_idle_sockets;
    std::set<tcp::socket*> m_upstream_sockets;  // in use by an exchange
    bool m_cut = false;                         // stop() gave up waiting
    int m_connections = 0;
    bool m_stopping = false;
};

}  // namespace

bool is_secret_header(const std::string& n) {
    return n == "authorization" || n == "x-api-key" || n == "api-key" || n == "cookie" ||
           n == "set-cookie" || n == "proxy-authorization";
}

Result<std::unique_ptr<RecordingProxy>> RecordingProxy::start(const ProxyOptions& options,
                                                              store::RunWriter& writer,
                                                              const core::Redactor& redactor) {
    std::map<std::string, Upstream> upstreams;
    for (const auto& [name, url] : options.upstreams) {
        RETRACE_ASSIGN(auto u, parse_upstream(name, url));
        upstreams.emplace(name, u);
    }
    auto proxy = std::make_unique<Proxy>(std::move(upstreams), options, writer, redactor);
    RETRACE_TRY(proxy->listen());
    return std::unique_ptr<RecordingProxy>(std::move(proxy));
}

}  // namespace retrace::capture
