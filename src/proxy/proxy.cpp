#include "retrace/proxy/proxy.hpp"

#include <sys/socket.h>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <iostream>
#include <limits>
#include <set>
#include <unordered_map>

#include "retrace/conditions/traffic_facts.hpp"
#include "retrace/core/api_path.hpp"
#include "retrace/core/clock.hpp"
#include "retrace/core/llm_response.hpp"
#include "retrace/core/run_id.hpp"
#include "retrace/core/token.hpp"
#include "retrace/net/async_server.hpp"
#include "retrace/net/client_watch.hpp"
#include "retrace/net/deadline.hpp"
#include "retrace/net/expect_continue.hpp"
#include "retrace/net/receive_time.hpp"
#include "retrace/net/streamed_reply.hpp"
#include "retrace/net/upstream.hpp"
#include "retrace/proxy/event_api.hpp"
#include "retrace/proxy/issue_ledger.hpp"
#include "retrace/proxy/request_order.hpp"
#include "retrace/trace/exchange.hpp"

namespace retrace::proxy {

using conditions::TrafficFacts;
using net::AsyncServer;
using net::client_tls_context;
using net::ClientWatch;
using net::continue_if_expected;
using net::Deadline;
using net::Framing;
using net::is_interim;
using net::parse_upstream;
using net::StreamedReply;
using net::Upstream;
using net::UpstreamStream;
using replay::RecordedExchange;

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using core::Json;
using Clock = std::chrono::steady_clock;
using asio::awaitable;
using asio::use_awaitable;

// The path segment before an access token (ProxyOptions::access_token).
constexpr std::string_view k_token_prefix = "/_t/";
// How long stop() waits for exchanges still in flight after the program ended.
constexpr auto k_stop_grace = std::chrono::milliseconds(2000);
constexpr std::size_t k_warned_kept = 1024;  // distinct warnings remembered
// How long a model request waits for SDK events its program issued before
// it, and how often it looks.
constexpr auto k_issue_wait = std::chrono::milliseconds(1000);
constexpr auto k_issue_poll = std::chrono::microseconds(200);
// How long a replayed request waits, at most, for the requests that
// reached the machine before it to be numbered (RequestOrder).
constexpr auto k_turn_wait = std::chrono::milliseconds(1000);
// How long a replay waits, past the time its recorded client left, for the
// replaying client to leave as well before it cuts the connection.
constexpr auto k_cancel_grace = std::chrono::milliseconds(2000);
// Idle connections kept per upstream.
constexpr std::size_t k_pool_size = 64;
// How much a socket read asks for: Beast reads what its buffer can hold
// without growing, 512 bytes for a fresh one, since parsing empties it.
constexpr std::size_t k_read_size = std::size_t{16} << 10;

bool is_hop_by_hop(const std::string& lower) {
    return lower == "connection" || lower == "keep-alive" || lower == "proxy-connection" ||
           lower == "te" || lower == "trailer" || lower == "transfer-encoding" ||
           lower == "upgrade" || lower == "host" || lower == "content-length";
}

// A response that has no body whatever its header says (RFC 9110 6.4.1):
// one to HEAD, 204, 304. It is relayed as its header alone, with the
// Content-Length it came with (the size a GET would have had).
bool has_no_body(http::verb method, int status) {
    return method == http::verb::head || status == 204 || status == 304;
}

std::string str(beast::string_view s) {
    return std::string(s.data(), s.size());
}

std::string lower(beast::string_view s) {
    std::string out = str(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// Shuts a socket down from any thread: the kernel wakes whatever waits on it.
void shut(tcp::socket& s) {
    if (s.is_open()) ::shutdown(s.native_handle(), SHUT_RDWR);
}

// The I/O context (one per server thread) an executor runs on.
const void* thread_of(const asio::any_io_executor& executor) {
    return &asio::query(executor, asio::execution::context);
}

// An error in the shape the route's SDK parses: Anthropic's, else OpenAI's.
// (The message may quote the route and path as the client sent them.)
std::string error_body(const std::string& route, const std::string& type,
                       const std::string& message) {
    if (route == "anthropic")
        return core::message_json(
            {{"type", "error"}, {"error", {{"type", type}, {"message", message}}}});
    return core::message_json(
        {{"error", {{"message", message}, {"type", type}, {"param", nullptr}, {"code", type}}}});
}

// A request as the proxy received it, split into its route and the rest.
struct Incoming {
    std::string run_id;    // the run the exchange is recorded into
    long long parent = 0;  // the SDK span the request belongs to, 0 for none
    std::string route, path, query;
    // The query as stored, secrets redacted: what the request is matched by,
    // so that a key in the URL (?key=...) does not tell two requests apart.
    std::string stored_query;
    std::vector<std::pair<std::string, std::string>> headers;  // lower-case names, raw values
    core::MatchRequest match(const http::request<http::string_body>& req) const {
        auto method = req.method_string();
        return {std::string_view(method.data(), method.size()),
                route,
                path,
                stored_query,
                headers,
                req.body()};
    }
};

// Where the next frame of an event stream ends in body, searching from
// `from`: just past the first blank line ("\n\n", "\r\n\r\n" or a mix),
// or npos. One pass: a read may hold many frames.
std::size_t frame_end(const std::string& body, std::size_t from) {
    for (std::size_t nl = body.find('\n', from); nl != std::string::npos;
         nl = body.find('\n', nl + 1)) {
        if (nl + 1 < body.size() && body[nl + 1] == '\n') return nl + 2;
        if (nl + 2 < body.size() && body[nl + 1] == '\r' && body[nl + 2] == '\n') return nl + 3;
    }
    return std::string::npos;
}

// Whether a body is JSON nested deeper than retrace reads JSON.
bool nests_too_deep(std::string_view body) {
    auto first = body.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos || (body[first] != '{' && body[first] != '[')) return false;
    return core::nests_deeper_than(body);
}

// An answer the proxy gives itself, in the error shape of the route's SDK,
// marked not to be retried (x-should-retry: false). Built as a named value
// before it is awaited: every argument of an awaited call is (GCC 12
// miscompiles temporaries in co_await; tests/lint/co_await_arguments.py).
struct ErrorReply {
    int status;
    const char* type;  // retrace_proxy_error, retrace_upstream_error, retrace_divergence
    std::string message;
    bool keep_alive;
};

// What the client was sent, to be recorded.
struct Outcome {
    int status = 0;
    Json headers = Json::object();
    std::string body;
    std::vector<std::pair<long long, std::size_t>> chunks;  // offset_us, bytes per piece written
    bool truncated = false;
    std::optional<long long> header_us;            // when the response header arrived
    std::optional<trace::ClientCancel> cancelled;  // the client left first
    bool client_ok = true;                         // the connection can serve another request
    const RecordedExchange* served = nullptr;      // replayed: the exchange body comes from
};

class Proxy final : public RecordingProxy {
  public:
    Proxy(std::map<std::string, Upstream> upstreams, std::shared_ptr<ssl::context> tls,
          const ProxyOptions& o, RunRouter& router, const core::Redactor& redactor)
        : m_upstreams(std::move(upstreams)),
          m_tls(std::move(tls)),
          m_options(o),
          m_router(router),
          m_redactor(redactor),
          m_recording(o.answers ? nullptr : replay::recording_answers(o.secret)),
          m_answers(o.answers ? *o.answers : *m_recording),
          m_events(o.secret, m_answers.replaying() ? &m_answers : nullptr, m_redactor,
                   o.shield_divergences),
          m_order(m_answers),
          m_server([this](tcp::socket& client) { return serve(client); }) {}
    ~Proxy() override { stop(); }

    Status listen() { return m_server.listen(m_options.listen_host, m_options.listen_port); }

    int port() const override { return m_server.port(); }

    void stop() override {
        if (!m_server.stop(k_stop_grace)) {
            // The program is gone but an upstream is still answering (say, an
            // endless stream to an orphaned grandchild): cut it, so the run can
            // be sealed; those exchanges are recorded as truncated.
            // A client still sending its request (or not reading its
            // answer) is let go too.
            {
                std::lock_guard lock(m_mutex);
                m_cut = true;
                for (auto* s : m_upstream_sockets) shut(*s);
            }
            m_server.stop(std::chrono::milliseconds(0), true);
            m_server.wait();
        }
        std::lock_guard lock(m_mutex);
        m_cut = true;
        m_pool.clear();  // before the server, whose I/O context the connections use
    }

  private:
    // Registers an upstream socket for the length of an exchange, so that
    // stop() can cut it after its grace period.
    class UpstreamGuard {
      public:
        UpstreamGuard(Proxy& proxy, tcp::socket& socket) : m_proxy(proxy), m_socket(&socket) {
            std::lock_guard lock(m_proxy.m_mutex);
            m_proxy.m_upstream_sockets.insert(m_socket);
            if (m_proxy.m_cut) shut(*m_socket);
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

    // Whether stop() has cut what was still in flight (then a client
    // connection that closed was closed by it).
    bool stopped() {
        std::lock_guard lock(m_mutex);
        return m_cut;
    }

    // One line on stderr per distinct problem, so a failing upstream is
    // visible without flooding the program's output.
    void warn(const std::string& message) {
        std::lock_guard lock(m_mutex);
        // (each said once; past a bound, said again rather than remembered)
        bool fresh = m_warned.size() < k_warned_kept ? m_warned.insert(message).second
                                                     : !m_warned.count(message);
        if (fresh) std::cerr << "retrace: " << message << "\n";
    }

    // Until every SDK event the program issued before this request has
    // been numbered: then the request is numbered after them, in the
    // program's causal order. A process that died with events unsent is
    // waited for once, for k_issue_wait.
    awaitable<void> wait_for_issued(IssueLedger& issues) {
        if (issues.caught_up()) co_return;
        auto executor = co_await asio::this_coro::executor;
        asio::steady_timer timer(executor);
        auto deadline = Clock::now() + k_issue_wait;
        while (!issues.caught_up()) {
            if (Clock::now() >= deadline) {
                issues.give_up();
                warn("SDK events the program issued did not arrive within " +
                     std::to_string(k_issue_wait.count()) +
                     " ms: a request was numbered without them");
                co_return;
            }
            timer.expires_after(k_issue_poll);
            boost::system::error_code ignored;
            co_await timer.async_wait(asio::redirect_error(use_awaitable, ignored));
        }
    }

    awaitable<void> serve(tcp::socket& client) {
        beast::flat_buffer buffer;
        buffer.reserve(k_read_size);
        boost::system::error_code ec;
        auto with_ec = asio::redirect_error(use_awaitable, ec);
        Deadline deadline(client);
        for (;;) {
            http::request_parser<http::string_body> parser;
            parser.body_limit(m_options.max_request_body);
            // (a pipelined request, already read, has no receive time of its own)
            RequestOrder::Pending pending;
            if (buffer.size() == 0) {
                m_server.set_idle(client, true);
                deadline.arm(m_options.keepalive_timeout);
                if (auto received = co_await net::receive_time(client))
                    pending = RequestOrder::Pending(m_order, *received);
                std::size_t n =
                    co_await client.async_read_some(buffer.prepare(k_read_size), with_ec);
                buffer.commit(n);
                m_server.set_idle(client, false);
                if (ec || deadline.passed()) break;
            }
            deadline.arm(m_options.read_timeout);
            co_await http::async_read_header(client, buffer, parser, with_ec);
            if (!ec) co_await continue_if_expected(client, parser, ec);
            while (!ec && !parser.is_done()) {
                deadline.arm(m_options.read_timeout);
                co_await http::async_read_some(client, buffer, parser, with_ec);
            }
            deadline.disarm();
            ErrorReply refusal{0, "retrace_proxy_error", "", false};
            if (ec == http::error::body_limit) {
                refusal.status = 413;
                refusal.message = "request body larger than the proxy's limit (" +
                                  std::to_string(m_options.max_request_body) +
                                  " bytes; --max-body to change it)";
            } else if (ec && deadline.passed()) {
                refusal.status = 408;
                refusal.message =
                    "retrace: the request did not arrive within the proxy's "
                    "read timeout (" +
                    std::to_string(m_options.read_timeout.count() / 1000) +
                    " s; --read-timeout to change it)";
            }
            if (refusal.status) {
                Outcome out;
                Incoming none;
                co_await reply(client, out, none, refusal);
                break;
            }
            if (ec) break;
            auto& req = parser.get();
            bool keep = req.keep_alive();
            if (!co_await exchange(client, req, pending)) break;
            if (!keep) break;
        }
    }

    // Sends a JSON error that SDKs report and do not retry (x-should-retry).
    awaitable<void> reply(tcp::socket& client, Outcome& out, const Incoming& in,
                          const ErrorReply& e) {
        int status = e.status;
        bool keep_alive = e.keep_alive;
        http::response<http::string_body> res{static_cast<http::status>(status), 11};
        res.set(http::field::content_type, "application/json");
        res.set("x-should-retry", "false");
        if (!in.run_id.empty()) res.set("x-retrace-run-id", in.run_id);
        res.body() = error_body(in.route, e.type, e.message);
        res.keep_alive(keep_alive);
        res.prepare_payload();
        boost::system::error_code ec;
        co_await http::async_write(client, res, asio::redirect_error(use_awaitable, ec));
        out.status = status;
        out.body = res.body();
        for (const auto& f : res) out.headers[lower(f.name_string())] = str(f.value());
        out.chunks.emplace_back(0, out.body.size());
        out.client_ok = keep_alive && !ec;
    }

    // Answers an event API request; true when the connection can be reused.
    static awaitable<bool> reply_json(tcp::socket& client, EventApiReply& answer, bool keep_alive) {
        http::response<http::string_body> res{static_cast<http::status>(answer.status), 11};
        res.set(http::field::content_type, answer.content_type);
        res.body() = std::move(answer.body);
        res.keep_alive(keep_alive);
        res.prepare_payload();
        boost::system::error_code ec;
        co_await http::async_write(client, res, asio::redirect_error(use_awaitable, ec));
        co_return keep_alive && !ec;
    }

    // An idle keep-alive connection to the upstream (unless fresh), or a new one.
    awaitable<Result<std::unique_ptr<UpstreamStream>>> upstream_connection(const Upstream& up,
                                                                           bool fresh,
                                                                           bool& pooled) {
        auto executor = co_await asio::this_coro::executor;
        {
            std::lock_guard lock(m_mutex);
            auto& idle = m_pool[{thread_of(executor), up.name}];
            pooled = !fresh && !idle.empty();
            if (pooled) {
                auto c = std::move(idle.back());
                idle.pop_back();
                co_return c;
            }
        }
        auto c = std::make_unique<UpstreamStream>(executor);
        ssl::context* tls = m_tls.get();
        if (Status connected = co_await c->connect(up, tls); !connected) co_return connected;
        co_return c;
    }

    void keep_connection(const Upstream& up, std::unique_ptr<UpstreamStream> c) {
        std::lock_guard lock(m_mutex);
        auto& idle = m_pool[{thread_of(c->get_executor()), up.name}];
        if (!m_cut && idle.size() < k_pool_size) idle.push_back(std::move(c));
    }

    // Forwards the request upstream and relays the response as it arrives.
    awaitable<void> forward(tcp::socket& client, http::request<http::string_body>& req,
                            const Incoming& in, const Upstream& up, long long start, Outcome& out) {
        if (up.host.empty()) {  // a route a replay knows only from its recording
            ErrorReply no_url{502, "retrace_upstream_error",
                              "retrace: no URL for route '" + in.route +
                                  "' in this replay: give --route " + in.route + "=URL",
                              req.keep_alive()};
            co_await reply(client, out, in, no_url);
            co_return;
        }
        http::request<http::string_body> fwd{
            req.method(), core::upstream_path(in.route, up.base_path, in.path) + in.query, 11};
        for (const auto& f : req) {
            std::string name = lower(f.name_string());
            // (the body is all here: an Expect would only have the upstream
            // send a 100 Continue first)
            if (!is_hop_by_hop(name) && name != "accept-encoding" && name != "x-retrace-run" &&
                name != "x-retrace-token" && name != "expect")
                fwd.set(f.name_string(), f.value());
        }
        fwd.set(http::field::host, up.host_header());
        fwd.set(http::field::accept_encoding, "identity");  // store readable, canonical bodies
        fwd.keep_alive(true);                               // connections to upstreams are reused
        fwd.body() = req.body();
        fwd.prepare_payload();
        boost::system::error_code ec;
        auto with_ec = asio::redirect_error(use_awaitable, ec);
        std::unique_ptr<UpstreamStream> connection;
        std::optional<UpstreamGuard> guard;
        beast::flat_buffer ubuf;
        ubuf.reserve(k_read_size);
        std::optional<http::response_parser<http::buffer_body>> parser_slot;
        auto new_parser = [&] {
            parser_slot.emplace();
            parser_slot->body_limit(std::numeric_limits<std::uint64_t>::max());
            // (an answer to HEAD has a Content-Length but no body)
            parser_slot->skip(req.method() == http::verb::head);
        };
        // A client that leaves (aborts, times out) interrupts the wait on
        // the upstream: nothing more is read of an answer nobody reads.
        ClientWatch watch(client);
        // A pooled connection the upstream has closed meanwhile fails before
        // any response byte: then the request is sent once more, on a new
        // connection (as HTTP clients do with reused connections).
        for (int attempt = 0; attempt < 2 && !watch.gone(); ++attempt) {
            bool pooled = false;
            bool fresh = attempt > 0;
            auto c = co_await upstream_connection(up, fresh, pooled);
            if (!c) {
                warn(c.status().message());
                ErrorReply failed{502, "retrace_upstream_error", "retrace: " + c.status().message(),
                                  false};
                co_await reply(client, out, in, failed);
                co_return;
            }
            connection = std::move(c).value();
            guard.reset();
            guard.emplace(*this, connection->socket());
            watch.interrupt(&connection->socket());
            ubuf.clear();
            new_parser();
            ec = {};
            if (watch.gone()) break;
            co_await http::async_write(*connection, fwd, with_ec);
            if (!ec) co_await http::async_read_header(*connection, ubuf, *parser_slot, with_ec);
            if (!ec || !pooled || ubuf.size() > 0 || watch.gone()) break;
        }
        // Interim answers (103 Early Hints, a 100 Continue) come before the
        // final one; neither is relayed nor recorded.
        while (!ec && !watch.gone() && is_interim(parser_slot->get().result_int())) {
            new_parser();
            co_await http::async_read_header(*connection, ubuf, *parser_slot, with_ec);
        }
        if (watch.gone() && !stopped()) {
            // (before any answer: the connection to the upstream is closed,
            // which is how an HTTP/1.1 client calls a request off)
            out.cancelled = trace::ClientCancel{(watch.gone_ns() - start) / 1000, 0};
            out.client_ok = false;
            co_return;
        }
        auto& parser = *parser_slot;
        auto& upstream = *connection;
        if (ec) {
            ErrorReply failed{502, "retrace_upstream_error",
                              "retrace: upstream " + in.route + " failed: " + ec.message(), false};
            co_await reply(client, out, in, failed);
            co_return;
        }
        auto& ures = parser.get();
        out.status = static_cast<int>(ures.result_int());
        out.header_us = (core::unix_now_ns() - start) / 1000;
        http::response<http::empty_body> res{ures.result(), 11};
        for (const auto& f : ures) {
            std::string name = lower(f.name_string());
            out.headers[name] = core::is_secret_header(name) ? std::string(core::k_redacted)
                                                             : m_redactor.redact(str(f.value()));
            if (!is_hop_by_hop(name)) res.set(f.name_string(), f.value());
        }
        res.set("x-retrace-run-id", in.run_id);
        res.keep_alive(req.keep_alive());
        if (has_no_body(req.method(), out.status)) {
            beast::string_view length = ures[http::field::content_length];
            out.client_ok = co_await write_header_alone(client, res, length);
            if (parser.is_done() && parser.get().keep_alive()) {
                guard.reset();
                keep_connection(up, std::move(connection));
            }
            co_return;
        }
        Framing framing = net::framing_for(req.version(), parser.content_length().has_value());
        if (framing == Framing::length) res.content_length(parser.content_length());
        StreamedReply relay(client, res, framing);
        // The header goes out at once, unless body bytes came with it: then
        // with them (a slow stream's first byte is never held back).
        std::size_t sent = 0;  // entries of out.chunks the client was sent
        if (ubuf.size() == 0) co_await relay.flush();
        // An event stream is recorded frame by frame, each frame at the time
        // its last byte arrived (several may come in one read); anything
        // else read by read.
        bool sse =
            str(ures[http::field::content_type]).find("text/event-stream") != std::string::npos;
        std::size_t recorded = 0;  // bytes of out.body already in out.chunks
        auto log_chunks = [&](bool last) {
            long long offset = (core::unix_now_ns() - start) / 1000;
            for (std::size_t end; sse && (end = frame_end(out.body, recorded)) != std::string::npos;
                 recorded = end)
                out.chunks.emplace_back(offset, end - recorded);
            if ((!sse || last) && recorded < out.body.size()) {
                out.chunks.emplace_back(offset, out.body.size() - recorded);
                recorded = out.body.size();
            }
        };
        // The body is parsed from what each socket read brings, all of it
        // (eager: every chunk, not one), and relayed in one write before the
        // next read: frames that came together go out together, and none
        // waits for the next to arrive (Beast's read_some would read on
        // while a chunk's trailing CRLF is still to come).
        parser.eager(true);
        char buf[65536];
        while (!parser.is_done()) {
            boost::system::error_code perr;
            while (ubuf.size() > 0 && !parser.is_done()) {
                parser.get().body().data = buf;
                parser.get().body().size = sizeof buf;
                ubuf.consume(parser.put(ubuf.data(), perr));
                std::size_t n = sizeof buf - parser.get().body().size;
                if (n) {
                    out.body.append(buf, n);
                    relay.add(std::string_view(buf, n));
                    log_chunks(false);
                }
                if (perr != http::error::need_buffer) break;  // else: buf was full, go on
                perr = {};
            }
            if (perr == http::error::need_more) perr = {};
            if (!perr && !parser.is_done()) {
                co_await relay.flush();  // the last piece goes with the end
                if (relay.error()) watch.lost();
                if (watch.gone()) break;
                sent = out.chunks.size();
                std::size_t n =
                    co_await upstream.async_read_some(ubuf.prepare(k_read_size), with_ec);
                ubuf.commit(n);
                if (watch.gone()) break;
                if (ec == asio::error::eof) {
                    ec = {};
                    if (n == 0) parser.put_eof(perr);  // a body that ends with the connection
                }
            }
            if (perr || ec) {
                out.truncated = true;  // the upstream broke off: the client sees it too
                break;
            }
        }
        log_chunks(true);
        if (watch.gone() && stopped()) out.truncated = true;  // cut by stop(), not by the client
        // A client that leaves once it has read a stream's end marker
        // ([DONE], message_stop, ...: SDKs close then, before the body's
        // last chunk) read the whole answer: it did not give up.
        bool read_all =
            watch.gone() && sse && sent == out.chunks.size() &&
            core::assemble_response(in.route, str(ures[http::field::content_type]), out.body)
                .complete;
        if (read_all) {
            co_await relay.finish(false);
            out.client_ok = false;
            co_return;
        }
        if (watch.gone() && !out.truncated) {
            // (what the upstream sent until then is recorded; the rest is
            // called off by closing the connection to it)
            out.cancelled = trace::ClientCancel{(watch.gone_ns() - start) / 1000, sent};
            co_await relay.finish(true);
            out.client_ok = false;
            co_return;
        }
        co_await relay.finish(out.truncated);
        out.client_ok = !out.truncated && relay.reusable();
        if (!out.truncated && parser.is_done() && parser.get().keep_alive()) {
            guard.reset();
            keep_connection(up, std::move(connection));
        }
    }

    // Writes the header of a response without a body; true when written.
    static awaitable<bool> write_header_alone(tcp::socket& client,
                                              http::response<http::empty_body>& res,
                                              beast::string_view content_length) {
        if (!content_length.empty()) res.set(http::field::content_length, content_length);
        http::response_serializer<http::empty_body> sr{res};
        boost::system::error_code ec;
        co_await http::async_write_header(client, sr, asio::redirect_error(use_awaitable, ec));
        co_return !ec;
    }

    // Sends a recorded response, frame by frame as it was received.
    awaitable<void> serve_recorded(tcp::socket& client, const http::request<http::string_body>& req,
                                   const Incoming& in, const RecordedExchange& x, long long start,
                                   Outcome& out) {
        http::response<http::empty_body> res;
        res.result(static_cast<unsigned>(x.status));
        res.version(11);
        for (const auto& [name, value] : x.response_headers.items())
            if (!is_hop_by_hop(name) && !core::is_secret_header(name) && value.is_string())
                res.set(name, value.get<std::string>());
        res.set("x-retrace-replayed", "1");
        res.set("x-retrace-run-id", in.run_id);
        res.keep_alive(req.keep_alive());
        auto answer = m_answers.body_of(x);
        if (!answer) {
            ErrorReply lost{500, "retrace_proxy_error",
                            "retrace cannot replay " + x.label() + ": " + answer.status().message(),
                            req.keep_alive()};
            co_await reply(client, out, in, lost);
            co_return;
        }
        std::shared_ptr<const std::string> body = std::move(answer).value();
        out.status = x.status;
        out.headers = x.response_headers;
        out.body = *body;
        out.served = &x;
        out.truncated = x.truncated;
        // Paced (--pace recorded, and by default an exchange whose client
        // gave up: --pace auto), the header and each frame go out at their
        // recorded offsets, so that a client with a timeout or a deadline
        // of its own leaves where the recorded one did. A client that
        // leaves is noticed, and nothing more is sent.
        bool paced = m_answers.paced(x);
        ClientWatch watch(client);
        asio::steady_timer timer(client.get_executor());
        watch.interrupt(&timer);
        auto begin = Clock::now() - std::chrono::nanoseconds(core::unix_now_ns() - start);
        auto at_offset = [begin](long long us) { return begin + std::chrono::microseconds(us); };
        // (a recorded client that left gets as long again, and a grace, to leave)
        Clock::time_point left_by = Clock::time_point::max();
        if (x.client_cancelled) left_by = at_offset(x.client_cancelled->at_us) + k_cancel_grace;
        bool wait_to_leave = paced && x.client_cancelled;
        auto noticed = [&](std::size_t sent) {
            if (watch.gone())
                out.cancelled = trace::ClientCancel{(watch.gone_ns() - start) / 1000, sent};
        };
        if (x.status == 0) {
            // The recorded client got no answer (it left first): nor does
            // this one; paced, it is given the time to leave on its own.
            if (wait_to_leave) co_await pause(timer, watch, left_by);
            noticed(0);
            boost::system::error_code ignored;
            client.set_option(asio::socket_base::linger(true, 0),
                              ignored);  // a reset, if still there
            out.client_ok = false;
            co_return;
        }
        if (paced && x.header_us) {
            Clock::time_point header_at = at_offset(*x.header_us);
            co_await pause(timer, watch, header_at);
        }
        if (has_no_body(req.method(), x.status)) {
            std::string length;
            auto it = x.response_headers.find("content-length");
            if (it != x.response_headers.end() && it->is_string()) length = it->get<std::string>();
            out.client_ok = co_await write_header_alone(client, res, length);
            co_return;
        }
        // (an HTTP/1.0 client gets the framing the recording had: a length
        // when the upstream gave one)
        bool complete = !x.truncated && !x.client_cancelled;
        Framing framing = net::framing_for(
            req.version(), complete && x.response_headers.contains("content-length"));
        if (framing == Framing::length) res.content_length(body->size());
        StreamedReply reply(client, res, framing);
        // Each recorded frame is one HTTP chunk. Paced, each is written at
        // its recorded offset; fast, the whole response is one write.
        std::size_t sent = 0;  // entries of out.chunks the client was sent
        if (paced) co_await reply.flush();
        std::size_t at = 0;
        // (the last piece: whatever the recorded chunks do not cover)
        std::vector<std::pair<long long, std::size_t>> pieces = x.chunks;
        pieces.emplace_back(x.chunks.empty() ? 0 : x.chunks.back().first, body->size());
        for (auto [offset_us, n] : pieces) {
            n = std::min(n, body->size() - at);
            if (n == 0) continue;
            if (paced) {
                Clock::time_point due = at_offset(offset_us);
                co_await pause(timer, watch, due);
            }
            if (watch.gone()) break;
            out.chunks.emplace_back((core::unix_now_ns() - start) / 1000, n);
            reply.add(std::string_view(*body).substr(at, n));
            at += n;
            if (!paced) continue;
            co_await reply.flush();
            if (reply.error()) watch.lost();
            if (!watch.gone()) sent = out.chunks.size();
        }
        // The rest of an answer its recorded client left was never read:
        // the client that stays is cut where the recording ends.
        if (wait_to_leave) co_await pause(timer, watch, left_by);
        // (a client that leaves once it has the whole answer did not give up)
        bool read_all = complete && at == body->size() && sent == out.chunks.size();
        if (!read_all) noticed(sent);
        bool cut = !complete || (watch.gone() && !read_all);
        co_await reply.finish(cut);
        out.client_ok = !cut && reply.reusable();
    }

    // Waits until `until`, or until the client leaves (the watch cancels
    // the timer), whichever is first.
    static awaitable<void> pause(asio::steady_timer& timer, const ClientWatch& watch,
                                 Clock::time_point until) {
        if (watch.gone()) co_return;
        timer.expires_at(until);
        boost::system::error_code ignored;
        co_await timer.async_wait(asio::redirect_error(use_awaitable, ignored));
    }

    // Answers one request and records the exchange. Returns false when the
    // client connection cannot be reused.
    // The request's target without the access token, or nullopt when the
    // token is required and not presented.
    std::optional<std::string> admitted_target(const http::request<http::string_body>& req) const {
        std::string target(req.target());
        const std::string& token = m_options.access_token;
        if (token.empty()) return target;
        std::string presented;
        if (target.compare(0, k_token_prefix.size(), k_token_prefix) == 0) {
            auto end = target.find_first_of("/?", k_token_prefix.size());
            presented = target.substr(k_token_prefix.size(), end - k_token_prefix.size());
            target = end == std::string::npos ? "/" : target.substr(end);
        } else {
            presented = str(req["x-retrace-token"]);
        }
        if (!core::token_matches(presented, token)) return std::nullopt;
        return target;
    }

    // A keyed fingerprint of the credential a request carries, or "".
    std::string credential_of(const http::request<http::string_body>& req) const {
        for (const char* name : {"authorization", "x-api-key", "api-key", "x-goog-api-key"})
            if (auto value = req[name]; !value.empty())
                return core::hmac_sha256(m_options.secret, str(value)).to_string();
        return "";
    }

    // Until no request that reached the machine before `received_ns` is
    // unread or unnumbered (RequestOrder), or k_turn_wait has passed.
    awaitable<void> wait_for_turn(const tcp::socket& client, long long received_ns) {
        auto earlier = [&] {
            // (unread first: a request is marked pending before it is read)
            return m_server.unread_before(received_ns, &client) ||
                   m_order.pending_before(received_ns);
        };
        if (!earlier()) co_return;
        auto executor = co_await asio::this_coro::executor;
        asio::steady_timer timer(executor);
        auto deadline = Clock::now() + k_turn_wait;
        while (earlier() && Clock::now() < deadline) {
            timer.expires_after(k_issue_poll);
            boost::system::error_code ignored;
            co_await timer.async_wait(asio::redirect_error(use_awaitable, ignored));
        }
    }

    awaitable<bool> exchange(tcp::socket& client, http::request<http::string_body>& req,
                             RequestOrder::Pending& pending) {
        Incoming in;
        std::optional<std::string> admitted = admitted_target(req);
        if (!admitted) {
            Outcome out;
            ErrorReply refused{403, "retrace_proxy_error",
                               "retrace: this recorder serves only the program it runs: the "
                               "request lacks the run's token (the path of RETRACE_PROXY_URL, "
                               "OPENAI_BASE_URL, ..., or an x-retrace-token header)",
                               false};
            co_await reply(client, out, in, refused);
            warn("refused a request without the run's access token (from another process?)");
            co_return false;
        }
        auto run = m_router.acquire(str(req["x-retrace-run"]), credential_of(req));
        if (!run) {
            Outcome out;
            bool denied = run.status().code() == ErrorCode::denied;
            ErrorReply unrecorded{denied ? 403 : 503, "retrace_proxy_error",
                                  "retrace cannot record this exchange: " + run.status().message(),
                                  false};
            co_await reply(client, out, in, unrecorded);
            warn(run.status().message());
            co_return false;
        }
        struct Release {
            RunRouter& router;
            RunTarget run;
            ~Release() { router.release(run); }
        } release{m_router, *run};
        store::RunWriter& writer = *run->writer;
        in.run_id = writer.run_id();
        const std::string& target = *admitted;
        std::string path = target.substr(0, target.find('?'));
        in.query = target.size() > path.size() ? target.substr(path.size()) : "";
        auto slash = path.find('/', 1);
        in.route = path.substr(1, slash == std::string::npos ? std::string::npos : slash - 1);
        // (one path for each base-URL shape a provider's clients use)
        in.path = core::api_path(in.route, slash == std::string::npos ? "" : path.substr(slash));
        if (in.route == "_retrace") {
            auto method = req.method_string();
            auto answer = m_events.handle(std::string_view(method.data(), method.size()), in.path,
                                          req.body(), *run, str(req[http::field::content_type]),
                                          str(req[http::field::content_encoding]));
            if (!answer.withheld.empty()) warn(answer.withheld);
            bool keep_alive = req.keep_alive();
            co_return co_await reply_json(client, answer, keep_alive);
        }
        long long start = core::unix_now_ns();
        if (run->spans) {
            // (the run's trace id is a digest: only worked out when a header names a span)
            std::string traceparent = str(req["traceparent"]);
            in.parent = run->spans->parent_for_request(
                traceparent, traceparent.empty() ? std::string() : core::trace_id_of(in.run_id));
        }
        trace::Exchange x;  // what is recorded of it
        std::optional<long long> received_ns = pending.received_ns();
        if (received_ns) x.received_ns_before = start - *received_ns;
        x.route = in.route;
        x.method = std::string(req.method_string());
        x.path = in.path;
        in.stored_query = m_redactor.redact(core::redact_query(in.query));
        x.query = in.stored_query;
        for (const auto& f : req) {
            std::string name = lower(f.name_string());
            if (name == "x-retrace-token") continue;  // retrace's own, never stored or matched
            in.headers.emplace_back(name, str(f.value()));
            x.request_headers[name] = core::is_secret_header(name)
                                          ? std::string(core::k_redacted)
                                          : m_redactor.redact(str(f.value()));
        }
        core::MatchRequest match = in.match(req);
        std::string digest = m_answers.digest_of(match);
        x.match = digest;

        Outcome out;
        auto it = m_upstreams.find(in.route);
        bool too_deep = it != m_upstreams.end() && nests_too_deep(req.body());
        bool answerable = it != m_upstreams.end() && !too_deep;
        if (run->issues) {
            IssueLedger& issues = *run->issues;
            co_await wait_for_issued(issues);
        }
        // The event number (the order of issue) and the answer are taken in
        // one step: identical requests on several I/O threads get their
        // recorded answers in the order they are numbered, as recorded.
        using Action = replay::ExchangeAnswer::Action;
        if (answerable && m_order.waits(digest, received_ns))
            co_await wait_for_turn(client, *received_ns);
        auto [seq, answer] = m_order.number(writer, match, digest, answerable, pending);
        if (it == m_upstreams.end()) {
            ErrorReply unknown{404, "retrace_proxy_error",
                               "retrace: no upstream named '" + in.route +
                                   "' (routes: /openai, /anthropic, --route NAME=URL)",
                               req.keep_alive()};
            co_await reply(client, out, in, unknown);
        } else if (too_deep) {
            // (refused before anything reads it as JSON, upstream included)
            ErrorReply nested{400, "retrace_proxy_error",
                              "retrace: the request body is " + core::nested_too_deep(),
                              req.keep_alive()};
            co_await reply(client, out, in, nested);
        } else {
            if (answer.action == Action::forward) {
                x.live = answer.live;
                co_await forward(client, req, in, it->second, start, out);
            } else if (answer.action == Action::recorded) {
                x.replayed_from = answer.recorded->seq;
                co_await serve_recorded(client, req, in, *answer.recorded, start, out);
            } else {
                x.divergence = std::move(answer.divergence);
                std::string message = x.divergence->message();
                if (m_options.shield_divergences) {
                    warn("run " + in.run_id + ": " + message);
                    message =
                        "retrace: no recorded answer matches this request (the difference "
                        "is in the gateway's output and in run " +
                        in.run_id + ")";
                }
                ErrorReply diverged{400, "retrace_divergence", message, req.keep_alive()};
                co_await reply(client, out, in, diverged);
            }
        }
        record(*run, seq, start, in, std::move(x), req.body(), out);
        co_return out.client_ok;
    }

    // Whether redacting x's recorded answer (body) changes nothing (then a
    // --reuse load test does not redact it over and over).
    bool redacts_to_itself(const RecordedExchange& x, const std::string& body) {
        {
            std::lock_guard lock(m_mutex);
            if (auto it = m_redacts_to_itself.find(&x); it != m_redacts_to_itself.end())
                return it->second;
        }
        bool same = m_redactor.redact(body) == body;
        std::lock_guard lock(m_mutex);
        m_redacts_to_itself.emplace(&x, same);
        return same;
    }

    void record(const RunTarget& target, long long seq, long long start, const Incoming& in,
                trace::Exchange x, const std::string& request, const Outcome& out) {
        x.status = out.status;
        x.truncated = out.truncated;
        x.header_us = out.header_us;
        x.client_cancelled = out.cancelled;
        x.response_headers = out.headers;
        x.chunks = out.chunks;
        std::string req_body = m_redactor.redact(request);
        bool request_redacted = req_body != request;
        x.request_redacted = request_redacted;
        // A recorded answer this replay's redactor leaves as it is (known
        // after its first serving) is stored as recorded, under its digest.
        bool as_recorded = out.served && !out.served->response_digest.empty() &&
                           redacts_to_itself(*out.served, out.body);
        std::string resp_body = as_recorded ? out.body : m_redactor.redact(out.body);
        bool response_redacted = !as_recorded && resp_body != out.body;
        core::Event e;
        e.seq = seq;
        e.parent = in.parent;
        e.kind = core::exchange_kind(in.route);
        e.name = x.method + " " + in.path;
        e.start_ns = start;
        e.end_ns = core::unix_now_ns();
        e.attrs = x.to_attrs();
        e.request = core::Digest::of(req_body).to_string();
        e.response =
            as_recorded ? out.served->response_digest : core::Digest::of(resp_body).to_string();
        std::vector<store::Blob> blobs = {{e.request, std::move(req_body)},
                                          {e.response, std::move(resp_body)}};
        if (target.facts) {
            // (digests of the bodies as received: a redacted one was changed)
            std::string request_digest =
                request_redacted ? core::Digest::of(request).to_string() : e.request;
            std::string response_digest =
                response_redacted ? core::Digest::of(out.body).to_string() : e.response;
            target.facts->observe({in.route, in.path, &in.headers, request, out.status,
                                   &out.headers, out.body, request_digest, response_digest});
        }
        (void)target.writer->complete(std::move(e), std::move(blobs));
    }

    std::map<std::string, Upstream> m_upstreams;
    std::shared_ptr<ssl::context> m_tls;
    ProxyOptions m_options;
    RunRouter& m_router;
    core::Redactor m_redactor;
    std::unique_ptr<replay::AnswerSource> m_recording;  // when no source was given
    replay::AnswerSource& m_answers;                    // what answers each request
    EventApi m_events;
    RequestOrder m_order;  // numbers an exchange and takes its answer (exchange())
    std::mutex m_mutex;    // guards the members below
    std::set<tcp::socket*> m_upstream_sockets;  // in use by an exchange
    std::set<std::string> m_warned;
    std::unordered_map<const RecordedExchange*, bool> m_redacts_to_itself;
    // Idle keep-alive connections by I/O thread and upstream name: a
    // connection is taken up again on the thread that waits on it.
    std::map<std::pair<const void*, std::string>, std::vector<std::unique_ptr<UpstreamStream>>>
        m_pool;
    bool m_cut = false;    // stopped: no connection goes back to the pool
    AsyncServer m_server;  // last: its threads use the members above
};

}  // namespace

Result<std::unique_ptr<RecordingProxy>> RecordingProxy::start(const ProxyOptions& options,
                                                              RunRouter& router,
                                                              const core::Redactor& redactor) {
    std::map<std::string, Upstream> upstreams;
    for (const auto& [name, url] : options.upstreams) {
        if (url.empty()) {  // served from a recording only
            upstreams.emplace(name, Upstream{.name = name});
            continue;
        }
        RETRACE_ASSIGN(auto u, parse_upstream(name, url));
        upstreams.emplace(name, u);
    }
    RETRACE_ASSIGN(auto tls, client_tls_context(options.ca_file));
    auto proxy =
        std::make_unique<Proxy>(std::move(upstreams), std::move(tls), options, router, redactor);
    RETRACE_TRY(proxy->listen());
    return std::unique_ptr<RecordingProxy>(std::move(proxy));
}

}  // namespace retrace::proxy
