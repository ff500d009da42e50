// A response relayed to a client with a chunked body, written with as few
// system calls as the relay allows: the header goes out together with the
// first piece of body when that is already at hand, and the last piece
// together with the end of the body, so that a small answer is one write.
#pragma once

#include <boost/beast/http.hpp>
#include <string>
#include <string_view>

#include "retrace/net/chunked_body.hpp"
#include "retrace/net/upstream.hpp"

namespace retrace::net {

class ChunkedReply {
  public:
    // Sets `head` chunked and holds its serialized bytes until the next write.
    ChunkedReply(tcp::socket& client,
                 boost::beast::http::response<boost::beast::http::empty_body>& head);

    // Appends a piece of body (one chunk), not yet written.
    void add(std::string_view piece);
    // Writes everything held (the header, pieces). After a write error the
    // rest is dropped; error() tells.
    boost::asio::awaitable<void> flush();
    // Ends the body: a clean end (the last chunk, flushed), or a cut the
    // client sees as one (the connection is reset, nothing more is sent).
    boost::asio::awaitable<void> finish(bool cut);

    const boost::system::error_code& error() const { return m_ec; }

  private:
    tcp::socket& m_client;
    std::string m_pending;
    boost::system::error_code m_ec;
};

}  // namespace retrace::net
