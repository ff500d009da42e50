#include "retrace/net/receive_time.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace retrace::net {

namespace asio = boost::asio;

void stamp_arrivals(int fd) {
    int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
}

namespace {

enum class Peek { stamped, unstamped, empty };

// One look at the head of the receive queue, without waiting or reading.
Peek peek(int fd, long long& ns) {
    char byte = 0;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
    iovec io{&byte, 1};
    msghdr m{};
    m.msg_iov = &io;
    m.msg_iovlen = 1;
    m.msg_control = control;
    m.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(fd, &m, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return Peek::empty;
    if (n <= 0) return Peek::unstamped;  // the end, or an error: the read reports it
    for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            timespec t{};
            std::memcpy(&t, CMSG_DATA(c), sizeof t);
            ns = static_cast<long long>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
            return Peek::stamped;
        }
    }
    return Peek::unstamped;
}

}  // namespace

std::optional<long long> unread_since(int fd) {
    long long ns = 0;
    if (peek(fd, ns) == Peek::stamped) return ns;
    return std::nullopt;
}

asio::awaitable<std::optional<long long>> receive_time(asio::ip::tcp::socket& socket) {
    for (;;) {
        if (!socket.is_open()) co_return std::nullopt;
        long long ns = 0;
        switch (peek(socket.native_handle(), ns)) {
            case Peek::stamped:
                co_return ns;
            case Peek::unstamped:
                co_return std::nullopt;
            case Peek::empty:
                break;
        }
        boost::system::error_code ec;
        co_await socket.async_wait(asio::socket_base::wait_read,
                                   asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return std::nullopt;
    }
}

}  // namespace retrace::net
