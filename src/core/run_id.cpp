#include "retrace/core/run_id.hpp"
#include "retrace/core/clock.hpp"
#include "retrace/core/digest.hpp"

#include <sys/random.h>

#include <cstring>
#include <stdexcept>

namespace retrace::core {

namespace {
constexpr char k_alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

int decode_char(char c) {
    const char* p = std::strchr(k_alphabet, c);
    return (p && c) ? static_cast<int>(p - k_alphabet) : -1;
}
}  // namespace

RunId RunId::make(std::uint64_t unix_ms, const std::uint8_t (&entropy)[10]) {
    // 128 bits = 48-bit time + 80-bit entropy, written as 26 base32 digits
    // (the first digit carries only 3 bits).
    std::uint8_t bytes[16];
    for (int i = 0; i < 6; ++i) bytes[i] = static_cast<std::uint8_t>(unix_ms >> (8 * (5 - i)));
    std::memcpy(bytes + 6, entropy, 10);
    std::string out(k_length, '0');
    for (std::size_t i = 0; i < k_length; ++i) {
        // Bit offset of digit i within the 130-bit big-endian number (2 leading zero bits).
        int value = 0;
        for (int b = 0; b < 5; ++b) {
            int bit = static_cast<int>(i) * 5 + b - 2;
            int v = bit < 0 ? 0 : (bytes[bit / 8] >> (7 - bit % 8)) & 1;
            value = value * 2 + v;
        }
        out[i] = k_alphabet[value];
    }
    return RunId(std::move(out));
}

RunId RunId::generate() {
    std::uint8_t entropy[10];
    if (getrandom(entropy, sizeof entropy, 0) != static_cast<ssize_t>(sizeof entropy))
        throw std::runtime_error("getrandom failed");
    auto ms = core::unix_now_ns() / 1000000;
    return make(static_cast<std::uint64_t>(ms), entropy);
}

bool RunId::is_id_prefix(std::string_view text) {
    if (text.empty() || text.size() > k_length) return false;
    for (char c : text)
        if (decode_char(c) < 0) return false;
    return text.size() < k_length || decode_char(text[0]) <= 7;
}

Result<RunId> RunId::parse(std::string_view text) {
    if (text.size() != k_length || !is_id_prefix(text))
        return error(ErrorCode::invalid_input, "not a run id: '" + std::string(text) + "'");
    return RunId(std::string(text));
}

std::uint64_t RunId::unix_ms() const {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 10; ++i)
        v = v * 32 + static_cast<std::uint64_t>(decode_char(m_text[i]));
    return v;
}

namespace {
bool is_w3c_id(std::string_view s, std::size_t digits) {
    if (s.size() != digits || s.find_first_not_of('0') == std::string_view::npos) return false;
    for (char c : s)
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
}
}  // namespace

bool is_trace_id(std::string_view text) {
    return is_w3c_id(text, 32);
}

bool is_span_id(std::string_view text) {
    return is_w3c_id(text, 16);
}

std::string trace_id_of(std::string_view run_id) {
    return Digest::of(run_id).hex().substr(0, 32);
}

}  // namespace retrace::core
