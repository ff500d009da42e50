// A response relayed to a client as its body arrives, written with as few
// system calls as the relay allows: the header goes out together with the
// first piece of body when that is already at hand, and the last piece
// together with the end of the body, so that a small answer is one write.
// The body is chunked for an HTTP/1.1 client; an HTTP/1.0 client, which
// knows no chunks (RFC 9112 6.1), gets it framed by its Content-Length
// when that is known, else ended by closing the connection.
#pragma once

#include <boost/beast/http.hpp>
#include <string>
#include <string_view>

#include "retrace/net/chunked_body.hpp"
#include "retrace/net/upstream.hpp"

namespace retrace::net {

enum class Framing {
    chunked,  // HTTP/1.1
    length,   // the head carries the body's Content-Length
    close,    // the body ends with the connection (Connection: close is set)
};

// How a body of unknown length is framed for a client speaking `version`
// (10 or 11, as Beast counts); `length` known: framed by it for HTTP/1.0.
Framing framing_for(unsigned version, bool length_known);

class StreamedReply {
  public:
    // Frames `head` (chunked, or with Connection: close) and holds its
    // serialized bytes until the next write.
    StreamedReply(tcp::socket& client,
                  boost::beast::http::response<boost::beast::http::empty_body>& head,
                  Framing framing = Framing::chunked);

    // Appends a piece of body, not yet written.
    void add(std::string_view piece);
    // Writes everything held (the header, pieces). After a write error the
    // rest is dropped; error() tells.
    boost::asio::awaitable<void> flush();
    // Ends the body: a clean end (flushed, with the last chunk when
    // chunked), or a cut the client sees as one (the connection is reset,
    // nothing more is sent).
    boost::asio::awaitable<void> finish(bool cut);

    const boost::system::error_code& error() const { return m_ec; }
    // Whether the connection can carry another request after this answer.
    bool reusable() const { return !m_ec && m_framing != Framing::close; }

  private:
    tcp::socket& m_client;
    Framing m_framing;
    std::string m_pending;
    boost::system::error_code m_ec;
};

}  // namespace retrace::net
