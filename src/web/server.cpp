#include "retrace/web/server.hpp"

#include <utility>  // before Boost 1.74's asio, which uses std::exchange without it

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fstream>
#include <thread>
#include <type_traits>

#include "retrace/core/token.hpp"
#include "retrace/net/async_server.hpp"
#include "retrace/net/client_watch.hpp"
#include "retrace/net/deadline.hpp"
#include "retrace/net/listen_address.hpp"
#include "retrace/store/run_ref.hpp"
#include "retrace/web/api.hpp"
#include "retrace/web/assets.hpp"
#include "retrace/web/live.hpp"

namespace retrace::web {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;

namespace {

constexpr std::size_t k_max_request = 64 * 1024;  // (GET only: no bodies)
// How long a connection may wait for its next request, or take to send
// one, before it is let go.
constexpr auto k_request_wait = std::chrono::seconds(60);
// A comment line now and then keeps proxies and browsers from closing a
// quiet event stream.
constexpr auto k_keepalive = std::chrono::seconds(15);

// The page's scripts and styles come from here only; data is never markup.
constexpr const char* k_csp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

std::string str(beast::string_view v) {
    return std::string(v.data(), v.size());
}

// The token the request presents in its URL (?token=) or a header.
std::string presented_token(const http::request<http::empty_body>& req, const QueryParams& q) {
    if (auto it = q.find("token"); it != q.end()) return it->second;
    if (auto v = req["x-retrace-token"]; !v.empty()) return str(v);
    if (auto v = str(req[http::field::authorization]); v.rfind("Bearer ", 0) == 0)
        return v.substr(7);
    return "";
}

// Every value of the cookies called name (another site may have set one
// of the same name: each is tried).
std::vector<std::string> cookie_values(const http::request<http::empty_body>& req,
                                       std::string_view name) {
    std::vector<std::string> out;
    std::string cookies = str(req[http::field::cookie]);
    for (std::size_t at = 0; at < cookies.size();) {
        auto end = cookies.find(';', at);
        std::string_view c(cookies.data() + at,
                           (end == std::string::npos ? cookies.size() : end) - at);
        while (!c.empty() && c.front() == ' ') c.remove_prefix(1);
        if (c.size() > name.size() && c.substr(0, name.size()) == name && c[name.size()] == '=')
            out.emplace_back(c.substr(name.size() + 1));
        at = end == std::string::npos ? cookies.size() : end + 1;
    }
    return out;
}

// A path the page routes itself (it is answered with index.html).
bool is_page_path(std::string_view path) {
    return path == "/" || path.rfind("/runs/", 0) == 0 || path.rfind("/diff", 0) == 0 ||
           path.rfind("/probes", 0) == 0;
}

class Server final : public WebServer {
  public:
    Server(const ServeOptions& options, store::Store& store)
        : m_options(options),
          m_store(store),
          m_api(store),
          m_server([this](tcp::socket& s) { return serve(s); }, 1) {
        if (m_options.token.empty()) m_options.token = core::random_token();
        m_store_thread = std::thread([this] { m_store_context.run(); });
    }
    ~Server() override { stop(); }

    Status listen() { return m_server.listen(m_options.host, m_options.port); }
    int port() const override { return m_server.port(); }
    const std::string& token() const override { return m_options.token; }
    std::string url() const override {
        std::string host = m_options.host.find(':') != std::string::npos
                               ? "[" + m_options.host + "]"
                               : m_options.host;
        return "http://" + host + ":" + std::to_string(port()) + "/?token=" + m_options.token;
    }
    void stop() override {
        if (m_stopped.exchange(true)) return;
        m_server.stop(std::chrono::milliseconds(0), true);
        m_server.wait();
        m_store_work.reset();
        if (m_store_thread.joinable()) m_store_thread.join();
    }

  private:
    using Response = http::response<http::string_body>;

    // Runs fn on the store's thread and resumes with its result here: the
    // store (one connection) is used by one question at a time, while the
    // I/O thread goes on serving the page's files and writing answers.
    template <typename Fn>
    awaitable<std::invoke_result_t<Fn>> on_store_thread(Fn fn) {
        using T = std::invoke_result_t<Fn>;
        // (co_spawn's result must be default-constructible; a Result is not)
        auto task = [fn = std::move(fn)]() -> awaitable<std::optional<T>> { co_return fn(); };
        std::optional<T> result = co_await asio::co_spawn(m_store_context, task, use_awaitable);
        co_return std::move(*result);
    }

