#include "pg.hpp"

#include <libpq-fe.h>

#include <cstdlib>
#include <cstring>

namespace retrace::store::pg {

Params& Params::add(const char* data, std::size_t size) {
    m_values.push_back(data);
    m_lengths.push_back(static_cast<int>(size));
    m_formats.push_back(1);
    return *this;
}

std::string& Params::own(std::string value) {
    return *m_owned.emplace_back(std::make_unique<std::string>(std::move(value)));
}

Params& Params::text(std::string_view v) {
    // (a non-null pointer even for "": null means SQL NULL)
    return add(v.empty() ? "" : v.data(), v.size());
}

Params& Params::optional_text(const std::optional<std::string>& v) {
    return v ? text(*v) : null();
}

Params& Params::integer(long long v) {
    std::string& be = own(std::string(8, '\0'));
    auto u = static_cast<std::uint64_t>(v);
    for (int i = 7; i >= 0; --i, u >>= 8)
        be[static_cast<std::size_t>(i)] = static_cast<char>(u & 0xff);
    return add(be.data(), 8);
}

Params& Params::optional_integer(const std::optional<long long>& v) {
    return v ? integer(*v) : null();
}

Params& Params::bytes(std::string_view v) {
    return text(v);
}

Params& Params::text_array(const std::vector<std::string>& v) {
    std::string& literal = own("{");
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (i) literal += ',';
        literal += '"';
        for (char c : v[i]) {
            if (c == '"' || c == '\\') literal += '\\';
            literal += c;
        }
        literal += '"';
    }
    literal += '}';
    m_values.push_back(literal.c_str());
    m_lengths.push_back(0);
    m_formats.push_back(0);
    return *this;
}

Params& Params::null() {
    m_values.push_back(nullptr);
    m_lengths.push_back(0);
    m_formats.push_back(1);
    return *this;
}

Rows::~Rows() {
    if (m_result) PQclear(m_result);
}

Rows& Rows::operator=(Rows&& other) noexcept {
    if (this != &other) {
        if (m_result) PQclear(m_result);
        m_result = other.m_result;
        other.m_result = nullptr;
    }
    return *this;
}

int Rows::size() const {
    return m_result ? PQntuples(m_result) : 0;
}

bool Rows::is_null(int row, int col) const {
    return PQgetisnull(m_result, row, col) != 0;
}

std::string_view Rows::get(int row, int col) const {
    return {PQgetvalue(m_result, row, col),
            static_cast<std::size_t>(PQgetlength(m_result, row, col))};
}

std::optional<std::string> Rows::optional_text(int row, int col) const {
    if (is_null(row, col)) return std::nullopt;
    return text(row, col);
}

long long Rows::integer(int row, int col) const {
    return std::strtoll(PQgetvalue(m_result, row, col), nullptr, 10);
}

std::optional<long long> Rows::optional_integer(int row, int col) const {
    if (is_null(row, col)) return std::nullopt;
    return integer(row, col);
}

long long Rows::binary_integer(int row, int col) const {
    std::string_view v = get(row, col);
    std::uint64_t u = 0;
    for (char c : v) u = (u << 8) | static_cast<unsigned char>(c);
    return static_cast<long long>(u);
}

long long Rows::affected() const {
    const char* n = m_result ? PQcmdTuples(m_result) : "";
    return *n ? std::strtoll(n, nullptr, 10) : 0;
}

Connection::~Connection() {
    if (m_conn) PQfinish(m_conn);
}

Connection::Connection(Connection&& other) noexcept
    : m_conn(other.m_conn),
      m_sqlstate(std::move(other.m_sqlstate)),
      m_prepared(std::move(other.m_prepared)),
      m_named(other.m_named) {
    other.m_conn = nullptr;
}

Connection& Connection::operator=(Connection&& other) noexcept {
    if (this != &other) {
        if (m_conn) PQfinish(m_conn);
        m_conn = other.m_conn;
        m_sqlstate = std::move(other.m_sqlstate);
        m_prepared = std::move(other.m_prepared);
        m_named = other.m_named;
        other.m_conn = nullptr;
    }
    return *this;
}

namespace {
// libpq's messages end in a newline and may run over several lines; an
// error here is one line.
std::string one_line(const char* message) {
    std::string out;
    for (const char* p = message ? message : ""; *p; ++p) {
        bool space = *p == '\n' || *p == '\t' || *p == ' ';
        if (space && (out.empty() || out.back() == ' ')) continue;
        out += space ? ' ' : *p;
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}
}  // namespace

Result<Connection> Connection::connect(const std::string& conninfo) {
    PGconn* c = PQconnectdb(conninfo.c_str());
    if (!c) return error(ErrorCode::io, "out of memory connecting");
    if (PQstatus(c) != CONNECTION_OK) {
        std::string message = one_line(PQerrorMessage(c));
        PQfinish(c);
        return error(ErrorCode::invalid_input, message);
    }
    // Quiet: a NOTICE (a table that already exists) is not the user's business.
    PQsetNoticeProcessor(
        c, [](void*, const char*) {}, nullptr);
    return Connection(c);
}

Status Connection::failure(std::string_view what, pg_result* r) {
    const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    m_sqlstate = state ? state : "";
    std::string message = one_line(r ? PQresultErrorMessage(r) : PQerrorMessage(m_conn));
    if (message.empty()) message = one_line(PQerrorMessage(m_conn));
    if (r) PQclear(r);
    ErrorCode code = ErrorCode::io;
    if (m_sqlstate == "42501") code = ErrorCode::denied;                // insufficient privilege
    if (m_sqlstate.starts_with("23")) code = ErrorCode::invalid_input;  // a constraint
    return error(code, std::string(what) + ": " + message);
}

Result<Rows> Connection::exec(std::string_view sql, const Params& params, bool binary) {
    std::string text(sql);
    m_sqlstate.clear();
    PGresult* r = PQexecParams(m_conn, text.c_str(), params.size(), nullptr, params.values(),
                               params.lengths(), params.formats(), binary ? 1 : 0);
    auto status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return failure("PostgreSQL", r);
    return Rows(r);
}

Status Connection::exec_script(std::string_view sql) {
    std::string text(sql);
    m_sqlstate.clear();
    PGresult* r = PQexec(m_conn, text.c_str());
    auto status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) return failure("PostgreSQL", r);
    PQclear(r);
    return Status::ok();
}

