// Thin RAII wrappers over libpq: a connection, parameters and results.
// Errors become Status values; nothing throws. Parameters go in binary
// format (text as its bytes, integers as 8 bytes big-endian), so values
// need no NUL terminator and no escaping; results come back as text unless
// asked for in binary (bytea).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "retrace/core/result.hpp"

struct pg_conn;
struct pg_result;

namespace retrace::store::pg {

// Parameters of one statement ($1, $2, ...). Text and bytes are referenced,
// not copied: what they point to must outlive the call they are used in.
// Values made here (integers, arrays) live on the heap, so that moving the
// Params (a pipeline's vector of statements growing) keeps them where the
// pointers say; a copy could not, so there is none.
class Params {
  public:
    Params() = default;
    Params(Params&&) noexcept = default;
    Params& operator=(Params&&) noexcept = default;
    Params(const Params&) = delete;
    Params& operator=(const Params&) = delete;

    Params& text(std::string_view v);
    Params& optional_text(const std::optional<std::string>& v);
    Params& integer(long long v);
    Params& optional_integer(const std::optional<long long>& v);
    Params& bytes(std::string_view v);  // bytea
    // A text[] (sent as an array literal): for "= ANY($n::text[])".
    Params& text_array(const std::vector<std::string>& v);
    Params& null();

    int size() const { return static_cast<int>(m_values.size()); }
    const char* const* values() const { return m_values.data(); }
    const int* lengths() const { return m_lengths.data(); }
    const int* formats() const { return m_formats.data(); }

  private:
    Params& add(const char* data, std::size_t size);
    std::string& own(std::string value);
    std::vector<std::unique_ptr<std::string>> m_owned;
    std::vector<const char*> m_values;
    std::vector<int> m_lengths;
    std::vector<int> m_formats;
};

// A statement's result rows. get() reads a column as text (or raw bytes,
// for a result asked for in binary).
class Rows {
  public:
    explicit Rows(pg_result* r) : m_result(r) {}
    ~Rows();
    Rows(Rows&& other) noexcept : m_result(other.m_result) { other.m_result = nullptr; }
    Rows& operator=(Rows&& other) noexcept;
    Rows(const Rows&) = delete;
    Rows& operator=(const Rows&) = delete;

    int size() const;
    bool is_null(int row, int col) const;
    std::string_view get(int row, int col) const;
    std::string text(int row, int col) const { return std::string(get(row, col)); }
    std::optional<std::string> optional_text(int row, int col) const;
    long long integer(int row, int col) const;  // a text-format integer column
    std::optional<long long> optional_integer(int row, int col) const;
    long long binary_integer(int row, int col) const;  // a binary-format int8
    long long affected() const;                        // rows an INSERT/UPDATE/DELETE touched

  private:
    pg_result* m_result = nullptr;
};

// One statement of a pipeline.
struct Statement {
    std::string sql;
    Params params;
    bool binary = false;  // results in binary format
};

class Connection {
  public:
    Connection() = default;
    ~Connection();
    Connection(Connection&& other) noexcept;
    Connection& operator=(Connection&& other) noexcept;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Connects (libpq's own defaults: PG* variables, ~/.pgpass). The error
    // is libpq's message, which may quote the connection string: callers
    // mask it.
    static Result<Connection> connect(const std::string& conninfo);

    // Runs one statement. binary asks for results in binary format.
    Result<Rows> exec(std::string_view sql, const Params& params = {}, bool binary = false);
    // Runs statements with no parameters (may be several, ';'-separated).
    Status exec_script(std::string_view sql);
    // Sends every statement at once and then reads their results (libpq's
    // pipeline mode: one round trip for all). The first failure is the
    // error; the statements after it are not run. Run inside BEGIN ...
    // COMMIT for all or nothing (a COMMIT among them after a failure is
    // not run either: the caller rolls back).
    Result<std::vector<Rows>> pipeline(const std::vector<Statement>& statements);

    // Whether the last failure lost the connection (the server restarted,
    // the network broke): worth reconnecting and retrying.
    bool lost() const;
    // Whether the last failure was a serialization failure or a deadlock:
    // worth retrying the transaction as it is.
    bool conflicted() const;
    // Ends a failed transaction (when the connection still stands), keeping
    // the failure's SQLSTATE for lost() and conflicted().
    void rollback();
    // Reconnects with the same parameters; ok once the server answers.
    Status reset();

  private:
    explicit Connection(pg_conn* c) : m_conn(c) {}
    Status failure(std::string_view what, pg_result* r);

    pg_conn* m_conn = nullptr;
    std::string m_sqlstate;  // of the last failure
    // Statements a pipeline has prepared on this connection (by their
    // text): planned once, then only bound and run.
    std::unordered_map<std::string, std::string> m_prepared;
    std::size_t m_named = 0;  // names given so far
};

}  // namespace retrace::store::pg