    // The page's cookie, one per server: a browser keeps cookies by host,
    // not port, and two servers on one machine must not take each other's.
    // It holds a key of its own, which opens the page and its files only:
    // a browser sends it to every server on this host, so it must not be
    // the token, which reads the store. The page keeps the token (from its
    // URL) in its origin's storage and presents it with each API request.
    std::string cookie_name() const { return "retrace_page_" + std::to_string(port()); }

    bool admitted(const http::request<http::empty_body>& req, const std::string& path,
                  const QueryParams& query) const {
        if (core::token_matches(presented_token(req, query), m_options.token)) return true;
        if (path.rfind("/api/", 0) == 0) return false;  // (data: the token only)
        for (const auto& key : cookie_values(req, cookie_name()))
            if (core::token_matches(key, m_page_key)) return true;
        return false;
    }

    awaitable<void> serve(tcp::socket& client) {
        beast::flat_buffer buffer;
        boost::system::error_code ec;
        net::Deadline deadline(client);
        for (;;) {
            http::request_parser<http::empty_body> parser;
            parser.header_limit(k_max_request);
            m_server.set_idle(client, true);
            deadline.arm(k_request_wait);  // (a browser keeps a connection for the next)
            co_await http::async_read(client, buffer, parser,
                                      asio::redirect_error(use_awaitable, ec));
            deadline.disarm();
            m_server.set_idle(client, false);
            if (ec) co_return;
            auto& req = parser.get();
            std::string target = str(req.target());
            auto question = target.find('?');
            auto raw_path = std::string_view(target).substr(0, question);
            auto path = percent_decode(raw_path, false);
            auto query = parse_query(question == std::string::npos
                                         ? std::string_view()
                                         : std::string_view(target).substr(question + 1));
            bool keep_alive = req.keep_alive();
            // (awaited calls take named arguments: GCC 12 miscompiles
            // temporaries in co_await; tests/lint/co_await_arguments.py)
            std::optional<Reply> refusal;
            if (!path || !query)
                refusal = error_reply(400, "bad percent-escape in the URL");
            else if (std::any_of(path->begin(), path->end(),
                                 [](unsigned char c) { return c < 0x20 || c == 0x7f; }))
                refusal = error_reply(400, "a control character in the URL's path");
            else if (req.method() != http::verb::get)
                refusal = error_reply(405, "retrace serve is read-only: GET only");
            if (refusal) {
                co_await send(client, *refusal, req, false);
                co_return;
            }
            if (!admitted(req, *path, *query)) {
                Reply denied = error_reply(403,
                                           "retrace serve needs the access token it printed when "
                                           "it started (open the URL with ?token=...)");
                // (and the connection closed: refused requests are not
                // pipelined on it)
                co_await send(client, denied, req, false);
                co_return;
            }
            if (*path == "/api/v1/live") {
                auto run = query->find("run");
                std::optional<std::string> run_id;
                if (run != query->end()) run_id = run->second;
                co_await live(client, req, run_id);
                co_return;
            }
            Reply reply;
            if (path->rfind("/api/", 0) == 0) {
                auto ask = [this, &path, &query] { return answer(*path, *query); };
                reply = co_await on_store_thread(ask);
            } else {
                reply = answer(*path, *query);
            }
            bool set_cookie =
                query->count("token") && reply.content_type.rfind("text/html", 0) == 0;
            if (!co_await send(client, reply, req, keep_alive, set_cookie) || !keep_alive)
                co_return;
        }
    }

    Reply answer(const std::string& path, const QueryParams& query) {
        if (path.rfind("/api/v1/", 0) == 0) return m_api.get(path.substr(7), query);
        if (path.rfind("/assets/", 0) == 0) {
            if (auto f = page_file(path.substr(8)))
                return {200, std::string(content_type_of(path)), std::move(*f)};
            return error_reply(404, "no such file: " + path);
        }
        if (is_page_path(path)) {
            if (auto f = page_file("index.html"))
                return {200, std::string(content_type_of("index.html")), std::move(*f)};
        }
        return error_reply(404, "no such page: " + path);
    }

    // A file of the page: embedded, or under $RETRACE_WEB_DIR when set (the
    // page's own tree, for working on it without building).
    std::optional<std::string> page_file(const std::string& name) const {
        if (m_options.web_dir.empty()) {
            const EmbeddedFile* f = find_asset(name);
            return f ? std::optional<std::string>(f->bytes) : std::nullopt;
        }
        if (name.empty() || name.find('/') != std::string::npos || name.front() == '.')
            return std::nullopt;
        std::ifstream in(m_options.web_dir + (name == "index.html" ? "/" : "/src/") + name,
                         std::ios::binary);
        if (!in) return std::nullopt;
        return std::string(std::istreambuf_iterator<char>(in), {});
    }

