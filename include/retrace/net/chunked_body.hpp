// HTTP/1.1 chunked bodies assembled in memory, so that whatever is ready
// at once goes out in one write: a header with its first chunks, a run of
// chunks with the end of the body.
#pragma once

#include <utility>  // before Boost 1.74's asio, which uses std::exchange without it

#include <boost/beast/http.hpp>
#include <string>
#include <string_view>

namespace retrace::net {

// Sets `head` chunked and returns its serialized header.
std::string chunked_head(boost::beast::http::response<boost::beast::http::empty_body>& head);

// Appends `piece` to `out` as one chunk (nothing for an empty piece, which
// would end the body).
void append_chunk(std::string& out, std::string_view piece);

// The last chunk, which ends a chunked body without trailers.
inline constexpr std::string_view k_last_chunk = "0\r\n\r\n";

}  // namespace retrace::net
