#include <chrono>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "retrace/capture/input_digest.hpp"
#include "retrace/store/sqlite.hpp"

namespace retrace::capture {

namespace {

namespace fs = std::filesystem;

constexpr std::int64_t k_racy_window_ns = 2'000'000'000;

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

struct Entry {
    StatKey key;
    core::Digest digest;
    std::int64_t cached_at_ns = 0;
    bool dirty = false;
};

class SqliteStatCache final : public StatCache {
  public:
    // The table is loaded on a thread of its own, so the caller can walk the
    // tree meanwhile; the first lookup waits for it.
    explicit SqliteStatCache(store::Database db) : m_db(std::move(db)) {
        m_loader = std::thread([this] { load(); });
    }
    ~SqliteStatCache() override { flush(); }

    std::optional<core::Digest> lookup(const fs::path& path, const StatKey& key) override {
        wait_loaded();
        std::lock_guard lock(m_mutex);
        auto it = m_entries.find(path.string());
        if (it == m_entries.end() || !(it->second.key == key)) return std::nullopt;
        if (key.mtime_ns + k_racy_window_ns >= it->second.cached_at_ns) return std::nullopt;
        return it->second.digest;
    }

    void store(const fs::path& path, const StatKey& key, const core::Digest& digest) override {
        wait_loaded();
        std::lock_guard lock(m_mutex);
        m_entries[path.string()] = Entry{key, digest, now_ns(), true};
        m_dirty = true;
    }

    void flush() override {
        wait_loaded();
        std::lock_guard lock(m_mutex);
        if (!m_dirty) return;
        auto tx = store::Transaction::begin(m_db);
        if (!tx) return;
        auto q = m_db.prepare(
            "INSERT OR REPLACE INTO stat_cache (path, size, mtime_ns, ctime_ns, inode, device, "
            "digest, cached_at_ns) VALUES (?,?,?,?,?,?,?,?)");
        if (!q) return;
        for (auto& [path, e] : m_entries) {
            if (!e.dirty) continue;
            q->bind(1, path).bind(2, static_cast<std::int64_t>(e.key.size));
            q->bind(3, e.key.mtime_ns).bind(4, e.key.ctime_ns);
            q->bind(5, static_cast<std::int64_t>(e.key.inode));
            q->bind(6, static_cast<std::int64_t>(e.key.device));
            q->bind(7, e.digest.to_string()).bind(8, e.cached_at_ns);
            if (!q->run().is_ok()) return;
            e.dirty = false;
        }
        if (tx->commit().is_ok()) m_dirty = false;
    }

  private:
    void wait_loaded() {
        std::call_once(m_joined, [this] { m_loader.join(); });
    }

    void load() {
        auto q = m_db.prepare(
            "SELECT path, size, mtime_ns, ctime_ns, inode, device, digest, "
            "cached_at_ns FROM stat_cache");
        if (!q) return;
        for (;;) {
            auto row = q->step();
            if (!row || !*row) break;
            auto digest = core::Digest::parse(q->text(6));
            if (!digest) continue;
            StatKey key{static_cast<std::uint64_t>(q->integer(1)), q->integer(2), q->integer(3),
                        static_cast<std::uint64_t>(q->integer(4)),
                        static_cast<std::uint64_t>(q->integer(5))};
            m_entries[q->text(0)] = Entry{key, *digest, q->integer(7), false};
        }
    }

    std::mutex m_mutex;
    std::once_flag m_joined;
    std::thread m_loader;
    store::Database m_db;
    std::unordered_map<std::string, Entry> m_entries;
    bool m_dirty = false;
};

// Used when the cache file cannot be opened: caches nothing.
class NoStatCache final : public StatCache {
  public:
    std::optional<core::Digest> lookup(const fs::path&, const StatKey&) override {
        return std::nullopt;
    }
    void store(const fs::path&, const StatKey&, const core::Digest&) override {}
};

}  // namespace

std::unique_ptr<StatCache> open_stat_cache(const fs::path& file) {
    std::error_code ec;
    fs::create_directories(file.parent_path(), ec);
    auto db = store::Database::open(file.string(), true);
    if (!db || !db->exec("CREATE TABLE IF NOT EXISTS stat_cache (path TEXT PRIMARY KEY, "
                         "size INTEGER, mtime_ns INTEGER, ctime_ns INTEGER, inode INTEGER, "
                         "device INTEGER, digest TEXT, cached_at_ns INTEGER)")
                    .is_ok())
        return std::make_unique<NoStatCache>();
    return std::make_unique<SqliteStatCache>(std::move(db).value());
}

}  // namespace retrace::capture
