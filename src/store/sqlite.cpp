#include "retrace/store/sqlite.hpp"

#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <thread>
#include <utility>

namespace retrace::store {

namespace {
constexpr int k_busy_timeout_ms = 30000;

// Whether this process may not write path or create files beside it (the
// WAL's -wal and -shm files).
bool write_protected(const std::string& path) {
    std::string dir = std::filesystem::path(path).parent_path().string();
    auto denied = [](const std::string& p) {
        return ::access(p.c_str(), W_OK) != 0 && (errno == EACCES || errno == EROFS);
    };
    return denied(path) || denied(dir.empty() ? "." : dir);
}

// A path as a URI file name (RFC 3986 percent-encoding of what SQLite reads
// specially).
std::string uri_path(const std::string& path) {
    std::string out = "file:";
    for (char c : path) {
        if (c == '%' || c == '?' || c == '#') {
            char hex[4];
            std::snprintf(hex, sizeof hex, "%%%02X", static_cast<unsigned char>(c));
            out += hex;
        } else {
            out += c;
        }
    }
    return out;
}
}  // namespace

Database::~Database() {
    if (m_db) sqlite3_close_v2(m_db);
}
Database::Database(Database&& other) noexcept
    : m_db(std::exchange(other.m_db, nullptr)),
      m_path(std::move(other.m_path)),
      m_read_only(other.m_read_only) {}
Database& Database::operator=(Database&& other) noexcept {
    if (this != &other) {
        if (m_db) sqlite3_close_v2(m_db);
        m_db = std::exchange(other.m_db, nullptr);
        m_path = std::move(other.m_path);
        m_read_only = other.m_read_only;
    }
    return *this;
}

Status Database::error_status(std::string_view what) const {
    int code = m_db ? sqlite3_extended_errcode(m_db) : SQLITE_ERROR;
    std::string msg = std::string(what) + ": " + (m_db ? sqlite3_errmsg(m_db) : "no database");
    int primary = code & 0xff;
    // (what the system said, for a failed read or write: "File too large",
    // "No space left on device")
    if (int sys = m_db ? sqlite3_system_errno(m_db) : 0;
        sys && (primary == SQLITE_IOERR || primary == SQLITE_FULL || primary == SQLITE_CANTOPEN))
        msg += std::string(" (") + std::strerror(sys) + ")";
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) return error(ErrorCode::busy, msg);
    if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB)
        return error(ErrorCode::corrupt, msg);
    if (primary == SQLITE_IOERR || primary == SQLITE_CANTOPEN || primary == SQLITE_READONLY ||
        primary == SQLITE_FULL)
        return error(ErrorCode::io, msg);
    return error(ErrorCode::internal, msg);
}

Result<Database> Database::open(const std::string& path, bool create) {
    if (std::error_code ec; std::filesystem::exists(path, ec) && write_protected(path)) {
        if (create)
            return error(ErrorCode::io, "cannot write " + path + ": the store is read-only");
        return open_read_only(path);
    }
    Database db;
    db.m_path = path;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path.c_str(), &db.m_db, flags, nullptr) != SQLITE_OK)
        return db.error_status("cannot open " + path);
    sqlite3_busy_timeout(db.m_db, k_busy_timeout_ms);
    sqlite3_extended_result_codes(db.m_db, 1);
    // journal_mode is the first statement that reads the file, so a file that
    // is not a database fails here with SQLITE_NOTADB.
    // Switching a new file to WAL needs an exclusive lock, and SQLite returns
    // SQLITE_BUSY for it without calling the busy handler: when several
    // recorders create one store at once, the losers retry here.
    for (int waited_ms = 0;; waited_ms += 10) {
        Status s = db.exec("PRAGMA journal_mode=WAL");
        if (s.is_ok()) break;
        if (s.code() != ErrorCode::busy || waited_ms >= k_busy_timeout_ms) return s;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    RETRACE_TRY(db.exec("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON"));
    return db;
}

