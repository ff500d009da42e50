// The PostgreSQL team store (docs/team-store.md): the Store interface on
// libpq. Many recorders on many machines write at once: a run has one
// writer and its own (run_id, seq) keys; blobs are deduplicated with
// INSERT ... ON CONFLICT DO NOTHING, in digest order so that two writers
// never wait on each other in a cycle. Each write is one transaction of
// multi-row INSERTs, sent in two round trips (libpq's pipeline mode, each
// statement prepared once per connection). A connection lost mid-run (the
// server restarted) is restored with backoff for a bounded time, and the
// write repeated so that whatever already committed is not written twice.
#include <sys/random.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <unordered_set>

#include "blob_codec.hpp"
#include "pg.hpp"
#include "postgres_schema_sql.hpp"
#include "retrace/core/clock.hpp"
#include "retrace/core/digest.hpp"
#include "retrace/core/identity.hpp"
#include "retrace/store/store.hpp"

namespace retrace::store {

namespace {

namespace fs = std::filesystem;

constexpr int k_schema_version = 2;

Status backfill_store_log(pg::Connection& conn);

// Append here; never edit a migration that has shipped.
struct Migration {
    int to_version;
    const char* sql;
    // Run after sql, in the same transaction: what SQL alone cannot do.
    Status (*then)(pg::Connection&) = nullptr;
};
const Migration k_migrations[] = {
    {1, detail::k_postgres_schema_sql},
    // The store log (docs/store-format.md); the runs already sealed go in
    // first, by seal time.
    {2,
     "CREATE TABLE store_log (\n"
     "    position      bigint PRIMARY KEY,\n"
     "    kind          text NOT NULL CHECK (kind IN ('added', 'removed')),\n"
     "    run_id        text NOT NULL,\n"
     "    record_digest text NOT NULL,\n"
     "    at_ns         bigint NOT NULL,\n"
     "    digest        text NOT NULL\n"
     ");",
     backfill_store_log},
};
// Indexes that change nothing a reader needs: made when missing by a role
// that may (the owner), with no new version, so an older retrace still
// opens the store and a recorder's role is not refused for lacking the
// right. runs_by_state: the runs in one state read those rows only.
struct Index {
    const char* name;
    const char* sql;
};
constexpr Index k_indexes[] = {
    {"runs_by_state", "CREATE INDEX IF NOT EXISTS runs_by_state ON runs (state, started_ns)"},
};
// Held while migrating, so that two first connections do not both create.
constexpr long long k_migration_lock = 0x7265747261636531;  // "retrace1"
// Held by the transaction that appends to the store log: one at a time.
constexpr long long k_log_lock = 0x7265747261636533;  // "retrace3"
// Held shared by every transaction that stores or refers to blobs, and
// exclusively by gc: a blob a writer found stored is not deleted before
// the writer's reference to it commits.
constexpr long long k_blob_lock = 0x7265747261636532;  // "retrace2"

// Blobs smaller than this are stored raw: a zstd frame would not be smaller.
constexpr std::size_t k_min_compress = 64;
// PostgreSQL takes at most 65535 parameters in one statement.
constexpr std::size_t k_max_params = 60000;
// Rows of one run's events read at a time.
constexpr int k_event_page = 10000;

constexpr const char* k_run_columns =
    "id, name, state, replay_of, started_ns, ended_ns, exit_code, conditions, "
    "conditions_digest, metadata, metadata_digest, outcome, outcome_digest, chain_head, "
    "event_count, record_digest";

// How long a lost connection is tried again before the write fails:
// $RETRACE_STORE_RETRY_SECONDS, 30 by default.
std::chrono::milliseconds retry_budget() {
    if (const char* v = std::getenv("RETRACE_STORE_RETRY_SECONDS"); v && *v) {
        char* end = nullptr;
        double s = std::strtod(v, &end);
        if (end && *end == '\0' && s >= 0)
            return std::chrono::milliseconds(static_cast<long long>(s * 1000));
    }
    return std::chrono::seconds(30);
}

// The connection string with what retrace wants unless the user said
// otherwise: a bounded connect timeout, and a name in pg_stat_activity.
std::string with_defaults(const std::string& conninfo) {
    std::string extra;
    bool uri = conninfo.starts_with("postgres://") || conninfo.starts_with("postgresql://");
    auto add = [&](const char* key, const char* value) {
        if (conninfo.find(key) != std::string::npos) return;
        if (uri) {
            bool has_query = conninfo.find('?') != std::string::npos || !extra.empty();
            extra += std::string(has_query ? "&" : "?") + key + "=" + value;
        } else {
            extra += std::string(" ") + key + "=" + value;
        }
    };
    if (!std::getenv("PGCONNECT_TIMEOUT")) add("connect_timeout", "10");
    add("fallback_application_name", "retrace");
    return conninfo + extra;
}

// "a\_b%" for LIKE 'a\_b%': a prefix matched literally.
std::string like_prefix(const std::string& prefix) {
    std::string out;
    for (char c : prefix) {
        if (c == '%' || c == '_' || c == '\\') out += '\\';
        out += c;
    }
    return out + "%";
}

// "($1,$2,$3),($4,$5,$6)": rows of n parameters each.
std::string values_list(std::size_t rows, std::size_t n) {
    std::string out;
    std::size_t p = 1;
    for (std::size_t r = 0; r < rows; ++r) {
        out += r ? ",(" : "(";
        for (std::size_t c = 0; c < n; ++c, ++p) {
            if (c) out += ',';
            out += '$' + std::to_string(p);
        }
        out += ')';
    }
    return out;
}

RunRow read_run(const pg::Rows& q, int i) {
    RunRow r;
    r.id = q.text(i, 0);
    r.name = q.optional_text(i, 1);
    r.state = q.text(i, 2);
    r.replay_of = q.optional_text(i, 3);
    r.started_ns = q.integer(i, 4);
    r.ended_ns = q.optional_integer(i, 5);
    r.exit_code = q.optional_integer(i, 6);
    r.conditions = q.text(i, 7);
    r.conditions_digest = q.text(i, 8);
    r.metadata = q.text(i, 9);
    r.metadata_digest = q.optional_text(i, 10);
    r.outcome = q.optional_text(i, 11);
    r.outcome_digest = q.optional_text(i, 12);
    r.chain_head = q.optional_text(i, 13);
    r.event_count = q.optional_integer(i, 14);
    r.record_digest = q.optional_text(i, 15);
    return r;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// A sealed run's chain links as stored: 32 raw bytes per event, in seq
// order ("sha256:<hex>" each, as the Store interface has them).
Result<std::string> pack_links(const std::vector<std::string>& links) {
    std::string out;
    out.reserve(links.size() * 32);
    for (const auto& link : links) {
        std::string_view hex = link;
        if (!hex.starts_with("sha256:") || hex.size() != 7 + 64)
            return error(ErrorCode::invalid_input, "bad chain link " + link);
        for (std::size_t i = 7; i < hex.size(); i += 2) {
            int hi = hex_value(hex[i]), lo = hex_value(hex[i + 1]);
            if (hi < 0 || lo < 0) return error(ErrorCode::invalid_input, "bad chain link " + link);
            out += static_cast<char>(hi * 16 + lo);
        }
    }
    return out;
}

// Event seq's chain link from the run's stored links, if it has one.
std::optional<std::string> link_of(std::string_view links, long long seq) {
    if (seq < 1) return std::nullopt;
    auto at = static_cast<std::size_t>(seq - 1) * 32;
    if (at + 32 > links.size()) return std::nullopt;
    return "sha256:" + core::to_hex(links.substr(at, 32));
}

// Appends an entry to the store log, inside the transaction open on conn
// (which then holds the log's lock until it ends).
Status append_store_log(pg::Connection& conn, const std::string& kind, const std::string& run_id,
                        const std::string& record_digest, long long at_ns) {
    RETRACE_TRY(
        conn.exec("SELECT pg_advisory_xact_lock($1::bigint)", pg::Params().integer(k_log_lock)));
    RETRACE_ASSIGN(auto last, conn.exec("SELECT position, digest FROM store_log "
                                        "ORDER BY position DESC LIMIT 1"));
    core::StoreLogEntry e{
        last.size() ? last.integer(0, 0) + 1 : 1, kind, run_id, record_digest, at_ns, ""};
    e.digest = core::store_log_link(last.size() ? last.get(0, 1) : "", e).to_string();
    return conn
        .exec(
            "INSERT INTO store_log (position, kind, run_id, record_digest, at_ns, digest) "
            "VALUES ($1, $2, $3, $4, $5, $6)",
            pg::Params()
                .integer(e.position)
                .text(e.kind)
                .text(e.run_id)
                .text(e.record_digest)
                .integer(e.at_ns)
                .text(e.digest))
        .status();
}

Status backfill_store_log(pg::Connection& conn) {
    RETRACE_ASSIGN(auto q, conn.exec("SELECT id, coalesce(record_digest, ''), "
                                     "coalesce(ended_ns, started_ns) FROM runs WHERE state = "
                                     "'sealed' ORDER BY 3, id COLLATE \"C\""));
    for (int i = 0; i < q.size(); ++i)
        RETRACE_TRY(append_store_log(conn, "added", q.text(i, 0), q.text(i, 1), q.integer(i, 2)));
    return Status::ok();
}

// blobs once each (none whose digest skip holds), in digest order: the
// order every writer inserts them in, so two never wait on each other in
// a cycle.
std::vector<const Blob*> in_digest_order(const std::vector<Blob>& blobs,
                                         const std::unordered_set<std::string>& skip = {}) {
    std::vector<const Blob*> order;
    std::unordered_set<std::string_view> seen;
    for (const auto& b : blobs)
        if (!skip.count(b.digest) && seen.insert(b.digest).second) order.push_back(&b);
    std::sort(order.begin(), order.end(),
              [](const Blob* a, const Blob* b) { return a->digest < b->digest; });
    return order;
}

const Status& status_of(const Status& s) {
    return s;
}
template <typename T>
const Status& status_of(const Result<T>& r) {
    return r.status();
}

class PostgresStore final : public Store {
  public:
    PostgresStore(StoreLocation location, pg::Connection conn, bool read_only)
        : m_location(std::move(location)), m_conn(std::move(conn)), m_read_only(read_only) {}

    StoreLocation location() const override { return m_location; }
    bool read_only() const override { return m_read_only; }
    Result<std::unique_ptr<Store>> connect() override {
        return open_postgres_store(m_location, false);
    }

    Result<std::string> secret() override {
        if (!m_secret.empty()) return m_secret;
        return attempt([&]() -> Result<std::string> {
            RETRACE_ASSIGN(auto q, m_conn.exec("SELECT secret FROM store_secret"));
            if (q.size() == 1) return m_secret = q.text(0, 0);
            unsigned char raw[32];
            if (getrandom(raw, sizeof raw, 0) != static_cast<ssize_t>(sizeof raw))
                return error(ErrorCode::io, "getrandom failed");
            std::string key =
                core::to_hex(std::string_view(reinterpret_cast<char*>(raw), sizeof raw));
            RETRACE_TRY(
                m_conn.exec("INSERT INTO store_secret (secret) VALUES ($1) "
                            "ON CONFLICT DO NOTHING",
                            pg::Params().text(key)));
            // Another recorder may have got there first: theirs is the one.
            RETRACE_ASSIGN(auto again, m_conn.exec("SELECT secret FROM store_secret"));
            if (again.size() != 1)
                return error(ErrorCode::corrupt, "the store has no secret after making one");
            return m_secret = again.text(0, 0);
        });
    }

    Status insert_run(const RunRow& run, const std::vector<FileRow>& files) override {
        return attempt([&]() -> Status {
            // (a repeat after a lost connection finds its own first try)
            std::vector<pg::Statement> st;
            st.emplace_back().sql = "BEGIN";
            add_run_row(st, run, std::nullopt, m_reconnected);
            add_files(st, files);
            st.emplace_back().sql = "COMMIT";
            auto done = m_conn.pipeline(st);
            if (!done) m_conn.rollback();
            return done.status();
        });
    }

    Status append(const std::string& run_id, const std::vector<EventRow>& events,
                  const std::vector<Blob>& blobs) override {
        if (run_id != m_stored_run) {
            m_stored_run = run_id;
            m_stored.clear();
        }
        std::vector<const Blob*> order = in_digest_order(blobs, m_stored);
        Status s = attempt([&]() -> Status {
            Status w = write_batch(run_id, events, order, m_reconnected, true);
            if (!w.is_ok()) m_conn.rollback();
            return w;
        });
        if (!s.is_ok()) return s;
        for (const Blob* b : order)
            if (m_stored.size() < k_stored_cache) m_stored.insert(b->digest);
        return Status::ok();
    }

    Status seal(const SealRequest& s) override {
        // The chain links go on the run's row, in seq order.
        std::vector<std::string> digests;
        digests.reserve(s.event_digests.size());
        for (std::size_t i = 0; i < s.event_digests.size(); ++i) {
            if (s.event_digests[i].first != static_cast<long long>(i) + 1)
                return error(ErrorCode::internal,
                             "run " + s.run_id + ": chain links out of seq order");
            digests.push_back(s.event_digests[i].second);
        }
        RETRACE_ASSIGN(std::string links, pack_links(digests));
        return attempt([&]() -> Status {
            bool again = m_reconnected;
            return transaction([&]() -> Status {
                pg::Params p;
                p.integer(s.ended_ns).optional_integer(s.exit_code).text(s.metadata);
                p.text(s.metadata_digest).text(s.outcome).text(s.outcome_digest);
                p.text(s.chain_head).integer(s.event_count).text(s.record_digest);
                p.optional_text(s.conditions).optional_text(s.conditions_digest).text(s.run_id);
                p.bytes(links);
                RETRACE_ASSIGN(
                    auto upd,
                    m_conn.exec("UPDATE runs SET state='sealed', ended_ns=$1, exit_code=$2, "
                                "metadata=$3, metadata_digest=$4, outcome=$5, outcome_digest=$6, "
                                "chain_head=$7, event_count=$8, record_digest=$9, "
                                "conditions=coalesce($10, conditions), "
                                "conditions_digest=coalesce($11, conditions_digest), "
                                "event_links=$13 WHERE id=$12 AND state='incomplete'",
                                p));
                if (upd.affected() != 1) {
                    if (again) {
                        // The first try may have committed before the connection broke.
                        RETRACE_ASSIGN(auto q, m_conn.exec("SELECT record_digest FROM runs "
                                                           "WHERE id=$1 AND state='sealed'",
                                                           pg::Params().text(s.run_id)));
                        if (q.size() == 1 && q.get(0, 0) == s.record_digest) return Status::ok();
                    }
                    return error(ErrorCode::invalid_input,
                                 "run " + s.run_id + " is not an incomplete run");
                }
                RETRACE_TRY(insert_files(s.files));
                return append_store_log(m_conn, "added", s.run_id, s.record_digest,
                                        core::unix_now_ns());
            });
        });
    }

    Status remove_runs(const std::vector<std::string>& ids) override {
        // A run's rows refer to it without foreign keys: each table here.
        return attempt([&]() -> Status {
            return transaction([&]() -> Status {
                RETRACE_ASSIGN(auto sealed,
                               m_conn.exec("SELECT id, coalesce(record_digest, '') FROM runs "
                                           "WHERE id = ANY($1::text[]) AND state = 'sealed' "
                                           "ORDER BY id COLLATE \"C\"",
                                           pg::Params().text_array(ids)));
                long long now = core::unix_now_ns();
                for (int i = 0; i < sealed.size(); ++i)
                    RETRACE_TRY(append_store_log(m_conn, "removed", sealed.text(i, 0),
                                                 sealed.text(i, 1), now));
                for (const char* table : {"events", "run_blobs", "run_files", "run_imports"})
                    RETRACE_TRY(m_conn.exec(
                        std::string("DELETE FROM ") + table + " WHERE run_id = ANY($1::text[])",
                        pg::Params().text_array(ids)));
                return m_conn
                    .exec("DELETE FROM runs WHERE id = ANY($1::text[])",
                          pg::Params().text_array(ids))
                    .status();
            });
        });
    }

    Result<std::pair<long long, long long>> gc() override {
        return attempt([&]() -> Result<std::pair<long long, long long>> {
            std::pair<long long, long long> freed;
            Status s = transaction([&]() -> Status {
                // (waits for the writers in flight; new ones wait for it)
                RETRACE_TRY(m_conn.exec("SELECT pg_advisory_xact_lock($1::bigint)",
                                        pg::Params().integer(k_blob_lock)));
                RETRACE_ASSIGN(
                    auto q,
                    m_conn.exec("WITH gone AS (DELETE FROM blobs b WHERE NOT EXISTS (SELECT 1 "
                                "FROM run_blobs r WHERE r.digest = b.digest) RETURNING "
                                "octet_length(b.data) AS n) SELECT count(*), coalesce(sum(n), 0) "
                                "FROM gone"));
                freed = {q.integer(0, 0), q.integer(0, 1)};
                return Status::ok();
            });
            if (!s.is_ok()) return s;
            return freed;
        });
    }

    Result<int> import_runs(const std::vector<RunRow>& runs,
                            const std::vector<std::vector<EventRow>>& events,
                            const std::vector<std::vector<FileRow>>& files,
                            const std::vector<Blob>& blobs,
                            const std::optional<std::string>& source) override {
        std::vector<const Blob*> order = in_digest_order(blobs);
        // Each sealed run's chain links, as its row keeps them.
        std::vector<std::optional<std::string>> links(runs.size());
        for (std::size_t i = 0; i < runs.size(); ++i) {
            if (!runs[i].sealed()) continue;
            std::vector<std::string> digests;
            for (const auto& e : events[i]) {
                if (!e.digest || e.event.seq != static_cast<long long>(digests.size()) + 1)
                    return error(ErrorCode::invalid_input,
                                 "run " + runs[i].id +
                                     ": sealed, but its events' chain links are not all there");
                digests.push_back(*e.digest);
            }
            RETRACE_ASSIGN(links[i], pack_links(digests));
        }
        return attempt([&]() -> Result<int> {
            int imported = 0;
            long long now = core::unix_now_ns();
            Status written = transaction([&]() -> Status {
                imported = 0;
                for (std::size_t i = 0; i < runs.size(); ++i) {
                    RETRACE_ASSIGN(long long inserted, insert_run_row(runs[i], links[i], true));
                    if (inserted == 0) continue;  // already here: left as it is
                    RETRACE_TRY(write_batch(runs[i].id, events[i], order, false, false));
                    RETRACE_TRY(insert_files(files[i]));
                    if (source)
                        RETRACE_TRY(m_conn.exec(
                            "INSERT INTO run_imports (run_id, source, imported_ns) VALUES "
                            "($1, $2, $3)",
                            pg::Params().text(runs[i].id).text(*source).integer(now)));
                    if (runs[i].sealed())
                        RETRACE_TRY(append_store_log(m_conn, "added", runs[i].id,
                                                     runs[i].record_digest.value_or(""), now));
                    ++imported;
                }
                return Status::ok();
            });
            if (!written.is_ok()) return written;
            return imported;
        });
    }

    Result<std::vector<RunRow>> list_runs(const RunFilter& f) override {
        return attempt([&]() -> Result<std::vector<RunRow>> {
            pg::Params p;
            p.optional_text(f.name);
            p.optional_integer(f.since_ns);
            p.optional_integer(f.limit ? std::optional<long long>(*f.limit) : std::nullopt);
            p.optional_text(f.state);
            p.optional_text(f.contains);
            p.optional_integer(f.after ? std::optional<long long>(f.after->first) : std::nullopt);
            p.optional_text(f.after ? std::optional<std::string>(f.after->second) : std::nullopt);
            std::string kind;
            if (f.kind == RunFilter::Kind::record)
                kind = " AND replay_of IS NULL AND metadata NOT LIKE '%\"probe\":{%'";
            if (f.kind == RunFilter::Kind::replay) kind = " AND replay_of IS NOT NULL";
            if (f.kind == RunFilter::Kind::probe) kind = " AND metadata LIKE '%\"probe\":{%'";
            RETRACE_ASSIGN(
                auto q,
                m_conn.exec(std::string("SELECT ") + k_run_columns +
                                " FROM runs WHERE ($1::text IS NULL OR name = $1) AND "
                                "($2::bigint IS NULL OR started_ns >= $2) AND "
                                "($4::text IS NULL OR state = $4) AND ($5::text IS NULL OR "
                                "strpos(id, $5) > 0 OR strpos(name, $5) > 0) AND "
                                "($6::bigint IS NULL OR started_ns < $6 OR (started_ns = $6 AND "
                                "id COLLATE \"C\" < $7::text COLLATE \"C\"))" +
                                kind +
                                " ORDER BY started_ns DESC, id COLLATE \"C\" DESC LIMIT $3::bigint",
                            p));
            std::vector<RunRow> out;
            for (int i = 0; i < q.size(); ++i) out.push_back(read_run(q, i));
            return out;
        });
    }

    Result<std::optional<RunRow>> get_run(const std::string& id) override {
        return attempt([&]() -> Result<std::optional<RunRow>> {
            RETRACE_ASSIGN(auto q, m_conn.exec(std::string("SELECT ") + k_run_columns +
                                                   " FROM runs WHERE id = $1",
                                               pg::Params().text(id)));
            if (q.size() == 0) return std::optional<RunRow>();
            return std::optional<RunRow>(read_run(q, 0));
        });
    }

    Result<std::optional<std::string>> imported_from(const std::string& id) override {
        return attempt([&]() -> Result<std::optional<std::string>> {
            RETRACE_ASSIGN(auto q, m_conn.exec("SELECT source FROM run_imports WHERE run_id = $1",
                                               pg::Params().text(id)));
            if (q.size() == 0) return std::optional<std::string>();
            return std::optional<std::string>(q.text(0, 0));
        });
    }

    Result<std::vector<std::string>> run_ids_with_prefix(const std::string& prefix) override {
        return attempt([&]() -> Result<std::vector<std::string>> {
            std::string pattern = like_prefix(prefix);
            RETRACE_ASSIGN(auto q, m_conn.exec("SELECT id FROM runs WHERE id LIKE $1 ESCAPE '\\' "
                                               "ORDER BY id COLLATE \"C\" DESC LIMIT 20",
                                               pg::Params().text(pattern)));
            return column(q);
        });
    }

    Status each_event_after(const std::string& run_id, long long after_seq,
                            const EventVisitor& fn) override {
        // A sealed run's chain links are one value on its row.
        RETRACE_ASSIGN(auto links, attempt([&]() -> Result<pg::Rows> {
                           return m_conn.exec("SELECT event_links FROM runs WHERE id = $1",
                                              pg::Params().text(run_id), true);
                       }));
        std::string_view chain =
            links.size() == 1 && !links.is_null(0, 0) ? links.get(0, 0) : std::string_view();
        // Page by page (keyset on seq): a run of any length, in bounded memory.
        long long after = after_seq;
        for (;;) {
            RETRACE_ASSIGN(auto q, attempt([&]() -> Result<pg::Rows> {
                               return m_conn.exec(
                                   "SELECT seq, kind, name, parent, start_ns, end_ns, attrs, "
                                   "request, response FROM events WHERE run_id = $1 AND "
                                   "seq > $2 ORDER BY seq LIMIT $3",
                                   pg::Params().text(run_id).integer(after).integer(k_event_page));
                           }));
            for (int i = 0; i < q.size(); ++i) {
                EventRow e;
                e.event.seq = q.integer(i, 0);
                std::string kind = q.text(i, 1);
                auto known = core::parse_event_kind(kind);
                if (!known)
                    return error(ErrorCode::corrupt, "event " + std::to_string(e.event.seq) +
                                                         " of run " + run_id +
                                                         " has an unknown kind '" + kind + "'");
                e.event.kind = *known;
                e.event.name = q.text(i, 2);
                e.event.parent = q.integer(i, 3);
                e.event.start_ns = q.integer(i, 4);
                e.event.end_ns = q.integer(i, 5);
                e.attrs_text = q.text(i, 6);
                auto parsed = core::parse_json_strict(e.attrs_text);
                e.event.attrs = parsed ? parsed.value() : Json::object();
                e.event.request = q.optional_text(i, 7).value_or("");
                e.event.response = q.optional_text(i, 8).value_or("");
                if (!chain.empty()) e.digest = link_of(chain, e.event.seq);
                after = e.event.seq;
                RETRACE_TRY(fn(std::move(e)));
            }
            if (q.size() < k_event_page) return Status::ok();
        }
    }

    Result<std::vector<FileRow>> files(const std::string& run_id) override {
        return attempt([&]() -> Result<std::vector<FileRow>> {
            RETRACE_ASSIGN(auto q, m_conn.exec("SELECT run_id, role, path, digest FROM run_files "
                                               "WHERE run_id = $1 ORDER BY role COLLATE \"C\", "
                                               "path COLLATE \"C\"",
                                               pg::Params().text(run_id)));
            return file_rows(q);
        });
    }

    Result<std::vector<FileRow>> files_with_digest(const std::string& digest) override {
        return attempt([&]() -> Result<std::vector<FileRow>> {
            RETRACE_ASSIGN(auto q, m_conn.exec("SELECT f.run_id, f.role, f.path, f.digest FROM "
                                               "run_files f JOIN runs r ON r.id = f.run_id WHERE "
                                               "f.digest = $1 ORDER BY r.started_ns DESC, r.id "
                                               "COLLATE \"C\" DESC, f.role COLLATE \"C\", f.path "
                                               "COLLATE \"C\"",
                                               pg::Params().text(digest)));
            return file_rows(q);
        });
    }

    Result<std::vector<std::string>> run_blob_digests(const std::string& run_id) override {
        return attempt([&]() -> Result<std::vector<std::string>> {
            RETRACE_ASSIGN(auto q, m_conn.exec("SELECT digest FROM run_blobs WHERE run_id = $1 "
                                               "ORDER BY digest COLLATE \"C\"",
                                               pg::Params().text(run_id)));
            return column(q);
        });
    }

    Result<std::optional<std::string>> get_blob(const std::string& digest) override {
        return attempt([&]() -> Result<std::optional<std::string>> {
            RETRACE_ASSIGN(auto q, m_conn.exec("SELECT size, codec, data FROM blobs WHERE "
                                               "digest = $1",
                                               pg::Params().text(digest), true));
            if (q.size() == 0) return std::optional<std::string>();
            auto size = static_cast<std::size_t>(q.binary_integer(0, 0));
            std::string_view codec = q.get(0, 1), data = q.get(0, 2);
            RETRACE_ASSIGN(auto bytes, decode_blob(digest, codec, data, size));
            return std::optional<std::string>(std::move(bytes));
        });
    }

    Result<std::optional<std::vector<core::StoreLogEntry>>> store_log() override {
        return attempt([&]() -> Result<std::optional<std::vector<core::StoreLogEntry>>> {
            // (absent from a store of schema 1 this role may only read)
            RETRACE_ASSIGN(auto table, m_conn.exec("SELECT to_regclass('store_log') IS NOT NULL"));
            if (table.get(0, 0) != "t") return std::optional<std::vector<core::StoreLogEntry>>();
            RETRACE_ASSIGN(auto q, m_conn.exec("SELECT position, kind, run_id, record_digest, "
                                               "at_ns, digest FROM store_log ORDER BY position"));
            std::vector<core::StoreLogEntry> out;
            for (int i = 0; i < q.size(); ++i)
                out.push_back({q.integer(i, 0), q.text(i, 1), q.text(i, 2), q.text(i, 3),
                               q.integer(i, 4), q.text(i, 5)});
            return std::optional<std::vector<core::StoreLogEntry>>(std::move(out));
        });
    }

    Result<std::optional<BlobInfo>> blob_info(const std::string& digest) override {
        return attempt([&]() -> Result<std::optional<BlobInfo>> {
            RETRACE_ASSIGN(auto q, m_conn.exec("SELECT digest, size, codec, octet_length(data) "
                                               "FROM blobs WHERE digest = $1",
                                               pg::Params().text(digest)));
            if (q.size() == 0) return std::optional<BlobInfo>();
            return std::optional<BlobInfo>(
                BlobInfo{q.text(0, 0), q.integer(0, 1), q.text(0, 2), q.integer(0, 3)});
        });
    }

  private:
    // A blob as it goes into the table: the bytes, compressed when that
    // makes them smaller.
    struct Encoded {
        const Blob* blob;
        std::string frame;  // empty: stored raw
    };

    // Runs fn (one statement, or one whole transaction) and returns what it
    // gives. A serialization failure or deadlock is run again; a lost
    // connection is restored (for up to the retry budget) and fn run again
    // with m_reconnected set, so that a write whose commit may have reached
    // the server is repeated without writing anything twice. Errors come
    // back naming the store, password masked.
    template <typename F>
    auto attempt(F&& fn) -> decltype(fn()) {
        for (int conflicts = 0;;) {
            auto r = fn();
            const Status& s = status_of(r);
            if (s.is_ok()) {
                m_reconnected = false;
                return r;
            }
            if (m_conn.conflicted() && ++conflicts < 20) continue;
            if (!m_conn.lost()) return masked(s);
            Status back = reconnect(s);
            if (!back.is_ok()) return back;
        }
    }

    Status reconnect(const Status& cause) {
        auto budget = retry_budget();
        auto deadline = std::chrono::steady_clock::now() + budget;
        auto pause = std::chrono::milliseconds(100);
        for (;;) {
            if (m_conn.reset().is_ok()) {
                m_reconnected = true;
                return Status::ok();
            }
            if (std::chrono::steady_clock::now() + pause > deadline)
                return masked(error(ErrorCode::io,
                                    "the connection was lost and not restored within " +
                                        std::to_string(budget.count() / 1000) +
                                        " s ($RETRACE_STORE_RETRY_SECONDS): " + cause.message()));
            std::this_thread::sleep_for(pause);
            pause = std::min(pause * 2, std::chrono::milliseconds(2000));
        }
    }

    Status masked(const Status& s) const {
        return Status(s.code(),
                      m_location.mask("store " + m_location.display() + ": " + s.message()));
    }

    // body inside BEGIN ... COMMIT; rolled back when it fails.
    template <typename F>
    Status transaction(F&& body) {
        RETRACE_TRY(m_conn.exec_script("BEGIN"));
        Status s = body();
        if (s.is_ok()) s = m_conn.exec_script("COMMIT");
        if (!s.is_ok()) m_conn.rollback();
        return s;
    }

    static void add_run_row(std::vector<pg::Statement>& out, const RunRow& r,
                            const std::optional<std::string>& links, bool if_absent) {
        pg::Statement& st = out.emplace_back();
        pg::Params& p = st.params;
        p.text(r.id).optional_text(r.name).text(r.state).optional_text(r.replay_of);
        p.integer(r.started_ns).optional_integer(r.ended_ns).optional_integer(r.exit_code);
        p.text(r.conditions).text(r.conditions_digest).text(r.metadata);
        p.optional_text(r.metadata_digest).optional_text(r.outcome).optional_text(r.outcome_digest);
        p.optional_text(r.chain_head).optional_integer(r.event_count);
        p.optional_text(r.record_digest);
        if (links)
            p.bytes(*links);
        else
            p.null();
        st.sql = std::string("INSERT INTO runs (") + k_run_columns + ", event_links) VALUES " +
                 values_list(1, 17) + (if_absent ? " ON CONFLICT (id) DO NOTHING" : "");
    }

    // The run's row; how many were inserted (0: if_absent, and it was there).
    Result<long long> insert_run_row(const RunRow& r, const std::optional<std::string>& links,
                                     bool if_absent) {
        std::vector<pg::Statement> st;
        add_run_row(st, r, links, if_absent);
        RETRACE_ASSIGN(auto done, m_conn.pipeline(st));
        return done.front().affected();
    }

    // The statements that write rows, added to a pipeline (pg::Connection::
    // pipeline: sent at once, one round trip). Values are referenced, not
    // copied: what they point into outlives the pipeline.

    void add_files(std::vector<pg::Statement>& out, const std::vector<FileRow>& files) {
        for (std::size_t at = 0; at < files.size();) {
            std::size_t n = std::min(files.size() - at, k_max_params / 4);
            pg::Statement& st = out.emplace_back();
            for (std::size_t i = at; i < at + n; ++i)
                st.params.text(files[i].run_id)
                    .text(files[i].role)
                    .text(files[i].path)
                    .text(files[i].digest);
            st.sql = "INSERT INTO run_files (run_id, role, path, digest) VALUES " +
                     values_list(n, 4) +
                     " ON CONFLICT (run_id, role, path) DO UPDATE SET digest = EXCLUDED.digest";
            at += n;
        }
    }

    Status insert_files(const std::vector<FileRow>& files) {
        std::vector<pg::Statement> statements;
        add_files(statements, files);
        return m_conn.pipeline(statements).status();
    }

    void add_events(std::vector<pg::Statement>& out, const std::string& run_id,
                    const std::vector<EventRow>& events, bool if_absent) {
        for (std::size_t at = 0; at < events.size();) {
            std::size_t n = std::min(events.size() - at, k_max_params / 10);
            pg::Statement& st = out.emplace_back();
            pg::Params& p = st.params;
            for (std::size_t i = at; i < at + n; ++i) {
                const auto& e = events[i].event;
                p.text(run_id).integer(e.seq).text(core::to_string(e.kind)).text(e.name);
                p.integer(e.parent).integer(e.start_ns).integer(e.end_ns);
                p.text(events[i].attrs_text);
                if (e.request.empty())
                    p.null();
                else
                    p.text(e.request);
                if (e.response.empty())
                    p.null();
                else
                    p.text(e.response);
            }
            // (chain links live on the run's row: the seal, or import_runs)
            st.sql =
                "INSERT INTO events (run_id, seq, kind, name, parent, start_ns, end_ns, attrs, "
                "request, response) VALUES " +
                values_list(n, 10) + (if_absent ? " ON CONFLICT (run_id, seq) DO NOTHING" : "");
            at += n;
        }
    }

    // Statements asking which of order's blobs are stored (digest rows).
    static void add_blob_lookup(std::vector<pg::Statement>& out,
                                const std::vector<const Blob*>& order) {
        for (std::size_t at = 0; at < order.size(); at += 10000) {
            std::vector<std::string> digests;
            for (std::size_t i = at; i < std::min(order.size(), at + 10000); ++i)
                digests.push_back(order[i]->digest);
            pg::Statement& st = out.emplace_back();
            st.sql = "SELECT digest FROM blobs WHERE digest = ANY($1::text[])";
            st.params.text_array(digests);
        }
    }

    // The blobs among order not in present (what the lookups returned),
    // compressed.
    static std::vector<Encoded> encode_missing(const std::vector<const Blob*>& order,
                                               const std::vector<pg::Rows>& present_rows) {
        std::unordered_set<std::string_view> present;
        for (const auto& q : present_rows)
            for (int i = 0; i < q.size(); ++i) present.insert(q.get(i, 0));
        std::vector<Encoded> out;
        for (const Blob* b : order) {
            if (present.count(b->digest)) continue;
            std::string frame;
            if (b->data.size() >= k_min_compress) {
                frame = zstd_compress(b->data);
                if (frame.size() >= b->data.size()) frame.clear();
            }
            out.push_back(Encoded{b, std::move(frame)});
        }
        return out;
    }

    static void add_blobs(std::vector<pg::Statement>& out, const std::vector<Encoded>& encoded) {
        // Bounded by bytes as well as rows: one statement need not carry
        // every large answer of a batch at once.
        for (std::size_t at = 0; at < encoded.size();) {
            std::size_t n = 0, bytes = 0;
            while (at + n < encoded.size() && n < k_max_params / 4 &&
                   (n == 0 || bytes < (std::size_t{32} << 20))) {
                const auto& e = encoded[at + n];
                bytes += e.frame.empty() ? e.blob->data.size() : e.frame.size();
                ++n;
            }
            pg::Statement& st = out.emplace_back();
            for (std::size_t i = at; i < at + n; ++i) {
                const auto& e = encoded[i];
                bool compressed = !e.frame.empty();
                st.params.text(e.blob->digest).integer(static_cast<long long>(e.blob->data.size()));
                st.params.text(compressed ? "zstd" : "raw")
                    .bytes(compressed ? e.frame : e.blob->data);
            }
            st.sql = "INSERT INTO blobs (digest, size, codec, data) VALUES " + values_list(n, 4) +
                     " ON CONFLICT (digest) DO NOTHING";
            at += n;
        }
    }

    static void add_blob_refs(std::vector<pg::Statement>& out, const std::string& run_id,
                              const std::vector<const Blob*>& order) {
        for (std::size_t at = 0; at < order.size();) {
            std::size_t n = std::min(order.size() - at, k_max_params / 2);
            pg::Statement& st = out.emplace_back();
            for (std::size_t i = at; i < at + n; ++i) st.params.text(run_id).text(order[i]->digest);
            st.sql = "INSERT INTO run_blobs (run_id, digest) VALUES " + values_list(n, 2) +
                     " ON CONFLICT DO NOTHING";
            at += n;
        }
    }

    // Stores blobs and run_id's references to them, and its events: the
    // blob lock and which blobs are stored already, then every insert, in
    // two round trips. own: in a transaction of its own (begun and
    // committed here; the caller rolls back a failure), else in the one
    // open on m_conn.
    Status write_batch(const std::string& run_id, const std::vector<EventRow>& events,
                       const std::vector<const Blob*>& order, bool if_absent, bool own) {
        std::vector<pg::Statement> first;
        if (own) first.emplace_back().sql = "BEGIN";
        pg::Statement& lock = first.emplace_back();
        lock.sql = "SELECT pg_advisory_xact_lock_shared($1::bigint)";
        lock.params.integer(k_blob_lock);
        add_blob_lookup(first, order);
        RETRACE_ASSIGN(auto found, m_conn.pipeline(first));
        found.erase(found.begin(), found.begin() + (own ? 2 : 1));  // (BEGIN's, the lock's)
        std::vector<Encoded> encoded = encode_missing(order, found);
        std::vector<pg::Statement> second;
        add_blobs(second, encoded);
        add_blob_refs(second, run_id, order);
        add_events(second, run_id, events, if_absent);
        if (own) second.emplace_back().sql = "COMMIT";
        return m_conn.pipeline(second).status();
    }

    static std::vector<std::string> column(const pg::Rows& q) {
        std::vector<std::string> out;
        for (int i = 0; i < q.size(); ++i) out.push_back(q.text(i, 0));
        return out;
    }

    static std::vector<FileRow> file_rows(const pg::Rows& q) {
        std::vector<FileRow> out;
        for (int i = 0; i < q.size(); ++i)
            out.push_back(FileRow{q.text(i, 0), q.text(i, 1), q.text(i, 2), q.text(i, 3)});
        return out;
    }

    StoreLocation m_location;
    pg::Connection m_conn;
    bool m_read_only = false;
    bool m_reconnected = false;
    std::string m_secret;
    // Digests of blobs stored for m_stored_run by append(), up to a bound.
    static constexpr std::size_t k_stored_cache = 100000;
    std::string m_stored_run;
    std::unordered_set<std::string> m_stored;
};

// Creates or upgrades the tables, one migration per transaction, under an
// advisory lock so that recorders starting at once do not race.
Status migrate(pg::Connection& conn, bool create, const StoreLocation& location) {
    auto version = [&]() -> Result<int> {
        RETRACE_ASSIGN(auto q, conn.exec("SELECT CASE WHEN to_regclass('retrace_schema') IS NULL "
                                         "THEN -1 ELSE 0 END"));
        if (q.integer(0, 0) < 0) return -1;
        RETRACE_ASSIGN(auto v, conn.exec("SELECT coalesce(max(version), 0) FROM retrace_schema"));
        return static_cast<int>(v.integer(0, 0));
    };
    RETRACE_ASSIGN(int now, version());
    if (now > k_schema_version)
        return error(ErrorCode::invalid_input, "store " + location.display() +
                                                   " has schema version " + std::to_string(now) +
                                                   ", newer than this retrace understands (" +
                                                   std::to_string(k_schema_version) + ")");
    if (now < 0 && !create)
        return error(ErrorCode::not_found, "no retrace store at " + location.display() +
                                               " (the database has no retrace tables)");
    auto indexes = [&] {
        for (const auto& index : k_indexes) {
            auto there =
                conn.exec("SELECT to_regclass($1) IS NOT NULL", pg::Params().text(index.name));
            if (there && there->size() == 1 && there->get(0, 0) == "f")
                (void)conn.exec_script(index.sql);  // (a reader's role may not: it goes without)
        }
        return Status::ok();
    };
    if (now == k_schema_version) return indexes();
    for (const auto& m : k_migrations) {
        if (m.to_version <= now) continue;
        RETRACE_TRY(conn.exec_script("BEGIN"));
        Status s = [&]() -> Status {
            RETRACE_TRY(conn.exec("SELECT pg_advisory_xact_lock($1::bigint)",
                                  pg::Params().integer(k_migration_lock)));
            RETRACE_ASSIGN(int current, version());
            if (current >= m.to_version) return Status::ok();
            RETRACE_TRY(conn.exec_script(m.sql));
            if (m.then) RETRACE_TRY(m.then(conn));
            RETRACE_TRY(conn.exec("INSERT INTO retrace_schema (version) VALUES ($1::bigint)",
                                  pg::Params().integer(m.to_version)));
            return Status::ok();
        }();
        if (s.is_ok()) s = conn.exec_script("COMMIT");
        if (!s.is_ok()) {
            (void)conn.exec_script("ROLLBACK");
            return s;
        }
    }
    return indexes();
}

}  // namespace

Result<std::unique_ptr<Store>> open_postgres_store(const StoreLocation& location, bool create) {
    auto conn = pg::Connection::connect(with_defaults(location.conninfo()));
    if (!conn)
        return error(ErrorCode::invalid_input,
                     location.mask("cannot connect to the store " + location.display() + ": " +
                                   conn.status().message()));
    Status migrated = migrate(*conn, create, location);
    // A role that may only read reads an older schema as it is (a table
    // added since is simply absent), as for SQLite.
    if (!migrated.is_ok() && migrated.code() == ErrorCode::denied && !create)
        migrated = Status::ok();
    if (!migrated.is_ok())
        return Status(
            migrated.code(),
            location.mask(migrated.message().starts_with("store ") ||
                                  migrated.message().starts_with("no retrace store")
                              ? migrated.message()
                              : "store " + location.display() + ": " + migrated.message()));
    auto writable = conn->exec("SELECT has_table_privilege('events', 'INSERT')");
    if (!writable)
        return error(ErrorCode::io, location.mask("store " + location.display() + ": " +
                                                  writable.status().message()));
    bool read_only = writable->get(0, 0) != "t";
    return std::unique_ptr<Store>(new PostgresStore(location, std::move(conn).value(), read_only));
}

}  // namespace retrace::store
