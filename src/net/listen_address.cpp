#include "retrace/net/listen_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

namespace retrace::net {

Result<std::pair<std::string, int>> parse_listen(const std::string& listen) {
    auto colon = listen.rfind(':');
    std::string host = colon == std::string::npos ? "127.0.0.1" : listen.substr(0, colon);
    std::string port = colon == std::string::npos ? listen : listen.substr(colon + 1);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    if (host.empty() || port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) > 65535)
        return error(ErrorCode::invalid_input,
                     "--listen wants HOST:PORT, got '" + listen + "' (bad port: 0 to 65535)");
    return std::pair{host, std::stoi(port)};
}

bool is_loopback(const std::string& host) {
    in_addr v4{};
    in6_addr v6{};
    if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
    return inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

}  // namespace retrace::net