Result<Database> Database::open_read_only(const std::string& path) {
    // A WAL database is read through its -shm file, which a reader that may
    // not write creates nowhere. When the last writer has closed it cleanly
    // there is no -wal file left, and nothing can change it but a writer
    // this process could not be: then it is read as immutable.
    std::error_code ec;
    bool wal_left = std::filesystem::file_size(path + "-wal", ec) > 0 && !ec;
    for (bool immutable : {false, true}) {
        if (immutable && wal_left) break;
        Database db;
        db.m_path = path;
        db.m_read_only = true;
        std::string uri = uri_path(path) + (immutable ? "?mode=ro&immutable=1" : "?mode=ro");
        int flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX;
        if (sqlite3_open_v2(uri.c_str(), &db.m_db, flags, nullptr) != SQLITE_OK) {
            if (immutable) return db.error_status("cannot open " + path);
            continue;
        }
        sqlite3_busy_timeout(db.m_db, k_busy_timeout_ms);
        sqlite3_extended_result_codes(db.m_db, 1);
        // (the first read: a file that is not a database fails here)
        Status s = db.exec("SELECT count(*) FROM sqlite_master");
        if (s.is_ok()) return db;
        if (immutable || s.code() == ErrorCode::corrupt) return s;
    }
    return error(ErrorCode::io, "cannot read " + path + ": read-only, and its write-ahead log " +
                                    "cannot be read without write access");
}

Status Database::exec(std::string_view sql) {
    std::string owned(sql);
    char* err = nullptr;
    if (sqlite3_exec(m_db, owned.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        sqlite3_free(err);
        return error_status("sqlite");
    }
    return Status::ok();
}

Result<Statement> Database::prepare(std::string_view sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(m_db, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) !=
        SQLITE_OK)
        return error_status("cannot prepare statement");
    return Statement(*this, stmt);
}

std::int64_t Database::changes() const {
    return sqlite3_changes64(m_db);
}

Statement::~Statement() {
    if (m_stmt) sqlite3_finalize(m_stmt);
}
Statement::Statement(Statement&& other) noexcept
    : m_db(other.m_db), m_stmt(std::exchange(other.m_stmt, nullptr)) {}
Statement& Statement::operator=(Statement&& other) noexcept {
    if (this != &other) {
        if (m_stmt) sqlite3_finalize(m_stmt);
        m_db = other.m_db;
        m_stmt = std::exchange(other.m_stmt, nullptr);
    }
    return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
    sqlite3_bind_text64(m_stmt, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    return *this;
}
Statement& Statement::bind(int index, std::int64_t value) {
    sqlite3_bind_int64(m_stmt, index, value);
    return *this;
}
Statement& Statement::bind_blob(int index, std::string_view bytes) {
    sqlite3_bind_blob64(m_stmt, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
    return *this;
}
Statement& Statement::bind_null(int index) {
    sqlite3_bind_null(m_stmt, index);
    return *this;
}
Statement& Statement::bind_optional(int index, const std::optional<std::string>& text) {
    return text ? bind(index, *text) : bind_null(index);
}

Result<bool> Statement::step() {
    int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    Status s = m_db->error_status("sqlite step");
    sqlite3_reset(m_stmt);
    return s;
}

Status Statement::run() {
    for (;;) {
        RETRACE_ASSIGN(bool row, step());
        if (!row) break;
    }
    reset();
    return Status::ok();
}

void Statement::reset() {
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
}

bool Statement::is_null(int column) const {
    return sqlite3_column_type(m_stmt, column) == SQLITE_NULL;
}
std::string Statement::text(int column) const {
    const auto* p = sqlite3_column_text(m_stmt, column);
    int n = sqlite3_column_bytes(m_stmt, column);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n))
             : std::string();
}
std::int64_t Statement::integer(int column) const {
    return sqlite3_column_int64(m_stmt, column);
}
std::string Statement::blob(int column) const {
    const void* p = sqlite3_column_blob(m_stmt, column);
    int n = sqlite3_column_bytes(m_stmt, column);
    return p ? std::string(static_cast<const char*>(p), static_cast<std::size_t>(n))
             : std::string();
}
std::optional<std::string> Statement::optional_text(int column) const {
    if (is_null(column)) return std::nullopt;
    return text(column);
}

Result<Transaction> Transaction::begin(Database& db) {
    if (db.read_only())
        return error(ErrorCode::io, "cannot write to " + db.path() + ": the store is read-only");
    RETRACE_TRY(db.exec("BEGIN IMMEDIATE"));
    return Transaction(db);
}
Transaction::~Transaction() {
    if (m_db) (void)m_db->exec("ROLLBACK");
}
Status Transaction::commit() {
    Status s = m_db->exec("COMMIT");
    if (s.is_ok()) m_db = nullptr;
    return s;
}

}  // namespace retrace::store
