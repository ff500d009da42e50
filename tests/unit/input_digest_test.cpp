// Content digests of --input paths (capture/input_digest.hpp): the file and
// tree schemes of docs/identity.md, errors, and the stat cache, including
// the racy rule that keeps it from hiding a same-size, same-mtime rewrite.
#include "retrace/conditions/input_digest.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "retrace/core/hasher.hpp"
#include "test_support.hpp"

namespace retrace::conditions {

namespace {

namespace fs = std::filesystem;
using core::Digest;
using core::TaggedHasher;
using test::write_file;

// A StatCache in memory that counts what digest_path asks of it. It trusts
// every matching key: the racy rule under test is digest_path's.
class MemoryCache : public StatCache {
  public:
    std::optional<Digest> lookup(const fs::path& path, const StatKey& key) override {
        std::lock_guard lock(m_mutex);
        ++lookups;
        auto it = m_entries.find(path.string());
        if (it == m_entries.end() || !(it->second.first == key)) return std::nullopt;
        ++hits;
        return it->second.second;
    }
    void store(const fs::path& path, const StatKey& key, const Digest& digest) override {
        std::lock_guard lock(m_mutex);
        ++stores;
        m_entries[path.string()] = {key, digest};
    }
    int lookups = 0, hits = 0, stores = 0;

  private:
    std::mutex m_mutex;
    std::map<std::string, std::pair<StatKey, Digest>> m_entries;
};

// Counts the answers of another cache (the SQLite one).
class CountingCache : public StatCache {
  public:
    explicit CountingCache(std::unique_ptr<StatCache> inner) : m_inner(std::move(inner)) {}
    std::optional<Digest> lookup(const fs::path& path, const StatKey& key) override {
        auto hit = m_inner->lookup(path, key);
        std::lock_guard lock(m_mutex);
        (hit ? hits : misses)++;
        return hit;
    }
    void store(const fs::path& path, const StatKey& key, const Digest& digest) override {
        m_inner->store(path, key, digest);
    }
    void flush() override { m_inner->flush(); }
    int hits = 0, misses = 0;

  private:
    std::mutex m_mutex;
    std::unique_ptr<StatCache> m_inner;
};

struct timespec mtime_of(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(lstat(p.c_str(), &st), 0) << p;
    return st.st_mtim;
}

void set_mtime(const fs::path& p, struct timespec mtime) {
    struct timespec times[2] = {{0, UTIME_OMIT}, mtime};
    ASSERT_EQ(utimensat(AT_FDCWD, p.c_str(), times, AT_SYMLINK_NOFOLLOW), 0) << p;
}

// Sets mtime to `seconds` ago (ctime becomes now: it cannot be set).
void age(const fs::path& p, int seconds = 3600) {
    struct timespec now {};
    clock_gettime(CLOCK_REALTIME, &now);
    now.tv_sec -= seconds;
    set_mtime(p, now);
}

// The key the cache is given, computed here independently.
StatKey key_of(const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(lstat(p.c_str(), &st), 0);
    return {static_cast<std::uint64_t>(st.st_size),
            st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec,
            st.st_ctim.tv_sec * 1'000'000'000LL + st.st_ctim.tv_nsec,
            static_cast<std::uint64_t>(st.st_ino), static_cast<std::uint64_t>(st.st_dev)};
}

Digest sha(const std::string& s) {
    return Digest::of(s);
}

// docs/identity.md, written out independently of the implementation:
// recursive, single-threaded, std::filesystem only.
Digest reference_digest(const fs::path& dir) {
    std::vector<fs::directory_entry> entries(fs::directory_iterator(dir), {});
    std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
        return a.path().filename().string() < b.path().filename().string();
    });
    TaggedHasher h("retrace.tree/1");
    for (const auto& e : entries) {
        std::string name = e.path().filename().string();
        auto st = e.symlink_status();
        if (fs::is_symlink(st)) {
            Digest d = TaggedHasher("retrace.symlink/1")
                           .field("target", fs::read_symlink(e.path()).string())
                           .digest();
            h.field("entry", "symlink " + name + " " + d.to_string());
        } else if (fs::is_directory(st)) {
            h.field("entry", "dir " + name + " " + reference_digest(e.path()).to_string());
        } else {
            bool exec = (st.permissions() & fs::perms::owner_exec) != fs::perms::none;
            h.field("entry", (exec ? "exec " : "file ") + name + " " +
                                 sha(test::read_file(e.path())).to_string());
        }
    }
    return h.digest();
}

