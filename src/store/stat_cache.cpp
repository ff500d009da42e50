// The stat cache behind --input (stat_cache.hpp): an SQLite file loaded into memory at open
// and written back in one transaction by flush(). It is only a cache: any
// SQLite failure leaves it empty or unwritten, never fails a digest.
#include <sqlite3.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cstdlib>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "private_files.hpp"
#include "retrace/core/clock.hpp"
#include "retrace/store/stat_cache.hpp"
#include "retrace/store/store.hpp"

namespace retrace::store {

namespace {

namespace fs = std::filesystem;

constexpr std::int64_t k_racy_window_ns = 2'000'000'000;
constexpr int k_busy_timeout_ms = 5000;

// Page faults dominate loading a big table (each costs ~10 us on a virtual
// machine), so the table lives in three flat arrays whose pages are faulted
// in with one madvise, not one node and one string per row.
void prefault(const void* data, std::size_t bytes) {
#ifdef MADV_POPULATE_WRITE
    if (bytes == 0) return;
    auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
    auto begin = reinterpret_cast<std::uintptr_t>(data) & ~(page - 1);
    auto end = (reinterpret_cast<std::uintptr_t>(data) + bytes + page - 1) & ~(page - 1);
    madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE);  // a hint
#else
    (void)data, (void)bytes;
#endif
}

struct Record {
    StatKey key;
    core::Digest digest;
    std::int64_t cached_at_ns = 0;
    std::uint64_t path_offset = 0;  // into Table::m_paths
    std::uint32_t path_size = 0;
    bool dirty = false;
};

// Path -> record, open addressing over an array of record numbers.
class Table {
  public:
    void reserve(std::size_t rows, std::size_t path_bytes) {
        m_records.reserve(rows);
        m_paths.reserve(path_bytes);
        prefault(m_records.data(), rows * sizeof(Record));
        prefault(m_paths.data(), path_bytes);
        rehash(rows);
    }

    Record* find(std::string_view path) {
        if (m_slots.empty()) return nullptr;
        for (std::size_t i = slot_of(path);; i = (i + 1) & (m_slots.size() - 1)) {
            std::uint32_t n = m_slots[i];
            if (n == 0) return nullptr;
            Record& r = m_records[n - 1];
            if (path_of(r) == path) return &r;
        }
    }

    void put(std::string_view path, Record r) {
        if (Record* old = find(path)) {
            r.path_offset = old->path_offset;
            r.path_size = old->path_size;
            *old = r;
            return;
        }
        if ((m_records.size() + 1) * 2 > m_slots.size()) rehash(m_records.size() + 1);
        r.path_offset = m_paths.size();
        r.path_size = static_cast<std::uint32_t>(path.size());
        m_paths.append(path);
        m_records.push_back(r);
        insert_slot(path, static_cast<std::uint32_t>(m_records.size()));
    }

    std::string_view path_of(const Record& r) const {
        return std::string_view(m_paths).substr(r.path_offset, r.path_size);
    }
    std::vector<Record>& records() { return m_records; }

  private:
    std::size_t slot_of(std::string_view path) const {
        return std::hash<std::string_view>{}(path) & (m_slots.size() - 1);
    }
    void insert_slot(std::string_view path, std::uint32_t n) {
        std::size_t i = slot_of(path);
        while (m_slots[i] != 0) i = (i + 1) & (m_slots.size() - 1);
        m_slots[i] = n;
    }
    // At most half full, so probe runs stay short.
    void rehash(std::size_t rows) {
        std::size_t size = 1024;
        while (size < rows * 2) size *= 2;
        if (size <= m_slots.size()) return;
        m_slots.assign(size, 0);
        for (std::size_t n = 0; n < m_records.size(); ++n)
            insert_slot(path_of(m_records[n]), static_cast<std::uint32_t>(n + 1));
    }

