#include "retrace/net/deadline.hpp"

#include <sys/socket.h>

namespace retrace::net {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

struct Deadline::State {
    explicit State(asio::ip::tcp::socket& s) : timer(s.get_executor()), socket(&s) {}
    asio::steady_timer timer;
    asio::ip::tcp::socket* socket;  // null once the Deadline is gone
    bool passed = false;
};

Deadline::Deadline(asio::ip::tcp::socket& socket) : m_state(std::make_shared<State>(socket)) {}

Deadline::~Deadline() {
    m_state->socket = nullptr;
    m_state->timer.cancel();
}

void Deadline::arm(Clock::duration after) {
    m_state->timer.expires_after(after);  // (cancels the wait of an earlier arm)
    m_state->timer.async_wait([state = m_state](const boost::system::error_code& ec) {
        // A wait that completed just before a re-arm or disarm finds its
        // expiry moved on and does nothing.
        if (ec || !state->socket || state->timer.expiry() > Clock::now()) return;
        state->passed = true;
        if (state->socket->is_open()) ::shutdown(state->socket->native_handle(), SHUT_RD);
    });
}

void Deadline::disarm() {
    m_state->timer.expires_at(Clock::time_point::max());
}

bool Deadline::passed() const {
    return m_state->passed;
}

}  // namespace retrace::net
