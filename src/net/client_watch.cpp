#include "retrace/net/client_watch.hpp"

#include <sys/socket.h>

#include <cerrno>

#include "retrace/core/clock.hpp"

namespace retrace::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct ClientWatch::State {
    tcp::socket* client = nullptr;  // null once the watch is gone
    tcp::socket* upstream = nullptr;
    asio::steady_timer* timer = nullptr;
    long long gone_ns = 0;  // 0 while the client is there

    void leave() {
        if (gone_ns) return;
        gone_ns = core::unix_now_ns();
        boost::system::error_code ignored;
        if (upstream) upstream->cancel(ignored);
        if (timer) timer->cancel();
    }
};

// Waits for the client's socket to turn readable, then looks without
// taking: the end of the stream or an error is the client leaving.
void ClientWatch::watch(const std::shared_ptr<State>& state) {
    state->client->async_wait(tcp::socket::wait_read, [state](const boost::system::error_code& ec) {
        if (!state->client || state->gone_ns) return;
        if (ec) {
            if (ec != asio::error::operation_aborted) state->leave();
            return;
        }
        char byte;
        ssize_t n = ::recv(state->client->native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n > 0) return;  // the next request, pipelined: nothing to watch for
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            watch(state);
            return;
        }
        state->leave();  // the end of the stream (0), or the connection reset
    });
}

ClientWatch::ClientWatch(tcp::socket& client) : m_state(std::make_shared<State>()) {
    m_state->client = &client;
    watch(m_state);
}

ClientWatch::~ClientWatch() {
    tcp::socket* client = m_state->client;
    m_state->client = nullptr;
    m_state->upstream = nullptr;
    m_state->timer = nullptr;
    boost::system::error_code ignored;
    if (client->is_open()) client->cancel(ignored);
}

void ClientWatch::interrupt(tcp::socket* upstream) {
    m_state->upstream = upstream;
}

void ClientWatch::interrupt(asio::steady_timer* timer) {
    m_state->timer = timer;
}

bool ClientWatch::gone() const {
    return m_state->gone_ns != 0;
}

long long ClientWatch::gone_ns() const {
    return m_state->gone_ns;
}

void ClientWatch::lost() {
    m_state->leave();
}

}  // namespace retrace::net
