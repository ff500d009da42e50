#include "retrace/net/async_server.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <utility>

#include "retrace/net/receive_time.hpp"

namespace retrace::net {

namespace asio = boost::asio;

namespace {
// How long accepting waits when the process is out of file descriptors.
constexpr auto k_accept_pause = std::chrono::milliseconds(50);

bool out_of_resources(const boost::system::error_code& ec) {
    // (by value, and told with strerror: no virtual call on the category,
    // which UBSan cannot check without a free descriptor)
    if (ec.category() != boost::system::system_category()) return false;
    int v = ec.value();
    return v == EMFILE || v == ENFILE || v == ENOBUFS || v == ENOMEM;
}

// Shuts a socket down from any thread: the kernel wakes whatever waits on
// it, and Asio's own state is left to the thread that owns the operation.
void shut(asio::ip::tcp::socket& s) {
    if (s.is_open()) ::shutdown(s.native_handle(), SHUT_RDWR);
}
std::vector<std::unique_ptr<asio::io_context>> make_contexts(unsigned n) {
    std::vector<std::unique_ptr<asio::io_context>> out;
    for (unsigned i = 0; i < n; ++i) out.push_back(std::make_unique<asio::io_context>(1));
    return out;
}
}  // namespace

AsyncServer::AsyncServer(Handler handler, unsigned threads)
    : m_handler(std::move(handler)),
      m_thread_count(threads ? threads : std::max(1u, std::thread::hardware_concurrency())),
      m_contexts(make_contexts(m_thread_count)),
      m_acceptor(*m_contexts.front()) {}

AsyncServer::~AsyncServer() {
    stop(std::chrono::milliseconds(0), true);
    wait();
}

Status AsyncServer::listen(const std::string& host, int port) {
    boost::system::error_code ec;
    auto address = asio::ip::make_address(host, ec);
    if (ec)
        return error(ErrorCode::invalid_input,
                     "cannot listen on '" + host + "': not an IP address");
    tcp::endpoint ep(address, static_cast<unsigned short>(port));
    m_acceptor.open(ep.protocol(), ec);
    if (!ec) m_acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) m_acceptor.bind(ep, ec);
    if (!ec) m_acceptor.listen(asio::socket_base::max_listen_connections, ec);
    // (accepting is tried when the listener is readable: accept_loop)
    if (!ec) m_acceptor.non_blocking(true, ec);
    // The kernel stamps a packet as it arrives only while some socket asks
    // for it, and its connections inherit the listener's asking: set here,
    // a connection's first request is stamped too (receive_time.hpp).
    if (!ec) stamp_arrivals(m_acceptor.native_handle());
    if (ec)
        return error(ErrorCode::io,
                     "cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message());
    m_port = m_acceptor.local_endpoint().port();
    m_accepting = true;
    for (auto& c : m_contexts) m_work.emplace_back(c->get_executor());
    asio::co_spawn(*m_contexts.front(), accept_loop(), asio::detached);
    for (auto& c : m_contexts) m_threads.emplace_back([ioc = c.get()] { ioc->run(); });
    return Status::ok();
}

asio::awaitable<void> AsyncServer::accept_loop() {
    asio::steady_timer pause(*m_contexts.front());
    bool warned = false;
    for (;;) {
        boost::system::error_code ec;
        co_await m_acceptor.async_wait(tcp::acceptor::wait_read,
                                       asio::redirect_error(asio::use_awaitable, ec));
        std::unique_lock accepting(m_mutex);
        asio::io_context& home = *m_contexts[m_next];
        // (accepted under the lock: unread_before sees a connection either
        // still queued or in m_connections)
        tcp::socket sock(home);
        if (!ec && !m_stopping) m_acceptor.accept(sock, ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again) continue;
        accepting.unlock();
        if (ec && out_of_resources(ec)) {
            // The connection stays queued and the acceptor readable: trying
            // again at once would spin. Wait for descriptors to be freed.
            if (!std::exchange(warned, true))
                std::cerr << "retrace: cannot accept connections: " << std::strerror(ec.value())
                          << " (trying again every " << k_accept_pause.count() << " ms)\n";
            pause.expires_after(k_accept_pause);
            boost::system::error_code ignored;
            co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
        }
        std::lock_guard lock(m_mutex);
        if (m_stopping) break;
        if (ec) continue;
        m_next = (m_next + 1) % m_contexts.size();
        sock.set_option(tcp::no_delay(true), ec);
        auto* raw = new tcp::socket(std::move(sock));
        m_connections.insert(raw);
        asio::co_spawn(home, serve(raw), asio::detached);
    }
    std::lock_guard lock(m_mutex);
    boost::system::error_code ignored;
    m_acceptor.close(ignored);
    m_accepting = false;
    m_done.notify_all();
}

asio::awaitable<void> AsyncServer::serve(tcp::socket* socket) {
    try {
        co_await m_handler(*socket);
    } catch (const std::exception&) {
        // A handler that failed ends its connection, never the server.
    }
    // Closed under the lock: stop() shuts sockets of the set down by their
    // descriptor, which must not be reused by then.
    std::lock_guard lock(m_mutex);
    m_connections.erase(socket);
    m_idle.erase(socket);
    boost::system::error_code ignored;
    socket->shutdown(tcp::socket::shutdown_both, ignored);
    socket->close(ignored);
    delete socket;
    m_done.notify_all();
}

bool AsyncServer::unread_before(long long ns, const tcp::socket* except) {
    std::lock_guard lock(m_mutex);
    if (m_acceptor.is_open()) {
        pollfd queued{m_acceptor.native_handle(), POLLIN, 0};
        if (::poll(&queued, 1, 0) > 0 && (queued.revents & POLLIN)) return true;
    }
    for (auto* s : m_connections) {
        if (s == except || !s->is_open()) continue;
        if (auto at = unread_since(s->native_handle()); at && *at < ns) return true;
    }
    return false;
}

void AsyncServer::set_idle(tcp::socket& socket, bool idle) {
    std::lock_guard lock(m_mutex);
    if (!idle) {
        m_idle.erase(&socket);
        return;
    }
    m_idle.insert(&socket);
    if (m_stopping) shut(socket);
}

bool AsyncServer::stop(std::chrono::milliseconds grace, bool close_busy) {
    std::unique_lock lock(m_mutex);
    if (!m_stopping) {
        m_stopping = true;
        // Wakes the pending accept, which then closes the acceptor itself.
        if (m_acceptor.is_open()) ::shutdown(m_acceptor.native_handle(), SHUT_RDWR);
    }
    for (auto* s : close_busy ? m_connections : m_idle) shut(*s);
    bool done = m_done.wait_for(lock, grace, [&] { return finished(); });
    lock.unlock();
    if (done) join_threads();
    return done;
}

void AsyncServer::wait() {
    {
        std::unique_lock lock(m_mutex);
        m_done.wait(lock, [&] { return finished(); });
    }
    join_threads();
}

void AsyncServer::join_threads() {
    m_work.clear();
    for (auto& t : m_threads)
        if (t.joinable() && t.get_id() != std::this_thread::get_id()) t.join();
    m_threads.clear();
}

}  // namespace retrace::net
