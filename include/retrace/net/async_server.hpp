// A TCP server that serves every connection as a coroutine on a few I/O
// threads (one per core, each with an I/O context of its own, connections
// dealt out in turn): a connection waiting on its client or its upstream
// costs no thread, many are served per wake-up, and a connection stays on
// one thread. The proxy is its user. It stops cleanly: stop accepting, close the connections that
// are idle between requests, give busy ones time.
#pragma once

#include <utility>  // before Boost 1.74's asio, which uses std::exchange without it

#include <boost/asio.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "retrace/core/result.hpp"

namespace retrace::net {

class AsyncServer {
  public:
    using tcp = boost::asio::ip::tcp;
    using Handler = std::function<boost::asio::awaitable<void>(tcp::socket&)>;

    // handler serves one connection (TCP_NODELAY set) until it returns; the
    // server then shuts the socket down and closes it. threads: I/O threads,
    // 0 for one per core.
    explicit AsyncServer(Handler handler, unsigned threads = 0);
    ~AsyncServer();
    AsyncServer(const AsyncServer&) = delete;
    AsyncServer& operator=(const AsyncServer&) = delete;

    // Binds host:port (port 0: ephemeral) and starts accepting.
    // invalid_input for an address that is not an IP address; io otherwise.
    Status listen(const std::string& host, int port);
    int port() const { return m_port; }

    // A handler marks its connection idle while it waits for the next
    // request: stopping closes idle connections at once.
    void set_idle(tcp::socket& socket, bool idle);

    // Whether a byte the kernel received before `ns` (CLOCK_REALTIME, ns
    // since the epoch) is still unread on a connection other than
    // `except`, or a connection waits to be accepted: then a request that
    // reached the machine before `ns` has not been taken up yet. Connections
    // are accepted under the same lock, so none is missed between the two.
    // Reads nothing. Needs stamp_arrivals (net/receive_time.hpp) on the
    // connections. Thread safe.
    bool unread_before(long long ns, const tcp::socket* except);

    // Stops accepting, closes idle connections (all of them when
    // close_busy), and waits up to grace for the handlers to return.
    // Returns true when none is left.
    bool stop(std::chrono::milliseconds grace, bool close_busy = false);
    // Waits until every handler has returned, then ends the I/O threads.
    void wait();

  private:
    boost::asio::awaitable<void> accept_loop();
    boost::asio::awaitable<void> serve(tcp::socket* socket);
    bool finished() const { return !m_accepting && m_connections.empty(); }
    void join_threads();

    Handler m_handler;
    unsigned m_thread_count;
    using Work = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
    std::vector<std::unique_ptr<boost::asio::io_context>> m_contexts;  // one per thread
    std::vector<Work> m_work;
    std::size_t m_next = 0;  // the context the next connection goes to
    tcp::acceptor m_acceptor;
    int m_port = 0;
    std::vector<std::thread> m_threads;
    std::mutex m_mutex;  // guards the members below
    std::condition_variable m_done;
    std::set<tcp::socket*> m_connections, m_idle;
    bool m_accepting = false;
    bool m_stopping = false;
};

}  // namespace retrace::net