    std::string m_paths;  // every path, back to back
    std::vector<Record> m_records;
    std::vector<std::uint32_t> m_slots;  // record number + 1; 0 is empty
};

// Digest::parse, minus building a Result: 10,000 of these are on the
// critical path of re-identifying a tree.
std::optional<core::Digest> parse_digest(std::string_view text) {
    constexpr std::string_view prefix = "sha256:";
    if (text.size() != prefix.size() + 64 || !text.starts_with(prefix)) return std::nullopt;
    auto nibble = [](char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    };
    core::Digest::Bytes bytes{};
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        int hi = nibble(text[prefix.size() + 2 * i]);
        int lo = nibble(text[prefix.size() + 2 * i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        bytes[i] = static_cast<std::uint8_t>(hi << 4 | lo);
    }
    return core::Digest(bytes);
}

// Owns a prepared statement; finalizing null is a no-op.
struct Statement {
    sqlite3_stmt* stmt = nullptr;
    Statement(sqlite3* db, const char* sql) {
        if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) != SQLITE_OK) stmt = nullptr;
    }
    ~Statement() { sqlite3_finalize(stmt); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
};

std::int64_t as_int(std::uint64_t v) {
    return static_cast<std::int64_t>(v);  // inode and device numbers round-trip bit for bit
}

class SqliteStatCache final : public StatCache {
  public:
    // The table is loaded on a thread of its own, so the caller can walk the
    // tree meanwhile; the first lookup or store waits for it.
    explicit SqliteStatCache(sqlite3* db) : m_db(db) {
        m_loader = std::thread([this] { load(); });
    }
    ~SqliteStatCache() override {
        flush();
        sqlite3_close(m_db);
    }
    SqliteStatCache(const SqliteStatCache&) = delete;
    SqliteStatCache& operator=(const SqliteStatCache&) = delete;

    std::optional<core::Digest> lookup(const fs::path& path, const StatKey& key) override {
        wait_loaded();
        std::lock_guard lock(m_mutex);
        const Record* r = m_table.find(path.native());
        if (!r || !(r->key == key)) return std::nullopt;
        // Racy: the file may have been rewritten in the same timestamp tick
        // after it was hashed, leaving the key unchanged. 2 s covers coarse
        // (1 s, FAT's 2 s) timestamps as well as nanosecond ones.
        if (key.mtime_ns + k_racy_window_ns >= r->cached_at_ns) return std::nullopt;
        return r->digest;
    }

    void store(const fs::path& path, const StatKey& key, const core::Digest& digest) override {
        wait_loaded();
        std::int64_t at = core::unix_now_ns();
        std::lock_guard lock(m_mutex);
        m_table.put(path.native(), Record{key, digest, at, 0, 0, true});
        m_dirty = true;
    }

