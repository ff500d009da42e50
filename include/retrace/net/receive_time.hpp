// When a request reached this machine: the kernel's receive time of the
// first byte waiting on a connection. Which of two connections a program
// wrote to first is a fact the kernel keeps (it stamps each packet as it
// arrives, in the order the writes were made); which of the two a server
// with several I/O threads gets to first is a race. Servers that must
// tell the order in which a client issued requests on several connections
// (replay: identical requests sent at once) ask the kernel.
#pragma once

#include <utility>  // before Boost 1.74's asio, which uses std::exchange without it

#include <boost/asio.hpp>
#include <optional>

namespace retrace::net {

// Asks the kernel to stamp what arrives on the socket (SO_TIMESTAMPNS).
// Best effort: a socket that refuses is served without receive times.
// A listening socket's connections inherit it; it works on what arrives
// from then on.
void stamp_arrivals(int fd);

// Waits until the socket has a byte to read (or its end, or an error) and
// returns the kernel's receive time of the data waiting at its head
// (CLOCK_REALTIME, ns since the epoch), reading nothing. nullopt when the
// kernel gave none (stamping not enabled, the end of the stream, an
// error): the read that follows reports those. When the client has sent
// more by the time it is asked, the kernel may have merged the packets
// and give the time of the latest. Used on the thread that serves the socket.
boost::asio::awaitable<std::optional<long long>> receive_time(boost::asio::ip::tcp::socket& socket);

// The kernel's receive time of the data waiting unread at the head of the
// socket `fd`, without waiting or reading; nullopt when nothing is waiting
// or the kernel gave no time. Safe from any thread while the descriptor
// stays open.
std::optional<long long> unread_since(int fd);

}  // namespace retrace::net
