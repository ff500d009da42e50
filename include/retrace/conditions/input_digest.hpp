// Content digests of declared inputs and outputs (files and directory trees).
//
// A file's digest is the plain SHA-256 of its bytes (so it matches sha256sum).
// A directory's digest is a Merkle digest over its entries sorted by name
// bytes (see docs/identity.md). A stat cache makes re-identifying an
// unchanged tree cost one stat per file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>

#include "retrace/core/digest.hpp"
#include "retrace/core/result.hpp"
#include "retrace/store/stat_cache.hpp"

namespace retrace::conditions {

// The stat cache (store/stat_cache.hpp) lets an unchanged file cost a stat.
using store::open_stat_cache;
using store::StatCache;
using store::StatKey;

struct InputDigest {
    core::Digest digest;
    std::string kind;         // "file" or "dir" (a symlink given is followed)
    std::uint64_t files = 0;  // regular files covered
    std::uint64_t bytes = 0;  // their total size
};

// Digest of a file or directory tree; a symlink given here is followed (one
// inside a tree is recorded as a link). A tree is walked and its files are
// hashed on all cores. cache may be null. Errors name the path
// (ErrorCode::io), including sockets, FIFOs and devices.
Result<InputDigest> digest_path(const std::filesystem::path& path, StatCache* cache);

}  // namespace retrace::conditions
