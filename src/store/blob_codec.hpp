// Blob encoding: zstd frames with a content checksum, so a flipped byte in a
// stored blob fails decoding before its digest is even checked.
#pragma once

#include <string>
#include <string_view>

#include "retrace/core/result.hpp"

namespace retrace::store {

std::string zstd_compress(std::string_view data, int level = 3);
// expected_size: the recorded uncompressed size (bounds the allocation).
Result<std::string> zstd_decompress(std::string_view frame, std::size_t expected_size);
// A blob's bytes from what a store keeps: its codec ("raw" or "zstd"),
// the stored data and the recorded size. corrupt, naming the digest, when
// they disagree.
Result<std::string> decode_blob(const std::string& digest, std::string_view codec,
                                std::string_view data, std::size_t size);

}  // namespace retrace::store