namespace {
// The most statements one connection keeps prepared: the shapes a writer
// sends over and over are few (a multi-row INSERT per row count seen).
constexpr std::size_t k_max_prepared = 256;
}  // namespace

Result<std::vector<Rows>> Connection::pipeline(const std::vector<Statement>& statements) {
    m_sqlstate.clear();
    if (PQenterPipelineMode(m_conn) != 1) return failure("PostgreSQL pipeline", nullptr);
    // Each statement is sent prepared: a statement seen before runs by its
    // name; a new one is prepared first, in the same pipeline (its own
    // result comes first), while there is room.
    std::vector<bool> preparing(statements.size(), false);
    std::vector<std::string> names(statements.size());
    bool sent = true;
    for (std::size_t i = 0; sent && i < statements.size(); ++i) {
        const auto& s = statements[i];
        auto known = m_prepared.find(s.sql);
        if (known != m_prepared.end()) {
            names[i] = known->second;
        } else if (m_named < k_max_prepared) {
            names[i] = "retrace_" + std::to_string(m_named++);
            preparing[i] = true;
            sent = PQsendPrepare(m_conn, names[i].c_str(), s.sql.c_str(), s.params.size(),
                                 nullptr) == 1;
        }
        if (!sent) break;
        sent = names[i].empty() ? PQsendQueryParams(m_conn, s.sql.c_str(), s.params.size(), nullptr,
                                                    s.params.values(), s.params.lengths(),
                                                    s.params.formats(), s.binary ? 1 : 0) == 1
                                : PQsendQueryPrepared(m_conn, names[i].c_str(), s.params.size(),
                                                      s.params.values(), s.params.lengths(),
                                                      s.params.formats(), s.binary ? 1 : 0) == 1;
        if (sent && preparing[i]) m_prepared.emplace(s.sql, names[i]);
    }
    if (sent && PQpipelineSync(m_conn) != 1) sent = false;
    std::vector<Rows> out;
    Status first = sent ? Status::ok() : failure("PostgreSQL", nullptr);
    bool lost_midway = !sent;
    // One result (and its closing null) per prepare and per statement.
    auto next = [&](bool keep) -> bool {
        PGresult* r = PQgetResult(m_conn);
        if (!r) {  // (the connection broke: no more results will come)
            if (first.is_ok()) first = failure("PostgreSQL", nullptr);
            lost_midway = true;
            return false;
        }
        auto status = PQresultStatus(r);
        if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
            if (keep)
                out.emplace_back(r);
            else
                PQclear(r);
        } else if (first.is_ok() && status != PGRES_PIPELINE_ABORTED) {
            first = failure("PostgreSQL", r);
        } else {
            PQclear(r);
        }
        if (PGresult* end = PQgetResult(m_conn)) PQclear(end);
        return true;
    };
    for (std::size_t i = 0; sent && i < statements.size(); ++i) {
        if (preparing[i] && !next(false)) break;
        if (!next(true)) break;
    }
    if (!lost_midway) {
        // The sync's own result closes the pipeline.
        while (PGresult* r = PQgetResult(m_conn)) {
            bool sync = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
            PQclear(r);
            if (sync) break;
        }
    }
    std::string state = m_sqlstate;
    PQexitPipelineMode(m_conn);
    m_sqlstate = state;
    // What this pipeline prepared may not have been (a failure before it
    // skips it): forgotten, to be prepared again under a new name.
    if (!first.is_ok())
        for (std::size_t i = 0; i < statements.size(); ++i)
            if (preparing[i]) m_prepared.erase(statements[i].sql);
    if (!first.is_ok()) return first;
    return out;
}

bool Connection::lost() const {
    if (!m_conn || PQstatus(m_conn) == CONNECTION_BAD) return true;
    // Connection exceptions, and the server shutting down or starting up.
    return m_sqlstate.starts_with("08") || m_sqlstate == "57P01" || m_sqlstate == "57P02" ||
           m_sqlstate == "57P03";
}

bool Connection::conflicted() const {
    return m_sqlstate == "40001" || m_sqlstate == "40P01";
}

void Connection::rollback() {
    if (!m_conn || PQstatus(m_conn) == CONNECTION_BAD) return;
    if (PGresult* r = PQexec(m_conn, "ROLLBACK")) PQclear(r);
}

Status Connection::reset() {
    m_prepared.clear();  // (a new session has none)
    m_named = 0;
    PQreset(m_conn);
    if (PQstatus(m_conn) != CONNECTION_OK)
        return error(ErrorCode::io, one_line(PQerrorMessage(m_conn)));
    PQsetNoticeProcessor(
        m_conn, [](void*, const char*) {}, nullptr);
    m_sqlstate.clear();
    return Status::ok();
}

}  // namespace retrace::store::pg
