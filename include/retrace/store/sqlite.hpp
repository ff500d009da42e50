// Thin RAII wrappers over the SQLite C API: a connection, prepared
// statements and transactions. Errors become Status values; nothing throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "retrace/core/result.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace retrace::store {

class Statement;

class Database {
  public:
    Database() = default;
    ~Database();
    Database(Database&& other) noexcept;
    Database& operator=(Database&& other) noexcept;
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    // Opens (creating if asked) the file, sets a busy timeout, foreign keys
    // and WAL journaling. A file this process may read but not write (its
    // directory or itself read-only: a teammate's store, a read-only mount)
    // is opened read-only, unless create asks to write: then io, "read-only".
    static Result<Database> open(const std::string& path, bool create);
    bool read_only() const { return m_read_only; }

    Status exec(std::string_view sql);
    Result<Statement> prepare(std::string_view sql);
    std::int64_t changes() const;
    sqlite3* handle() const { return m_db; }
    const std::string& path() const { return m_path; }
    Status error_status(std::string_view what) const;

  private:
    static Result<Database> open_read_only(const std::string& path);

    sqlite3* m_db = nullptr;
    std::string m_path;
    bool m_read_only = false;
};

// A prepared statement. bind() is 1-based as in SQLite; column() 0-based.
class Statement {
  public:
    Statement(Database& db, sqlite3_stmt* stmt) : m_db(&db), m_stmt(stmt) {}
    ~Statement();
    Statement(Statement&& other) noexcept;
    Statement& operator=(Statement&& other) noexcept;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& bind(int index, std::string_view text);
    Statement& bind(int index, std::int64_t value);
    Statement& bind_blob(int index, std::string_view bytes);
    Statement& bind_null(int index);
    Statement& bind_optional(int index, const std::optional<std::string>& text);

    // Advances: true when a row is ready, false when done; failure in status().
    Result<bool> step();
    // Runs to completion, for statements that return no rows.
    Status run();
    void reset();

    bool is_null(int column) const;
    std::string text(int column) const;
    std::int64_t integer(int column) const;
    std::string blob(int column) const;
    std::optional<std::string> optional_text(int column) const;

  private:
    Database* m_db;
    sqlite3_stmt* m_stmt;
};

// BEGIN IMMEDIATE on construction (takes the write lock up front, so the busy
// handler applies; a deferred read-then-write transaction can fail with
// SQLITE_BUSY without it); rolls back on destruction unless committed.
class Transaction {
  public:
    static Result<Transaction> begin(Database& db);
    Transaction(Transaction&& other) noexcept : m_db(other.m_db) { other.m_db = nullptr; }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    Transaction& operator=(Transaction&&) = delete;
    ~Transaction();
    Status commit();

  private:
    explicit Transaction(Database& db) : m_db(&db) {}
    Database* m_db;
};

}  // namespace retrace::store
