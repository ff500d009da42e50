// Pack archives: self-contained copies of runs with every blob they need,
// for moving a run to another machine. Format (docs/store-format.md): the
// line "retrace-pack/1\n", then one zstd frame (with content checksum) of
// records "<tag> <length>\n<bytes>\n": one "run" record (JSON) per run, one
// "blob" record ("<digest>\n<bytes>") per blob, and a final "end" record
// holding the SHA-256 of every byte before it.
#pragma once

#include <filesystem>
#include <functional>
#include <vector>

#include "retrace/store/store.hpp"

namespace retrace::store {

struct PackSummary {
    int runs = 0;
    int blobs = 0;
    long long bytes = 0;  // archive size
    int imported = 0;     // unpack: runs that were new to the store
};

// Only sealed runs can be packed; each is verified before it is written.
Result<PackSummary> write_pack(Store& store, const std::vector<std::string>& run_ids,
                               const std::filesystem::path& file);

struct PackLimits {
    // The most content (uncompressed) an archive may declare; its records
    // are read while they are decompressed, so memory stays near what the
    // runs themselves take, and a frame that inflates past what its header
    // declares is refused at that byte.
    std::size_t max_content = std::size_t{1} << 30;
};

// Reads and checks the whole archive and verifies every run in a scratch
// store; only then opens the target store (open_store) and imports in one
// transaction. A truncated or altered archive is refused (ErrorCode::corrupt)
// before the target store is even opened, so it is left unchanged.
Result<PackSummary> read_pack(const std::filesystem::path& file,
                              const std::function<Result<Store*>()>& open_store,
                              const PackLimits& limits = {});

}  // namespace retrace::store