    // Writes an answer; false when the client is gone.
    awaitable<bool> send(tcp::socket& client, const Reply& reply,
                         const http::request<http::empty_body>& req, bool keep_alive,
                         bool set_cookie = false) {
        Response res{static_cast<http::status>(reply.status), req.version()};
        res.set(http::field::server, "retrace");
        res.set(http::field::content_type, reply.content_type);
        res.set(http::field::cache_control, "no-store");
        res.set("x-content-type-options", "nosniff");
        res.set("referrer-policy", "no-referrer");  // (the page's URL holds the token)
        res.set("content-security-policy", k_csp);
        if (set_cookie)
            res.set(http::field::set_cookie,
                    cookie_name() + "=" + m_page_key + "; Path=/; HttpOnly; SameSite=Strict");
        res.body() = reply.body;
        res.keep_alive(keep_alive);
        res.prepare_payload();
        boost::system::error_code ec;
        co_await http::async_write(client, res, asio::redirect_error(use_awaitable, ec));
        co_return !ec;
    }

    // Server-sent events until the client leaves, the watched run ends or
    // the server stops.
    awaitable<void> live(tcp::socket& client, const http::request<http::empty_body>& req,
                         std::optional<std::string> run_id) {
        if (run_id) {  // (any reference: the feed follows the run it names)
            auto resolve = [this, &run_id] { return store::resolve_run(m_store, *run_id); };
            auto run = co_await on_store_thread(resolve);
            if (!run) {
                Reply missing = error_reply(run.status().code() == ErrorCode::not_found ? 404 : 400,
                                            run.status().message());
                co_await send(client, missing, req, false);
                co_return;
            }
            run_id = run->id;
        }
        http::response<http::empty_body> res{http::status::ok, req.version()};
        res.set(http::field::content_type, "text/event-stream");
        res.set(http::field::cache_control, "no-store");
        res.set("x-content-type-options", "nosniff");
        res.keep_alive(false);
        http::response_serializer<http::empty_body> head(res);
        boost::system::error_code ec;
        co_await http::async_write_header(client, head, asio::redirect_error(use_awaitable, ec));
        if (ec) co_return;
        net::ClientWatch watch(client);
        asio::steady_timer timer(client.get_executor());
        watch.interrupt(&timer);
        LiveFeed feed(m_store, run_id);
        auto quiet_since = std::chrono::steady_clock::now();
        std::string pending = ": retrace live\n\n";
        for (;;) {
            auto poll = [&feed] { return feed.poll(); };
            auto news = co_await on_store_thread(poll);
            if (!news)
                pending += sse_event("error", error_reply(500, news.status().message()).body);
            else
                pending += *news;
            if (pending.empty() && std::chrono::steady_clock::now() - quiet_since > k_keepalive)
                pending = ": keep-alive\n\n";
            if (!pending.empty()) {
                co_await asio::async_write(client, asio::buffer(pending),
                                           asio::redirect_error(use_awaitable, ec));
                if (ec) co_return;
                pending.clear();
                quiet_since = std::chrono::steady_clock::now();
            }
            if (feed.ended() || !news || watch.gone()) co_return;
            timer.expires_after(std::chrono::milliseconds(m_options.live_poll_ms));
            co_await timer.async_wait(asio::redirect_error(use_awaitable, ec));
            if (watch.gone()) co_return;
        }
    }

    ServeOptions m_options;
    std::string m_page_key = core::random_token();  // (the page cookie's)
    store::Store& m_store;
    Api m_api;
    net::AsyncServer m_server;
    asio::io_context m_store_context{1};
    asio::executor_work_guard<asio::io_context::executor_type> m_store_work{
        m_store_context.get_executor()};
    std::thread m_store_thread;
    std::atomic<bool> m_stopped{false};
};

}  // namespace

Result<std::unique_ptr<WebServer>> WebServer::start(const ServeOptions& options,
                                                    store::Store& store) {
    boost::system::error_code ec;
    asio::ip::make_address(options.host, ec);
    if (ec)
        return error(ErrorCode::invalid_input,
                     "cannot listen on '" + options.host + "': not an IP address");
    if (!net::is_loopback(options.host) && !options.allow_remote)
        return error(ErrorCode::invalid_input,
                     "serving on " + options.host +
                         " would let other machines read the store (prompts, answers): "
                         "pass --allow-remote to mean it");
    auto server = std::make_unique<Server>(options, store);
    RETRACE_TRY(server->listen());
    return std::unique_ptr<WebServer>(std::move(server));
}

}  // namespace retrace::web
