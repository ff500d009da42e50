// Sending an export to an OTLP/HTTP collector, retrying as the OTLP
// specification says (429, 502, 503, 504 and connection failures; honour
// Retry-After).
#include <utility>  // before Boost 1.74's asio, which uses std::exchange without it

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <thread>

#include "retrace/interop/otlp.hpp"
#include "retrace/net/upstream.hpp"

namespace retrace::interop {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

constexpr int k_timeout_seconds = 10;  // per attempt, as OTLP exporters default to
constexpr double k_max_wait_seconds = 30;

bool retryable(int status) {
    return status == 429 || status == 502 || status == 503 || status == 504;
}

// One POST: the answer, or a failure to connect or read (then retried).
struct Answer {
    int status = 0;
    std::string body;
    std::string retry_after;
};

template <typename Stream>
asio::awaitable<Answer> exchange(Stream& stream, const http::request<http::string_body>& req) {
    using asio::use_awaitable;
    co_await http::async_write(stream, req, use_awaitable);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    co_await http::async_read(stream, buffer, res, use_awaitable);
    co_return Answer{static_cast<int>(res.result_int()), res.body(),
                     std::string(res[http::field::retry_after])};
}

// One attempt, every step of it (resolving aside) under one deadline: a
// collector that accepts and never answers costs k_timeout_seconds.
asio::awaitable<Answer> attempt(const net::Upstream& target, ssl::context* tls,
                                const http::request<http::string_body>& req) {
    using asio::use_awaitable;
    auto executor = co_await asio::this_coro::executor;
    tcp::resolver resolver(executor);
    auto endpoints = co_await resolver.async_resolve(target.host, target.port, use_awaitable);
    auto deadline = std::chrono::seconds(k_timeout_seconds);
    if (tls) {
        beast::ssl_stream<beast::tcp_stream> stream(executor, *tls);
        if (!SSL_set_tlsext_host_name(stream.native_handle(), target.host.c_str()))
            throw std::runtime_error("cannot set the TLS server name");
        stream.set_verify_callback(ssl::host_name_verification(target.host));
        beast::get_lowest_layer(stream).expires_after(deadline);
        co_await beast::get_lowest_layer(stream).async_connect(endpoints, use_awaitable);
        co_await stream.async_handshake(ssl::stream_base::client, use_awaitable);
        co_return co_await exchange(stream, req);
    }
    beast::tcp_stream stream(executor);
    stream.expires_after(deadline);
    co_await stream.async_connect(endpoints, use_awaitable);
    co_return co_await exchange(stream, req);
}

Result<Answer> send_once(const net::Upstream& target, ssl::context* tls,
                         const http::request<http::string_body>& req) {
    asio::io_context ioc;
    std::optional<Answer> answer;
    std::string failure;
    asio::co_spawn(ioc, attempt(target, tls, req), [&](std::exception_ptr e, Answer a) {
        if (!e) {
            answer = std::move(a);
            return;
        }
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            failure = ex.what();
        }
    });
    ioc.run();
    if (!answer) return error(ErrorCode::io, failure.empty() ? "no answer" : failure);
    return std::move(*answer);
}

// Retry-After as seconds (the HTTP-date form is read as no advice).
std::optional<double> retry_after_seconds(const std::string& value) {
    if (value.empty()) return std::nullopt;
    try {
        std::size_t used = 0;
        double s = std::stod(value, &used);
        if (used == value.size() && s >= 0) return std::min(s, k_max_wait_seconds);
    } catch (const std::exception&) {
    }
    return std::nullopt;
}

}  // namespace

Result<OtlpPostResult> post_otlp(const OtlpPost& post, const std::string& body) {
    RETRACE_ASSIGN(auto target, net::parse_upstream("otlp", post.url));
    std::shared_ptr<ssl::context> tls;
    if (target.scheme == "https") {
        RETRACE_ASSIGN(tls, net::client_tls_context(std::nullopt));
    }
    std::string path = target.base_path;
    while (!path.empty() && path.back() == '/') path.pop_back();
    if (!path.ends_with("/v1/traces")) path += "/v1/traces";
    http::request<http::string_body> req{http::verb::post, path, 11};
    req.set(http::field::host, target.host_header());
    req.set(http::field::content_type, post.content_type);
    req.set(http::field::user_agent, std::string("retrace/") + RETRACE_VERSION);
    for (const auto& [k, v] : post.headers) req.set(k, v);
    req.body() = body;
    req.prepare_payload();

    OtlpPostResult result;
    double backoff = post.first_backoff_seconds;
    std::string last;
    for (int attempt = 1; attempt <= post.max_attempts; ++attempt) {
        result.attempts = attempt;
        auto answer = send_once(target, tls.get(), req);
        std::optional<double> wait;
        if (!answer) {
            last = answer.status().message();
        } else {
            result.status = answer->status;
            if (answer->status >= 200 && answer->status < 300) return result;
            last = "status " + std::to_string(answer->status);
            std::string start;  // one line, printable: a JSON message or protobuf's bytes
            for (char c : answer->body.substr(0, 200))
                start.push_back(c == '\n' || c == '\r' || c == '\t'                 ? ' '
                                : static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? '?'
                                                                                    : c);
            if (!start.empty()) last += ": " + start;
            if (!retryable(answer->status))
                return error(ErrorCode::invalid_input,
                             "the collector at " + post.url + " refused the export (" + last + ")");
            wait = retry_after_seconds(answer->retry_after);
        }
        if (attempt == post.max_attempts) break;
        std::this_thread::sleep_for(std::chrono::duration<double>(wait.value_or(backoff)));
        backoff = std::min(backoff * 2, k_max_wait_seconds);
    }
    return error(ErrorCode::io, "could not export to " + post.url + " after " +
                                    std::to_string(result.attempts) + " attempt(s): " + last);
}

}  // namespace retrace::interop