class InputDigest : public ::testing::Test {
  protected:
    fs::path at(const std::string& rel) const { return m_dir.path() / rel; }
    Digest digest(const fs::path& p, StatCache* cache = nullptr) {
        auto d = digest_path(p, cache);
        EXPECT_TRUE(d.is_ok()) << d.status().message();
        return d.is_ok() ? d->digest : Digest();
    }
    test::TempDir m_dir;  // mkdtemp under temp_directory_path, removed after
};

TEST_F(InputDigest, FileIsPlainSha256OfItsBytes) {
    write_file(at("abc"), "abc");
    auto d = digest_path(at("abc"), nullptr);
    ASSERT_TRUE(d.is_ok()) << d.status().message();
    EXPECT_EQ(d->digest.to_string(),
              "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(d->kind, "file");
    EXPECT_EQ(d->files, 1u);
    EXPECT_EQ(d->bytes, 3u);
    write_file(at("empty"), "");
    EXPECT_EQ(digest(at("empty")).to_string(),
              "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST_F(InputDigest, LargeFilesMatchAcrossReadSizesAndTheReaderThread) {
    std::mt19937_64 rng(1);
    // Not multiples of any buffer size; the second is big enough to be read
    // on a reader thread (64 MiB and up).
    for (std::size_t size : {(3u << 20) + 17, (64u << 20) + 12345}) {
        std::string data(size, '\0');
        for (std::size_t i = 0; i + 8 <= size; i += 8) {
            std::uint64_t v = rng();
            std::memcpy(data.data() + i, &v, 8);
        }
        write_file(at("big"), data);
        auto d = digest_path(at("big"), nullptr);
        ASSERT_TRUE(d.is_ok()) << d.status().message();
        EXPECT_EQ(d->digest, sha(data)) << size;
        EXPECT_EQ(d->bytes, size);
    }
}

TEST_F(InputDigest, TopLevelSymlinkIsFollowed) {
    write_file(at("data/f"), "content");
    fs::create_symlink(at("data/f"), at("link-to-file"));
    fs::create_symlink(at("data"), at("link-to-dir"));
    auto f = digest_path(at("link-to-file"), nullptr);
    ASSERT_TRUE(f.is_ok());
    EXPECT_EQ(f->kind, "file");
    EXPECT_EQ(f->digest, sha("content"));
    EXPECT_EQ(digest(at("link-to-dir")), digest(at("data")));
    EXPECT_EQ(digest(at("data/")), digest(at("data")));
}

TEST_F(InputDigest, TreeFollowsTheDocumentedScheme) {
    write_file(at("t/a"), "x");
    write_file(at("t/B"), "y");
    write_file(at("t/\xc3\xa9"), "z");  // bytes 0xc3 0xa9 sort after ASCII
    write_file(at("t/sub/run.sh"), "#!/bin/sh\n");
    fs::permissions(at("t/sub/run.sh"), fs::perms::owner_exec, fs::perm_options::add);
    fs::create_directory(at("t/sub/empty"));
    fs::create_symlink("../a", at("t/sub/link"));
    auto link = TaggedHasher("retrace.symlink/1").field("target", "../a").digest();
    auto empty = TaggedHasher("retrace.tree/1").digest();
    auto sub = TaggedHasher("retrace.tree/1")
                   .field("entry", "dir empty " + empty.to_string())
                   .field("entry", "symlink link " + link.to_string())
                   .field("entry", "exec run.sh " + sha("#!/bin/sh\n").to_string())
                   .digest();
    auto tree = TaggedHasher("retrace.tree/1")
                    .field("entry", "file B " + sha("y").to_string())
                    .field("entry", "file a " + sha("x").to_string())
                    .field("entry", "dir sub " + sub.to_string())
                    .field("entry", "file \xc3\xa9 " + sha("z").to_string())
                    .digest();
    auto d = digest_path(at("t"), nullptr);
    ASSERT_TRUE(d.is_ok()) << d.status().message();
    EXPECT_EQ(d->digest, tree);
    EXPECT_EQ(d->kind, "dir");
    EXPECT_EQ(d->files, 4u);
    EXPECT_EQ(d->bytes, 1u + 1 + 1 + 10);
    EXPECT_EQ(digest(at("t/sub/empty")), empty);
}

TEST_F(InputDigest, TreeIsStableAndIndependentOfCreationOrder) {
    const std::vector<std::pair<std::string, std::string>> files = {
        {"a.txt", "alpha"}, {"sub/b.txt", "beta"}, {"sub/deeper/c.txt", "gamma"}, {"z", ""}};
    for (const auto& [name, body] : files) write_file(at("one/" + name), body);
    for (auto it = files.rbegin(); it != files.rend(); ++it)
        write_file(at("two/" + it->first), it->second);
    auto first = digest(at("one"));
    EXPECT_EQ(digest(at("one")), first);
    EXPECT_EQ(digest(at("two")), first);
    EXPECT_EQ(first, reference_digest(at("one")));
}

TEST_F(InputDigest, EveryKindOfChangeChangesTheTree) {
    write_file(at("t/a.txt"), "alpha");
    write_file(at("t/sub/b.txt"), "beta");
    std::vector<Digest> seen = {digest(at("t"))};
    write_file(at("t/sub/b.txt"), "betA");  // one byte
    seen.push_back(digest(at("t")));
    fs::rename(at("t/sub/b.txt"), at("t/sub/c.txt"));
    seen.push_back(digest(at("t")));
    fs::create_directory(at("t/empty"));
    seen.push_back(digest(at("t")));
    fs::permissions(at("t/a.txt"), fs::perms::owner_exec, fs::perm_options::add);  // chmod +x
    seen.push_back(digest(at("t")));
    for (std::size_t i = 0; i < seen.size(); ++i)
        for (std::size_t j = i + 1; j < seen.size(); ++j) EXPECT_NE(seen[i], seen[j]) << i << j;
}

TEST_F(InputDigest, SymlinksInsideATreeAreRecordedNotFollowed) {
    write_file(at("t/a.txt"), "alpha");
    fs::create_symlink("a.txt", at("t/link"));
    auto as_link = digest(at("t"));
    fs::remove(at("t/link"));
    write_file(at("t/link"), "alpha");  // same content as a file: different tree
    EXPECT_NE(digest(at("t")), as_link);
    fs::remove(at("t/link"));
    fs::create_symlink("a.txt", at("t/link"));
    EXPECT_EQ(digest(at("t")), as_link);
    write_file(at("t/a.txt"), "ALPHA");  // the target's content does not count...
    fs::remove(at("t/link"));
    fs::create_symlink("a.txt", at("t/link"));
    EXPECT_EQ(digest(at("t")), reference_digest(at("t")));
    fs::create_symlink("/nonexistent/target", at("t/dangling"));  // ...nor its existence
    EXPECT_EQ(digest(at("t")), reference_digest(at("t")));
}

TEST_F(InputDigest, SpecialFilesAndMissingPathsAreIoErrorsNamingThePath) {
    write_file(at("t/a.txt"), "alpha");
    ASSERT_EQ(mkfifo(at("t/pipe").c_str(), 0600), 0);
    auto fifo = digest_path(at("t"), nullptr);
    ASSERT_FALSE(fifo.is_ok());
    EXPECT_EQ(fifo.status().code(), ErrorCode::io);
    EXPECT_NE(fifo.status().message().find(at("t/pipe").string()), std::string::npos)
        << fifo.status().message();
    auto top = digest_path(at("t/pipe"), nullptr);
    ASSERT_FALSE(top.is_ok());
    EXPECT_NE(top.status().message().find("pipe"), std::string::npos);
    auto missing = digest_path(at("nope"), nullptr);
    ASSERT_FALSE(missing.is_ok());
    EXPECT_EQ(missing.status().code(), ErrorCode::io);
    EXPECT_NE(missing.status().message().find(at("nope").string()), std::string::npos)
        << missing.status().message();
}

TEST_F(InputDigest, ParallelWalkMatchesTheReferenceOnAWideAndDeepTree) {
    std::mt19937 rng(7);
    std::string deep = "t";
    for (int i = 0; i < 30; ++i) deep += "/d" + std::to_string(i);
    write_file(at(deep + "/leaf"), "bottom");
    for (int i = 0; i < 600; ++i) {
        std::string name = "t/w" + std::to_string(i % 23) + "/x" + std::to_string(i % 7) + "/f " +
                           std::to_string(i) + (i % 50 == 0 ? "\nnl" : "");
        write_file(at(name), std::string(rng() % 3000, static_cast<char>('a' + i % 26)));
    }
    MemoryCache cache;
    auto d = digest_path(at("t"), &cache);
    ASSERT_TRUE(d.is_ok()) << d.status().message();
    EXPECT_EQ(d->digest, reference_digest(at("t")));
    EXPECT_EQ(d->files, 601u);
    EXPECT_EQ(cache.lookups, 601);
}

TEST_F(InputDigest, CacheAnswersForOldFilesSoTheyAreNotRead) {
    for (auto* f : {"t/a", "t/sub/b", "t/sub/c"}) {
        write_file(at(f), f);
        age(at(f));
    }
    MemoryCache cache;
    auto first = digest(at("t"), &cache);
    EXPECT_EQ(cache.lookups, 3);
    EXPECT_EQ(cache.hits, 0);
    EXPECT_EQ(cache.stores, 3);
    EXPECT_EQ(digest(at("t"), &cache), first);
    EXPECT_EQ(cache.hits, 3);
    EXPECT_EQ(cache.stores, 3);  // nothing was hashed again
}

TEST_F(InputDigest, RacyDigestsAreNotCachedSoSameSizeSameMtimeRewritesAreSeen) {
    // Written just now: a rewrite within the same timestamp tick could leave
    // size and mtime unchanged, so digest_path caches neither digest...
    write_file(at("f"), "aaaa");
    write_file(at("t/g"), "cccc");
    auto f_mtime = mtime_of(at("f")), g_mtime = mtime_of(at("t/g"));
    MemoryCache cache;  // trusts whatever matches
    EXPECT_EQ(digest(at("f"), &cache), sha("aaaa"));
    auto tree = digest(at("t"), &cache);
    EXPECT_EQ(cache.stores, 0);
    // ...and same-size rewrites with the old mtimes put back are seen.
    write_file(at("f"), "bbbb");
    write_file(at("t/g"), "dddd");
    set_mtime(at("f"), f_mtime);
    set_mtime(at("t/g"), g_mtime);
    EXPECT_EQ(digest(at("f"), &cache), sha("bbbb"));
    EXPECT_NE(digest(at("t"), &cache), tree);
    EXPECT_EQ(cache.hits, 0);
    EXPECT_EQ(digest(at("t"), &cache), reference_digest(at("t")));
}

TEST_F(InputDigest, SqliteCacheRefusesRacyEntriesAndTrustsOthers) {
    // Plant a wrong digest under the file's exact current key: if the entry
    // is used, the planted digest comes back.
    write_file(at("fresh"), "fresh");
    write_file(at("old"), "old");
    age(at("old"));
    auto bogus = sha("bogus");
    auto cache = open_stat_cache(at("cache/stat.db"));
    for (auto* f : {"fresh", "old"})
        cache->store(fs::weakly_canonical(at(f)), key_of(at(f)), bogus);
    // Stored within 2 s of the file's mtime: racy, never trusted.
    EXPECT_EQ(digest(at("fresh"), cache.get()), sha("fresh"));
    // Modified an hour before it was stored: trusted, the file is not read.
    EXPECT_EQ(digest(at("old"), cache.get()), bogus);
}

TEST_F(InputDigest, ContentEditsWithRestoredMtimeChangeCtimeSoTrustedEntriesStopMatching) {
    write_file(at("t/f"), "aaaa");
    age(at("t/f"));  // not racy: the entry will be stored and trusted
    auto mtime = mtime_of(at("t/f"));
    CountingCache cache(open_stat_cache(at("stat.db")));
    auto before = digest(at("t"), &cache);
    EXPECT_EQ(digest(at("t"), &cache), before);
    EXPECT_EQ(cache.hits, 1);
    // Same size, mtime put back: only ctime, which no one can set, tells.
    // (Kernels before 6.13 take ctime from a coarse clock: let it tick.)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    write_file(at("t/f"), "bbbb");
    set_mtime(at("t/f"), mtime);
    EXPECT_NE(digest(at("t"), &cache), before);
    EXPECT_EQ(cache.hits, 1);
    write_file(at("expected/f"), "bbbb");
    EXPECT_EQ(digest(at("t"), &cache), digest(at("expected")));
}

TEST_F(InputDigest, CacheFilePersistsAcrossOpens) {
    for (auto* f : {"t/a", "t/b", "t/sub/c"}) {
        write_file(at(f), f);
        age(at(f));
    }
    auto file = at("store/cache/stat.db");  // parent directories are created
    Digest first;
    {
        CountingCache cache(open_stat_cache(file));
        first = digest(at("t"), &cache);
        EXPECT_EQ(cache.misses, 3);
        cache.flush();
    }
    CountingCache cache(open_stat_cache(file));
    EXPECT_EQ(digest(at("t"), &cache), first);
    EXPECT_EQ(cache.hits, 3);
    EXPECT_EQ(cache.misses, 0);

    // The documented table, in WAL mode, keyed by absolute paths.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* q = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db,
                                 "SELECT path, size, mtime_ns, ctime_ns, inode, device, digest, "
                                 "cached_at_ns FROM stat_cache ORDER BY path",
                                 -1, &q, nullptr),
              SQLITE_OK);
    ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
    auto a = fs::weakly_canonical(at("t/a"));
    EXPECT_EQ(reinterpret_cast<const char*>(sqlite3_column_text(q, 0)), a.string());
    EXPECT_EQ(sqlite3_column_int64(q, 1), 3);
    EXPECT_EQ(reinterpret_cast<const char*>(sqlite3_column_text(q, 6)), sha("t/a").to_string());
    EXPECT_GT(sqlite3_column_int64(q, 7), sqlite3_column_int64(q, 2));
    sqlite3_finalize(q);
    ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
    EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(q, 0)), "wal");
    sqlite3_finalize(q);
    sqlite3_close(db);
}

