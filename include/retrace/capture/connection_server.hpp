// A TCP server that serves each connection on a thread of its own, with
// blocking Beast I/O (simple, and fast enough for loopback: the proxy and
// the sim are its users), and stops cleanly: stop accepting, close the
// connections that are idle between requests, give busy ones time.
#pragma once

#include <utility>  // before Boost 1.74's asio, which uses std::exchange without it

#include <boost/asio.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "retrace/core/result.hpp"

namespace retrace::capture {

class ConnectionServer {
  public:
    using tcp = boost::asio::ip::tcp;
    using Handler = std::function<void(tcp::socket&)>;

    // handler serves one connection (TCP_NODELAY set) until it returns; the
    // server then shuts the socket down and closes it.
    explicit ConnectionServer(Handler handler);
    ~ConnectionServer();
    ConnectionServer(const ConnectionServer&) = delete;
    ConnectionServer& operator=(const ConnectionServer&) = delete;

    // Binds host:port (port 0: ephemeral) and starts accepting.
    // invalid_input for an address that is not an IP address; io otherwise.
    Status listen(const std::string& host, int port);
    int port() const { return m_port; }
    boost::asio::io_context& context() { return m_ioc; }

    // A handler marks its connection idle while it waits for the next
    // request: stopping closes idle connections at once.
    void set_idle(tcp::socket& socket, bool idle);
    bool stopping();

    // Stops accepting, closes idle connections (all of them when
    // close_busy), and waits up to grace for the handlers to return.
    // Returns true when none is left.
    bool stop(std::chrono::milliseconds grace, bool close_busy = false);
    // Waits until every handler has returned.
    void wait();

  private:
    void accept_loop();

    Handler m_handler;
    boost::asio::io_context m_ioc;
    tcp::acceptor m_acceptor;
    int m_port = 0;
    std::thread m_accept_thread;
    std::mutex m_mutex;
    std::condition_variable m_done;
    std::set<tcp::socket*> m_connections, m_idle;
    bool m_stopping = false;
};

}  // namespace retrace::capture
