// The stat cache behind --input digests: what a file's digest was computed
// under, so that an unchanged file costs one stat. It lives beside the
// store (<store>/cache/stat.db, StoreOpener::stat_cache()); it belongs to
// the machine, not to the runs, and is never part of a run's record.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>

#include "retrace/core/digest.hpp"

namespace retrace::store {

// What a cached digest was computed under. A file whose stat data still
// matches is assumed unchanged, except when it was modified in the same
// timestamp tick as the cache entry was written (git's racy rule): so
// digest_path never stores the digest of a file modified less than 2 s
// before it started, and the SQLite cache also refuses such entries.
// A content edit with the old mtime put back still changes ctime.
struct StatKey {
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;
    std::int64_t ctime_ns = 0;
    std::uint64_t inode = 0;
    std::uint64_t device = 0;
    friend bool operator==(const StatKey&, const StatKey&) = default;
};

// Called with weakly canonical absolute paths, from several threads at once.
class StatCache {
  public:
    virtual ~StatCache() = default;
    virtual std::optional<core::Digest> lookup(const std::filesystem::path& path,
                                               const StatKey& key) = 0;
    virtual void store(const std::filesystem::path& path, const StatKey& key,
                       const core::Digest& digest) = 0;
    virtual void flush() {}
};

// A cache kept in an SQLite file (<store>/cache/stat.db; WAL mode),
// loaded into memory at open and written back in one transaction by flush()
// and by the destructor. An entry whose file was
// modified within 2 s of the moment it was hashed is "racy" (the file may
// have changed again within the same timestamp tick) and is never trusted.
// Failing to open or write the file never fails a digest; it just costs reads.
// Thread safe.
std::unique_ptr<StatCache> open_stat_cache(const std::filesystem::path& file);

}  // namespace retrace::store