TEST_F(InputDigest, SharedCacheIsThreadSafe) {
    for (int i = 0; i < 200; ++i) {
        write_file(at("t/d" + std::to_string(i % 9) + "/f" + std::to_string(i)), "x");
        age(at("t/d" + std::to_string(i % 9) + "/f" + std::to_string(i)));
    }
    auto cache = open_stat_cache(at("stat.db"));
    std::vector<Digest> results(4);
    {
        std::vector<std::jthread> threads;
        for (auto& r : results) threads.emplace_back([&] { r = digest(at("t"), cache.get()); });
    }
    for (const auto& r : results) EXPECT_EQ(r, reference_digest(at("t")));
}

TEST(InputDigestCache, UnusableCacheFileDegradesToNoCache) {
    auto cache = open_stat_cache("/proc/no/such/dir/stat.db");
    ASSERT_NE(cache, nullptr);
    EXPECT_FALSE(cache->lookup("/x", StatKey{}).has_value());
    test::TempDir dir;
    write_file(dir.path() / "f", "abc");
    auto d = digest_path(dir.path() / "f", cache.get());
    ASSERT_TRUE(d.is_ok());
    EXPECT_EQ(d->digest, Digest::of("abc"));
    cache->flush();
}

}  // namespace
}  // namespace retrace::conditions
