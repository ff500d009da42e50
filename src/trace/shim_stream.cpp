#include "retrace/trace/shim_stream.hpp"

#include <cstdint>

namespace retrace::trace {

namespace {

bool read_varint(std::string_view data, std::size_t& at, std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64 && at < data.size(); shift += 7) {
        auto b = static_cast<unsigned char>(data[at++]);
        v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
        if (!(b & 0x80)) return true;
    }
    return false;
}

void put_varint(std::string& out, std::uint64_t v) {
    for (; v >= 0x80; v >>= 7) out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    out.push_back(static_cast<char>(v));
}

}  // namespace

ShimHeader read_shim_header(std::string_view data) {
    ShimHeader out;
    if (data.empty() || data[0] != 'H') return out;
    std::size_t at = 1;
    std::uint64_t n = 0;
    if (!read_varint(data, at, n) || n > data.size() - at) n = data.size() - at;  // cut short
    out.command = std::string(data.substr(at, n));
    out.values_at = at + n;
    return out;
}

ShimValues read_shim_stream(std::string_view data) {
    ShimValues out;
    ShimHeader header = read_shim_header(data);
    out.command = std::move(header.command);
    std::size_t at = header.values_at;
    std::uint64_t n = 0;
    long long last = 0;
    while (at < data.size()) {
        char tag = data[at++];
        if (tag == 'C' && read_varint(data, at, n)) {
            // (zigzag: the low bit is the sign)
            long long d = static_cast<long long>(n >> 1) ^ -static_cast<long long>(n & 1);
            last = static_cast<long long>(static_cast<std::uint64_t>(last) +
                                          static_cast<std::uint64_t>(d));
            out.clock.push_back(last);
        } else if (tag == 'R' && read_varint(data, at, n) && n <= data.size() - at) {
            out.draws.emplace_back(data.substr(at, n));
            at += n;
        } else {
            out.complete = false;
            break;
        }
    }
    return out;
}

std::string shim_header(std::string_view command) {
    std::string out = "H";
    put_varint(out, command.size());
    out.append(command);
    return out;
}

}  // namespace retrace::trace
