#include "retrace/net/streamed_reply.hpp"

#include <boost/beast/core.hpp>
#include <cstdio>

namespace retrace::net {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {
std::string serialized_head(http::response<http::empty_body>& head) {
    std::string out;
    http::response_serializer<http::empty_body> sr{head};
    sr.split(true);
    beast::error_code ec;
    while (!sr.is_header_done() && !ec) {
        sr.next(ec, [&](beast::error_code&, const auto& buffers) {
            for (auto b : beast::buffers_range_ref(buffers))
                out.append(static_cast<const char*>(b.data()), b.size());
            sr.consume(beast::buffer_bytes(buffers));
        });
    }
    return out;
}

std::string framed_head(http::response<http::empty_body>& head, Framing framing) {
    if (framing == Framing::chunked) return chunked_head(head);
    if (framing == Framing::close) head.keep_alive(false);
    return serialized_head(head);
}
}  // namespace

std::string chunked_head(http::response<http::empty_body>& head) {
    head.chunked(true);
    return serialized_head(head);
}

void append_chunk(std::string& out, std::string_view piece) {
    if (piece.empty()) return;
    char size[20];
    int n = std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
    out.append(size, static_cast<std::size_t>(n)).append(piece).append("\r\n");
}

Framing framing_for(unsigned version, bool length_known) {
    if (version >= 11) return Framing::chunked;
    return length_known ? Framing::length : Framing::close;
}

StreamedReply::StreamedReply(tcp::socket& client, http::response<http::empty_body>& head,
                             Framing framing)
    : m_client(client), m_framing(framing), m_pending(framed_head(head, framing)) {}

void StreamedReply::add(std::string_view piece) {
    if (m_ec) return;
    if (m_framing == Framing::chunked)
        append_chunk(m_pending, piece);
    else
        m_pending.append(piece);
}

asio::awaitable<void> StreamedReply::flush() {
    if (!m_pending.empty() && !m_ec)
        co_await asio::async_write(m_client, asio::buffer(m_pending),
                                   asio::redirect_error(asio::use_awaitable, m_ec));
    m_pending.clear();
}

asio::awaitable<void> StreamedReply::finish(bool cut) {
    if (cut) {
        co_await flush();
        boost::system::error_code ignored;
        m_client.set_option(asio::socket_base::linger(true, 0), ignored);
        co_return;
    }
    if (!m_ec && m_framing == Framing::chunked) m_pending.append(k_last_chunk);
    co_await flush();
}

}  // namespace retrace::net
