// Reading a pack's records while its zstd frame is being decompressed, so
// that an archive is never held whole (compressed and inflated) in memory
// and a decompression bomb is stopped at its first bad byte or at the size
// its header declares, whichever comes first.
#pragma once

#include <cstddef>
#include <istream>
#include <string>

#include "retrace/core/digest.hpp"
#include "retrace/core/result.hpp"

namespace retrace::store {

class PackStream {
  public:
    // in: positioned after the header; declared: the content size the
    // header gives (already checked against the ceiling).
    PackStream(std::istream& in, std::size_t declared);
    ~PackStream();
    PackStream(const PackStream&) = delete;
    PackStream& operator=(const PackStream&) = delete;

    struct Record {
        std::string tag;
        std::string value;
        // For an "end" record: the SHA-256 of every content byte before
        // its header (what it must hold).
        std::string digest_before;
    };
    // The next record "<tag> <length>\n<value>\n"; false at the end of the
    // content.
    Result<bool> next(Record& out);
    // After the last record: the frame is complete, its checksum holds and
    // it held exactly the declared size.
    Status finish();

  private:
    // Decompresses until at least n unread bytes are buffered; false when
    // the frame ends first.
    Result<bool> fill(std::size_t n);
    std::string take(std::size_t n);

    std::istream& m_in;
    std::size_t m_declared;
    std::size_t m_produced = 0;  // decompressed so far
    std::size_t m_consumed = 0;  // handed out as records so far
    std::string m_buf;           // decompressed, m_pos onwards unread
    std::size_t m_pos = 0;
    std::string m_input;  // compressed bytes read, m_in_pos onwards unused
    std::size_t m_in_pos = 0;
    bool m_frame_done = false;
    void* m_dctx;
    core::Sha256 m_sha;
};

}  // namespace retrace::store
