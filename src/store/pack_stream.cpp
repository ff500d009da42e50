#include "pack_stream.hpp"

#include <zstd.h>

#include <algorithm>
#include <charconv>

namespace retrace::store {

namespace {

constexpr std::size_t k_header_max = 64;  // "<tag> <length>\n": a short tag, a number

ZSTD_DCtx* dctx(void* p) {
    return static_cast<ZSTD_DCtx*>(p);
}

}  // namespace

PackStream::PackStream(std::istream& in, std::size_t declared)
    : m_in(in), m_declared(declared), m_dctx(ZSTD_createDCtx()) {}

PackStream::~PackStream() {
    ZSTD_freeDCtx(dctx(m_dctx));
}

Result<bool> PackStream::fill(std::size_t n) {
    while (m_buf.size() - m_pos < n) {
        if (m_frame_done) return false;
        if (m_in_pos == m_input.size()) {
            m_input.resize(ZSTD_DStreamInSize());
            m_in.read(m_input.data(), static_cast<std::streamsize>(m_input.size()));
            m_input.resize(static_cast<std::size_t>(m_in.gcount()));
            m_in_pos = 0;
            if (m_input.empty())
                return error(ErrorCode::corrupt, "the compressed data ends before its frame does");
        }
        // (what was handed out is dropped before the buffer grows)
        if (m_pos > 0 && m_pos >= m_buf.size() / 2) {
            m_buf.erase(0, m_pos);
            m_pos = 0;
        }
        std::size_t room = ZSTD_DStreamOutSize();
        std::size_t old = m_buf.size();
        m_buf.resize(old + room);
        ZSTD_inBuffer input{m_input.data(), m_input.size(), m_in_pos};
        ZSTD_outBuffer output{m_buf.data() + old, room, 0};
        std::size_t rc = ZSTD_decompressStream(dctx(m_dctx), &output, &input);
        m_buf.resize(old + output.pos);
        m_in_pos = input.pos;
        if (ZSTD_isError(rc))
            return error(ErrorCode::corrupt, std::string("zstd: ") + ZSTD_getErrorName(rc));
        m_produced += output.pos;
        if (m_produced > m_declared)
            return error(ErrorCode::corrupt, "the content inflates beyond the " +
                                                 std::to_string(m_declared) +
                                                 " bytes its header declares");
        if (rc == 0) m_frame_done = true;
    }
    return true;
}

std::string PackStream::take(std::size_t n) {
    std::string out = m_buf.substr(m_pos, n);
    m_sha.update(out);
    m_pos += n;
    m_consumed += n;
    return out;
}

Result<bool> PackStream::next(Record& out) {
    // The header line: found within its bound, or the content is not records.
    std::size_t nl = std::string::npos;
    for (std::size_t want = 1;; ++want) {
        RETRACE_ASSIGN(bool more, fill(want));
        if (!more) {
            if (want == 1) return false;
            return error(ErrorCode::corrupt, "malformed record header");
        }
        if (m_buf[m_pos + want - 1] == '\n') {
            nl = want - 1;
            break;
        }
        if (want == k_header_max) return error(ErrorCode::corrupt, "malformed record header");
    }
    std::string_view header(m_buf.data() + m_pos, nl);
    std::size_t space = header.find(' ');
    std::size_t len = 0;
    auto digits = header.substr(space == std::string_view::npos ? nl : space + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), len);
    if (space == std::string_view::npos || space == 0 || ec != std::errc() ||
        end != digits.data() + digits.size() || digits.empty())
        return error(ErrorCode::corrupt, "malformed record header");
    out.tag = std::string(header.substr(0, space));
    // A length beyond what the header declares is refused before anything
    // is allocated for it.
    if (len > m_declared - m_consumed - nl - 1)
        return error(ErrorCode::corrupt, "record '" + out.tag + "' is truncated");
    // (the end record is the last: the running digest can stop there)
    out.digest_before = out.tag == "end" ? m_sha.finish().to_string() : std::string();
    (void)take(nl + 1);
    RETRACE_ASSIGN(bool whole, fill(len + 1));
    if (!whole || m_buf[m_pos + len] != '\n')
        return error(ErrorCode::corrupt, "record '" + out.tag + "' is truncated");
    out.value = take(len);
    (void)take(1);
    return true;
}

Status PackStream::finish() {
    RETRACE_ASSIGN(bool more, fill(1));
    if (more) return error(ErrorCode::corrupt, "trailing data after end record");
    if (m_produced != m_declared)
        return error(ErrorCode::corrupt, "the content is " + std::to_string(m_produced) +
                                             " bytes, not the " + std::to_string(m_declared) +
                                             " its header declares");
    if (m_in_pos != m_input.size() || m_in.peek() != std::char_traits<char>::eof())
        return error(ErrorCode::corrupt, "trailing data after the compressed frame");
    return Status::ok();
}

}  // namespace retrace::store
