// Notices a client that leaves while its answer is being fetched or sent.
// An HTTP client sends nothing more while it waits for its response, so
// its socket turning readable with the end of the stream (or an error)
// means it closed the connection: it aborted the request, or its timeout
// fired. What the answer was waiting on (the upstream's socket, a pacing
// timer) is then interrupted, so the proxy stops reading an answer nobody
// reads, as a provider stops generating when its client goes away. A
// client that sends its next request early (pipelining) is not watched
// further. Used on the thread that serves the socket.
#pragma once

#include <utility>  // before Boost 1.74's asio, which uses std::exchange without it

#include <boost/asio.hpp>
#include <memory>

namespace retrace::net {

class ClientWatch {
  public:
    // Starts watching the client.
    explicit ClientWatch(boost::asio::ip::tcp::socket& client);
    // Stops watching (the pending wait is cancelled).
    ~ClientWatch();
    ClientWatch(const ClientWatch&) = delete;
    ClientWatch& operator=(const ClientWatch&) = delete;

    // What to interrupt when the client leaves (its pending operations are
    // cancelled; they complete with operation_aborted); null for nothing.
    void interrupt(boost::asio::ip::tcp::socket* upstream);
    void interrupt(boost::asio::steady_timer* timer);

    // Whether the client left, and when (core::unix_now_ns()).
    bool gone() const;
    long long gone_ns() const;
    // A write to the client failed: it is gone now, if not noticed before.
    void lost();

  private:
    struct State;
    static void watch(const std::shared_ptr<State>& state);
    // Shared with the wait's pending handler, which may run after this is gone.
    std::shared_ptr<State> m_state;
};

}  // namespace retrace::net
