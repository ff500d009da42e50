#include "retrace/capture/connection_server.hpp"

#include <sys/socket.h>

namespace retrace::capture {

namespace net = boost::asio;

ConnectionServer::ConnectionServer(Handler handler)
    : m_handler(std::move(handler)), m_acceptor(m_ioc) {}

ConnectionServer::~ConnectionServer() {
    stop(std::chrono::milliseconds(0), true);
    wait();
}

Status ConnectionServer::listen(const std::string& host, int port) {
    boost::system::error_code ec;
    auto address = net::ip::make_address(host, ec);
    if (ec)
        return error(ErrorCode::invalid_input,
                     "cannot listen on '" + host + "': not an IP address");
    tcp::endpoint ep(address, static_cast<unsigned short>(port));
    m_acceptor.open(ep.protocol(), ec);
    if (!ec) m_acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) m_acceptor.bind(ep, ec);
    if (!ec) m_acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec)
        return error(ErrorCode::io,
                     "cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message());
    m_port = m_acceptor.local_endpoint().port();
    m_accept_thread = std::thread([this] { accept_loop(); });
    return Status::ok();
}

void ConnectionServer::accept_loop() {
    for (;;) {
        auto sock = std::make_unique<tcp::socket>(m_ioc);
        boost::system::error_code ec;
        m_acceptor.accept(*sock, ec);
        std::lock_guard lock(m_mutex);
        if (m_stopping) return;
        if (ec) continue;
        sock->set_option(tcp::no_delay(true), ec);
        tcp::socket* raw = sock.release();
        m_connections.insert(raw);
        std::thread([this, raw] {
            m_handler(*raw);
            boost::system::error_code ignored;
            raw->shutdown(tcp::socket::shutdown_both, ignored);
            raw->close(ignored);
            std::lock_guard done(m_mutex);
            m_connections.erase(raw);
            m_idle.erase(raw);
            delete raw;
            m_done.notify_all();
        }).detach();
    }
}

void ConnectionServer::set_idle(tcp::socket& socket, bool idle) {
    std::lock_guard lock(m_mutex);
    if (!idle) {
        m_idle.erase(&socket);
        return;
    }
    m_idle.insert(&socket);
    boost::system::error_code ec;
    if (m_stopping) socket.shutdown(tcp::socket::shutdown_both, ec);
}

bool ConnectionServer::stopping() {
    std::lock_guard lock(m_mutex);
    return m_stopping;
}

bool ConnectionServer::stop(std::chrono::milliseconds grace, bool close_busy) {
    {
        std::lock_guard lock(m_mutex);
        boost::system::error_code ec;
        if (!m_stopping) {
            m_stopping = true;
            // close() alone does not wake a thread blocked in accept(); shutdown() does.
            ::shutdown(m_acceptor.native_handle(), SHUT_RDWR);
            m_acceptor.close(ec);
        }
        for (auto* s : close_busy ? m_connections : m_idle)
            s->shutdown(tcp::socket::shutdown_both, ec);
    }
    if (m_accept_thread.joinable()) m_accept_thread.join();
    std::unique_lock lock(m_mutex);
    return m_done.wait_for(lock, grace, [&] { return m_connections.empty(); });
}

void ConnectionServer::wait() {
    std::unique_lock lock(m_mutex);
    m_done.wait(lock, [&] { return m_connections.empty(); });
}

}  // namespace retrace::capture
