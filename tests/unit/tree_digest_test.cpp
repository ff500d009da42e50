// Content digests of --input files and trees, and the stat cache.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>

#include "retrace/conditions/input_digest.hpp"
#include "test_support.hpp"

namespace retrace::conditions {

namespace {

namespace fs = std::filesystem;

// Counts how often the cache answered; forwards to a real cache file.
class CountingCache : public StatCache {
  public:
    explicit CountingCache(std::unique_ptr<StatCache> inner) : m_inner(std::move(inner)) {}
    std::optional<core::Digest> lookup(const fs::path& p, const StatKey& k) override {
        auto r = m_inner->lookup(p, k);
        (r ? hits : misses)++;
        return r;
    }
    void store(const fs::path& p, const StatKey& k, const core::Digest& d) override {
        m_inner->store(p, k, d);
    }
    void flush() override { m_inner->flush(); }
    int hits = 0, misses = 0;

  private:
    std::unique_ptr<StatCache> m_inner;
};

void age(const fs::path& p, int seconds) {
    struct timespec times[2];
    clock_gettime(CLOCK_REALTIME, &times[0]);
    times[0].tv_sec -= seconds;
    times[1] = times[0];
    ASSERT_EQ(utimensat(AT_FDCWD, p.c_str(), times, AT_SYMLINK_NOFOLLOW), 0);
}

class TreeDigest : public ::testing::Test {
  protected:
    void SetUp() override {
        test::write_file(tree() / "a.txt", "alpha");
        test::write_file(tree() / "sub" / "b.txt", "beta");
        test::write_file(tree() / "sub" / "c.txt", "gamma");
    }
    fs::path tree() const { return m_dir.path() / "tree"; }
    core::Digest digest(StatCache* cache = nullptr) {
        auto d = digest_path(tree(), cache);
        EXPECT_TRUE(d.is_ok()) << d.status().message();
        return d->digest;
    }
    test::TempDir m_dir;
};

TEST(FileDigest, IsPlainSha256) {
    test::TempDir dir;
    test::write_file(dir.path() / "f", "abc");
    auto d = digest_path(dir.path() / "f", nullptr);
    ASSERT_TRUE(d.is_ok());
    EXPECT_EQ(d->digest.to_string(),
              "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(d->kind, "file");
    EXPECT_EQ(d->bytes, 3u);
}

TEST_F(TreeDigest, StableAndIndependentOfCreationOrder) {
    auto a = digest();
    EXPECT_EQ(a, digest());
    test::TempDir other;
    test::write_file(other.path() / "tree" / "sub" / "c.txt", "gamma");
    test::write_file(other.path() / "tree" / "a.txt", "alpha");
    test::write_file(other.path() / "tree" / "sub" / "b.txt", "beta");
    EXPECT_EQ(digest_path(other.path() / "tree", nullptr)->digest, a);
    auto info = digest_path(tree(), nullptr);
    EXPECT_EQ(info->files, 3u);
    EXPECT_EQ(info->bytes, 14u);
}

TEST_F(TreeDigest, EveryKindOfChangeChangesIt) {
    auto base = digest();
    test::write_file(tree() / "sub" / "b.txt", "betA");
    auto byte = digest();
    EXPECT_NE(byte, base);
    fs::rename(tree() / "sub" / "b.txt", tree() / "sub" / "B.txt");
    auto renamed = digest();
    EXPECT_NE(renamed, byte);
    fs::create_directory(tree() / "empty");
    auto with_dir = digest();
    EXPECT_NE(with_dir, renamed);
    fs::permissions(tree() / "a.txt", fs::perms::owner_exec, fs::perm_options::add);
    EXPECT_NE(digest(), with_dir);
}

TEST_F(TreeDigest, SymlinksInsideAreRecordedAsLinks) {
    auto base = digest();
    fs::create_symlink("a.txt", tree() / "link");
    auto with_link = digest();
    EXPECT_NE(with_link, base);
    fs::remove(tree() / "link");
    fs::create_symlink("sub/b.txt", tree() / "link");
    EXPECT_NE(digest(), with_link);  // the target text is what counts
}

TEST_F(TreeDigest, SpecialFilesAndMissingPathsAreErrorsNamingThePath) {
    ASSERT_EQ(mkfifo((tree() / "pipe").c_str(), 0600), 0);
    auto fifo = digest_path(tree(), nullptr);
    ASSERT_FALSE(fifo.is_ok());
    EXPECT_NE(fifo.status().message().find("pipe"), std::string::npos);
    auto missing = digest_path(m_dir.path() / "nope", nullptr);
    ASSERT_FALSE(missing.is_ok());
    EXPECT_EQ(missing.status().code(), ErrorCode::io);
    EXPECT_NE(missing.status().message().find("nope"), std::string::npos);
}

TEST_F(TreeDigest, CacheIsUsedAndPersists) {
    for (auto* f : {"a.txt", "sub/b.txt", "sub/c.txt"}) age(tree() / f, 3600);
    auto file = m_dir.path() / "cache" / "stat.db";
    core::Digest first;
    {
        CountingCache cache(open_stat_cache(file));
        first = digest(&cache);
        EXPECT_EQ(cache.hits, 0);
        EXPECT_EQ(cache.misses, 3);
        cache.flush();
    }
    CountingCache cache(open_stat_cache(file));
    EXPECT_EQ(digest(&cache), first);
    EXPECT_EQ(cache.hits, 3);
    // An edit changes size/mtime/ctime, so the entry stops matching.
    test::write_file(tree() / "a.txt", "ALPHA");
    age(tree() / "a.txt", 3600);
    EXPECT_NE(digest(&cache), first);
    EXPECT_EQ(cache.hits, 5);
}

TEST_F(TreeDigest, RacyEntriesAreNeverTrusted) {
    // Files modified just now: an entry taken in the same instant may hide a
    // later same-size, same-mtime rewrite, so it is not used.
    CountingCache cache(open_stat_cache(m_dir.path() / "stat.db"));
    digest(&cache);
    digest(&cache);
    EXPECT_EQ(cache.hits, 0);
    EXPECT_EQ(cache.misses, 6);
}

TEST(StatCache, UnwritableLocationDegradesToNoCache) {
    auto cache = open_stat_cache("/proc/no/such/dir/stat.db");
    ASSERT_NE(cache, nullptr);
    EXPECT_FALSE(cache->lookup("/x", StatKey{}).has_value());
}

}  // namespace
}  // namespace retrace::conditions
