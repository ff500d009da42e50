// `Expect: 100-continue` (RFC 9110 10.1.1): a client that sends it waits
// for an interim "100 Continue" before it sends the body (curl does so for
// bodies over 1 MiB, and waits a second when none comes). Servers read the
// request header, answer 100 when asked, then read the body.
#pragma once

#include <utility>  // before Boost 1.74's asio, which uses std::exchange without it

#include <boost/asio.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http.hpp>
#include <string_view>

namespace retrace::net {

inline constexpr std::string_view k_continue = "HTTP/1.1 100 Continue\r\n\r\n";

// True when a request whose header `parser` has read waits for a 100
// Continue: it asked for one, speaks HTTP/1.1 and its body has not come yet.
template <class Parser>
bool expects_continue(const Parser& parser) {
    const auto& req = parser.get();
    return !parser.is_done() && req.version() >= 11 &&
           boost::beast::iequals(req[boost::beast::http::field::expect], "100-continue");
}

// Writes the 100 Continue to `stream` when the request expects one.
template <class Stream, class Parser>
boost::asio::awaitable<void> continue_if_expected(Stream& stream, const Parser& parser,
                                                  boost::system::error_code& ec) {
    if (!expects_continue(parser)) co_return;
    co_await boost::asio::async_write(stream,
                                      boost::asio::buffer(k_continue.data(), k_continue.size()),
                                      boost::asio::redirect_error(boost::asio::use_awaitable, ec));
}

// An interim response (1xx) other than 101 Switching Protocols: a final
// response follows it on the same connection.
inline bool is_interim(unsigned status) {
    return status >= 100 && status < 200 && status != 101;
}

}  // namespace retrace::net
