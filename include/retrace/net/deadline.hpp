// A deadline on a connection: when it passes before it is moved or
// disarmed, the socket's receiving side is shut down, which ends the read
// waiting on it (the read then sees the end of the stream) while an answer
// can still be written. Servers arm one around each read of a request, so
// that a client which sends nothing, or sends a request byte by byte, is
// let go instead of holding its connection, and the server's exit, for
// ever. Used on the thread that serves the socket.
#pragma once

#include <utility>  // before Boost 1.74's asio, which uses std::exchange without it

#include <boost/asio.hpp>
#include <chrono>
#include <memory>

namespace retrace::net {

class Deadline {
  public:
    explicit Deadline(boost::asio::ip::tcp::socket& socket);
    ~Deadline();
    Deadline(const Deadline&) = delete;
    Deadline& operator=(const Deadline&) = delete;

    // (Re)starts the deadline: `after` from now.
    void arm(std::chrono::steady_clock::duration after);
    void disarm();
    // Whether the deadline passed and shut the socket's receiving side.
    bool passed() const;

  private:
    struct State;
    // Shared with the timer's pending handler, which may run after this is gone.
    std::shared_ptr<State> m_state;
};

}  // namespace retrace::net