    void flush() override {
        wait_loaded();
        std::lock_guard lock(m_mutex);
        if (!m_dirty) return;
        if (sqlite3_exec(m_db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) return;
        bool ok = write_dirty();
        if (ok && sqlite3_exec(m_db, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK) {
            for (Record& r : m_table.records()) r.dirty = false;
            m_dirty = false;
        } else {
            // Kept dirty: a later flush (or the destructor) tries again.
            sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
        }
    }

  private:
    void wait_loaded() {
        std::call_once(m_joined, [this] { m_loader.join(); });
    }

    void load() {
        Statement count(m_db, "SELECT count(*), sum(length(CAST(path AS BLOB))) FROM stat_cache");
        if (count.stmt && sqlite3_step(count.stmt) == SQLITE_ROW)
            m_table.reserve(static_cast<std::size_t>(sqlite3_column_int64(count.stmt, 0)),
                            static_cast<std::size_t>(sqlite3_column_int64(count.stmt, 1)));
        Statement q(m_db,
                    "SELECT path, size, mtime_ns, ctime_ns, inode, device, digest, cached_at_ns "
                    "FROM stat_cache");
        if (!q.stmt) return;
        while (sqlite3_step(q.stmt) == SQLITE_ROW) {
            auto text = [&](int col) {
                const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(q.stmt, col));
                return std::string_view(
                    p ? p : "", static_cast<std::size_t>(sqlite3_column_bytes(q.stmt, col)));
            };
            auto integer = [&](int col) { return sqlite3_column_int64(q.stmt, col); };
            auto digest = parse_digest(text(6));
            if (!digest) continue;  // a damaged row only costs a read
            StatKey key{static_cast<std::uint64_t>(integer(1)), integer(2), integer(3),
                        static_cast<std::uint64_t>(integer(4)),
                        static_cast<std::uint64_t>(integer(5))};
            m_table.put(text(0), Record{key, *digest, integer(7), 0, 0, false});
        }
    }

    bool write_dirty() {
        Statement q(m_db,
                    "INSERT OR REPLACE INTO stat_cache (path, size, mtime_ns, ctime_ns, inode, "
                    "device, digest, cached_at_ns) VALUES (?,?,?,?,?,?,?,?)");
        if (!q.stmt) return false;
        for (const Record& e : m_table.records()) {
            if (!e.dirty) continue;
            std::string_view path = m_table.path_of(e);
            std::string digest = e.digest.to_string();
            sqlite3_bind_text(q.stmt, 1, path.data(), static_cast<int>(path.size()), SQLITE_STATIC);
            sqlite3_bind_int64(q.stmt, 2, as_int(e.key.size));
            sqlite3_bind_int64(q.stmt, 3, e.key.mtime_ns);
            sqlite3_bind_int64(q.stmt, 4, e.key.ctime_ns);
            sqlite3_bind_int64(q.stmt, 5, as_int(e.key.inode));
            sqlite3_bind_int64(q.stmt, 6, as_int(e.key.device));
            sqlite3_bind_text(q.stmt, 7, digest.data(), static_cast<int>(digest.size()),
                              SQLITE_STATIC);
            sqlite3_bind_int64(q.stmt, 8, e.cached_at_ns);
            int rc = sqlite3_step(q.stmt);
            sqlite3_reset(q.stmt);
            if (rc != SQLITE_DONE) return false;
        }
        return true;
    }

    std::mutex m_mutex;
    std::once_flag m_joined;
    std::thread m_loader;
    sqlite3* m_db;
    Table m_table;
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

sqlite3* open_database(const fs::path& file) {
    if (file.has_parent_path() && !make_private_directory(file.parent_path()).is_ok())
        return nullptr;
    if (!make_private_file(file).is_ok()) return nullptr;
    sqlite3* db = nullptr;
    // NOMUTEX: the cache serializes every use of the connection itself.
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(file.c_str(), &db, flags, nullptr) != SQLITE_OK) {
        sqlite3_close(db);
        return nullptr;
    }
    sqlite3_busy_timeout(db, k_busy_timeout_ms);
    // WAL lets concurrent `retrace record` processes read while one writes;
    // synchronous=NORMAL is enough for a cache (losing the tail costs reads).
    const char* setup =
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA mmap_size=1073741824;"
        "CREATE TABLE IF NOT EXISTS stat_cache (path TEXT PRIMARY KEY, size INTEGER, "
        "mtime_ns INTEGER, ctime_ns INTEGER, inode INTEGER, device INTEGER, digest TEXT, "
        "cached_at_ns INTEGER)";
    if (sqlite3_exec(db, setup, nullptr, nullptr, nullptr) != SQLITE_OK) {
        sqlite3_close(db);
        return nullptr;
    }
    return db;
}

}  // namespace

std::unique_ptr<StatCache> open_stat_cache(const fs::path& file) {
    sqlite3* db = open_database(file);
    if (!db) return std::make_unique<NoStatCache>();
    return std::make_unique<SqliteStatCache>(db);
}

std::unique_ptr<StatCache> StoreOpener::stat_cache() const {
    if (m_location.is_postgres()) {
        // A shared store's files are this machine's: the cache stays here.
        fs::path base;
        if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
            base = xdg;
        else if (const char* home = std::getenv("HOME"); home && *home)
            base = fs::path(home) / ".cache";
        else
            return nullptr;
        return open_stat_cache(base / "retrace" / "stat.db");
    }
    std::error_code ec;
    if (!fs::is_directory(m_location.directory(), ec)) return nullptr;
    return open_stat_cache(m_location.directory() / "cache" / "stat.db");
}

}  // namespace retrace::store
