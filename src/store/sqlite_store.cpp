// The embedded SQLite store: one file, WAL, zstd blobs deduplicated by digest.
#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <unordered_set>

#include "blob_codec.hpp"
#include "migrations.hpp"
#include "private_files.hpp"
#include "retrace/core/clock.hpp"
#include "retrace/core/digest.hpp"
#include "retrace/store/sqlite.hpp"
#include "retrace/store/store.hpp"
#include "sqlite_log.hpp"

namespace retrace::store {

namespace {

namespace fs = std::filesystem;

// Blobs smaller than this are stored raw: a zstd frame would not be smaller.
constexpr std::size_t k_min_compress = 64;

constexpr const char* k_run_columns =
    "id, name, state, replay_of, started_ns, ended_ns, exit_code, conditions, "
    "conditions_digest, metadata, metadata_digest, outcome, outcome_digest, chain_head, "
    "event_count, record_digest";

std::optional<long long> optional_int(const Statement& s, int col) {
    if (s.is_null(col)) return std::nullopt;
    return s.integer(col);
}

RunRow read_run(const Statement& s) {
    RunRow r;
    r.id = s.text(0);
    r.name = s.optional_text(1);
    r.state = s.text(2);
    r.replay_of = s.optional_text(3);
    r.started_ns = s.integer(4);
    r.ended_ns = optional_int(s, 5);
    r.exit_code = optional_int(s, 6);
    r.conditions = s.text(7);
    r.conditions_digest = s.text(8);
    r.metadata = s.text(9);
    r.metadata_digest = s.optional_text(10);
    r.outcome = s.optional_text(11);
    r.outcome_digest = s.optional_text(12);
    r.chain_head = s.optional_text(13);
    r.event_count = optional_int(s, 14);
    r.record_digest = s.optional_text(15);
    return r;
}

void bind_optional_int(Statement& s, int index, const std::optional<long long>& v) {
    if (v)
        s.bind(index, static_cast<std::int64_t>(*v));
    else
        s.bind_null(index);
}

// The whole of a small file, or "" when it cannot be read.
std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), {});
}

// Makes a new name in dir durable (best effort: a store on a file system
// that cannot sync a directory still works).
void sync_directory(const fs::path& dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    (void)::fsync(fd);
    ::close(fd);
}

class SqliteStore final : public Store {
  public:
    SqliteStore(fs::path dir, Database db) : m_dir(std::move(dir)), m_db(std::move(db)) {}

    StoreLocation location() const override { return StoreLocation(m_dir); }
    bool read_only() const override { return m_db.read_only(); }
    Result<std::unique_ptr<Store>> connect() override { return open_sqlite_store(m_dir, false); }

    Result<std::string> secret() override {
        // Kept beside the database, mode 0600, generated on first use.
        fs::path file = m_dir / "secret";
        if (std::string key = read_file(file); key.size() == 64) return key;
        unsigned char raw[40];
        if (getrandom(raw, sizeof raw, 0) != static_cast<ssize_t>(sizeof raw))
            return error(ErrorCode::io, "getrandom failed");
        std::string key = core::to_hex(std::string_view(reinterpret_cast<char*>(raw), 32));
        // Written to a file of this caller's own, created 0600, then linked
        // into place: link() fails when another process (a probe's --jobs
        // open a new store at once) got there first, and theirs is used.
        std::string tmp =
            (m_dir /
             ("secret." + core::to_hex(std::string_view(reinterpret_cast<char*>(raw) + 32, 8)) +
              ".tmp"))
                .string();
        int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
            return error(ErrorCode::io, "cannot create " + tmp + ": " + std::strerror(errno));
        bool written = ::write(fd, key.data(), key.size()) == static_cast<ssize_t>(key.size()) &&
                       ::fsync(fd) == 0;
        ::close(fd);
        if (written && ::link(tmp.c_str(), file.c_str()) == 0) sync_directory(m_dir);
        ::unlink(tmp.c_str());
        if (!written) return error(ErrorCode::io, "cannot write " + tmp);
        std::string final_key = read_file(file);
        if (final_key.size() != 64)
            return error(ErrorCode::corrupt, "bad store secret " + file.string());
        return final_key;
    }

    Status insert_run(const RunRow& run, const std::vector<FileRow>& files) override {
        RETRACE_ASSIGN(auto tx, Transaction::begin(m_db));
        RETRACE_TRY(insert_run_row(run));
        RETRACE_TRY(insert_files(files));
        return tx.commit();
    }

    Status append(const std::string& run_id, const std::vector<EventRow>& events,
                  const std::vector<Blob>& blobs) override {
        if (run_id != m_stored_run) {
            m_stored_run = run_id;
            m_stored.clear();
        }
        std::vector<const std::string*> fresh;
        RETRACE_ASSIGN(auto tx, Transaction::begin(m_db));
        RETRACE_TRY(insert_blobs(run_id, blobs, fresh));
        RETRACE_TRY(insert_events(run_id, events));
        RETRACE_TRY(tx.commit());
        // Known from here on: committed, and referenced by this run.
        for (const auto* d : fresh)
            if (m_stored.size() < k_stored_cache) m_stored.insert(*d);
        return Status::ok();
    }

    Status seal(const SealRequest& s) override {
        RETRACE_ASSIGN(auto tx, Transaction::begin(m_db));
        RETRACE_ASSIGN(auto upd,
                       m_db.prepare("UPDATE runs SET state='sealed', ended_ns=?, exit_code=?, "
                                    "metadata=?, metadata_digest=?, outcome=?, outcome_digest=?, "
                                    "chain_head=?, event_count=?, record_digest=?, "
                                    "conditions=coalesce(?, conditions), "
                                    "conditions_digest=coalesce(?, conditions_digest) "
                                    "WHERE id=? AND state='incomplete'"));
        upd.bind(1, static_cast<std::int64_t>(s.ended_ns));
        bind_optional_int(upd, 2, s.exit_code);
        upd.bind(3, s.metadata).bind(4, s.metadata_digest).bind(5, s.outcome);
        upd.bind(6, s.outcome_digest).bind(7, s.chain_head);
        upd.bind(8, static_cast<std::int64_t>(s.event_count)).bind(9, s.record_digest);
        upd.bind_optional(10, s.conditions).bind_optional(11, s.conditions_digest);
        upd.bind(12, s.run_id);
        RETRACE_TRY(upd.run());
        if (m_db.changes() != 1)
            return error(ErrorCode::invalid_input, "run " + s.run_id + " is not an incomplete run");
        RETRACE_ASSIGN(auto ev,
                       m_db.prepare("UPDATE events SET digest=? WHERE run_id=? AND seq=?"));
        for (const auto& [seq, digest] : s.event_digests) {
            ev.bind(1, digest).bind(2, s.run_id).bind(3, static_cast<std::int64_t>(seq));
            RETRACE_TRY(ev.run());
        }
        RETRACE_TRY(insert_files(s.files));
        RETRACE_TRY(
            append_store_log(m_db, "added", s.run_id, s.record_digest, core::unix_now_ns()));
        return tx.commit();
    }

    Status remove_runs(const std::vector<std::string>& ids) override {
        RETRACE_ASSIGN(auto tx, Transaction::begin(m_db));
        RETRACE_ASSIGN(auto sealed, m_db.prepare("SELECT record_digest FROM runs "
                                                 "WHERE id=? AND state='sealed'"));
        RETRACE_ASSIGN(auto del, m_db.prepare("DELETE FROM runs WHERE id=?"));
        long long now = core::unix_now_ns();
        for (const auto& id : ids) {
            sealed.bind(1, id);
            RETRACE_ASSIGN(bool was_sealed, sealed.step());
            std::string record = was_sealed ? sealed.optional_text(0).value_or("") : "";
            sealed.reset();
            if (was_sealed) RETRACE_TRY(append_store_log(m_db, "removed", id, record, now));
            del.bind(1, id);
            RETRACE_TRY(del.run());
        }
        return tx.commit();
    }

    Result<std::pair<long long, long long>> gc() override {
        RETRACE_ASSIGN(auto tx, Transaction::begin(m_db));
        RETRACE_ASSIGN(auto count,
                       m_db.prepare("SELECT count(*), coalesce(sum(length(data)),0) FROM blobs "
                                    "WHERE digest NOT IN (SELECT digest FROM run_blobs)"));
        RETRACE_ASSIGN(bool row, count.step());
        (void)row;
        std::pair<long long, long long> freed{count.integer(0), count.integer(1)};
        count.reset();
        RETRACE_TRY(
            m_db.exec("DELETE FROM blobs WHERE digest NOT IN (SELECT digest FROM run_blobs)"));
        RETRACE_TRY(tx.commit());
        RETRACE_TRY(m_db.exec("PRAGMA wal_checkpoint(TRUNCATE)"));
        return freed;
    }

    Result<int> import_runs(const std::vector<RunRow>& runs,
                            const std::vector<std::vector<EventRow>>& events,
                            const std::vector<std::vector<FileRow>>& files,
                            const std::vector<Blob>& blobs,
                            const std::optional<std::string>& source) override {
        RETRACE_ASSIGN(auto tx, Transaction::begin(m_db));
        RETRACE_ASSIGN(auto exists, m_db.prepare("SELECT 1 FROM runs WHERE id=?"));
        RETRACE_ASSIGN(auto mark,
                       m_db.prepare("INSERT INTO run_imports (run_id, source, imported_ns) "
                                    "VALUES (?, ?, ?)"));
        long long now = core::unix_now_ns();
        int imported = 0;
        for (std::size_t i = 0; i < runs.size(); ++i) {
            exists.bind(1, runs[i].id);
            RETRACE_ASSIGN(bool present, exists.step());
            exists.reset();
            if (present) continue;
            RETRACE_TRY(insert_run_row(runs[i]));
            RETRACE_TRY(insert_events(runs[i].id, events[i]));
            RETRACE_TRY(insert_files(files[i]));
            std::vector<const std::string*> fresh;
            RETRACE_TRY(insert_blobs(runs[i].id, blobs, fresh));
            if (source) {
                mark.bind(1, runs[i].id).bind(2, *source).bind(3, static_cast<std::int64_t>(now));
                RETRACE_TRY(mark.run());
                mark.reset();
            }
            if (runs[i].sealed())
                RETRACE_TRY(append_store_log(m_db, "added", runs[i].id,
                                             runs[i].record_digest.value_or(""), now));
            ++imported;
        }
        RETRACE_TRY(tx.commit());
        return imported;
    }

    Result<std::vector<RunRow>> list_runs(const RunFilter& f) override {
        std::string sql = std::string("SELECT ") + k_run_columns + " FROM runs WHERE 1";
        if (f.name) sql += " AND name = ?1";
        if (f.since_ns) sql += " AND started_ns >= ?2";
        if (f.state) sql += " AND state = ?4";
        if (f.contains) sql += " AND (instr(id, ?5) > 0 OR instr(name, ?5) > 0)";
        if (f.after) sql += " AND (started_ns < ?6 OR (started_ns = ?6 AND id < ?7))";
        if (f.kind == RunFilter::Kind::record)
            sql += " AND replay_of IS NULL AND metadata NOT LIKE '%\"probe\":{%'";
        if (f.kind == RunFilter::Kind::replay) sql += " AND replay_of IS NOT NULL";
        if (f.kind == RunFilter::Kind::probe) sql += " AND metadata LIKE '%\"probe\":{%'";
        sql += " ORDER BY started_ns DESC, id DESC";
        if (f.limit) sql += " LIMIT ?3";
        RETRACE_ASSIGN(auto q, m_db.prepare(sql));
        if (f.name) q.bind(1, *f.name);
        if (f.since_ns) q.bind(2, static_cast<std::int64_t>(*f.since_ns));
        if (f.limit) q.bind(3, static_cast<std::int64_t>(*f.limit));
        if (f.state) q.bind(4, *f.state);
        if (f.contains) q.bind(5, *f.contains);
        if (f.after) {
            q.bind(6, static_cast<std::int64_t>(f.after->first));
            q.bind(7, f.after->second);
        }
        std::vector<RunRow> out;
        for (;;) {
            RETRACE_ASSIGN(bool row, q.step());
            if (!row) break;
            out.push_back(read_run(q));
        }
        return out;
    }

    Result<std::optional<std::string>> imported_from(const std::string& id) override {
        // (absent from a store of schema 1 opened read-only: nothing imported since)
        RETRACE_ASSIGN(auto table,
                       m_db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'run_imports'"));
        RETRACE_ASSIGN(bool has_table, table.step());
        if (!has_table) return std::optional<std::string>();
        RETRACE_ASSIGN(auto q, m_db.prepare("SELECT source FROM run_imports WHERE run_id = ?"));
        q.bind(1, id);
        RETRACE_ASSIGN(bool row, q.step());
        if (!row) return std::optional<std::string>();
        return std::optional<std::string>(q.text(0));
    }

    Result<std::optional<RunRow>> get_run(const std::string& id) override {
        RETRACE_ASSIGN(
            auto q, m_db.prepare(std::string("SELECT ") + k_run_columns + " FROM runs WHERE id=?"));
        q.bind(1, id);
        RETRACE_ASSIGN(bool row, q.step());
        if (!row) return std::optional<RunRow>();
        return std::optional<RunRow>(read_run(q));
    }

    Result<std::vector<std::string>> run_ids_with_prefix(const std::string& prefix) override {
        RETRACE_ASSIGN(auto q, m_db.prepare("SELECT id FROM runs WHERE substr(id,1,?1)=?2 "
                                            "ORDER BY id DESC LIMIT 20"));
        q.bind(1, static_cast<std::int64_t>(prefix.size())).bind(2, prefix);
        return collect_text(q);
    }

    Status each_event_after(const std::string& run_id, long long after_seq,
                            const EventVisitor& fn) override {
        RETRACE_ASSIGN(auto q,
                       m_db.prepare("SELECT seq, kind, name, parent, start_ns, end_ns, attrs, "
                                    "request, response, digest FROM events WHERE run_id=?1 "
                                    "AND seq > ?2 ORDER BY seq"));
        q.bind(1, run_id);
        q.bind(2, static_cast<std::int64_t>(after_seq));
        for (;;) {
            RETRACE_ASSIGN(bool row, q.step());
            if (!row) break;
            EventRow e;
            e.event.seq = q.integer(0);
            std::string kind = q.text(1);
            auto known = core::parse_event_kind(kind);
            if (!known)
                return error(ErrorCode::corrupt, "event " + std::to_string(e.event.seq) +
                                                     " of run " + run_id +
                                                     " has an unknown kind '" + kind + "'");
            e.event.kind = *known;
            e.event.name = q.text(2);
            e.event.parent = q.integer(3);
            e.event.start_ns = q.integer(4);
            e.event.end_ns = q.integer(5);
            e.attrs_text = q.text(6);
            auto parsed = core::parse_json_strict(e.attrs_text);
            e.event.attrs = parsed ? parsed.value() : Json::object();
            e.event.request = q.optional_text(7).value_or("");
            e.event.response = q.optional_text(8).value_or("");
            e.digest = q.optional_text(9);
            RETRACE_TRY(fn(std::move(e)));
        }
        return Status::ok();
    }

    Result<std::vector<FileRow>> files(const std::string& run_id) override {
        RETRACE_ASSIGN(auto q, m_db.prepare("SELECT run_id, role, path, digest FROM run_files "
                                            "WHERE run_id=? ORDER BY role, path"));
        q.bind(1, run_id);
        return collect_files(q);
    }

    Result<std::vector<FileRow>> files_with_digest(const std::string& digest) override {
        RETRACE_ASSIGN(auto q,
                       m_db.prepare("SELECT f.run_id, f.role, f.path, f.digest FROM run_files f "
                                    "JOIN runs r ON r.id = f.run_id WHERE f.digest=? "
                                    "ORDER BY r.started_ns DESC, r.id DESC, f.role, f.path"));
        q.bind(1, digest);
        return collect_files(q);
    }

    Result<std::vector<std::string>> run_blob_digests(const std::string& run_id) override {
        RETRACE_ASSIGN(auto q,
                       m_db.prepare("SELECT digest FROM run_blobs WHERE run_id=? ORDER BY digest"));
        q.bind(1, run_id);
        return collect_text(q);
    }

    Result<std::optional<std::string>> get_blob(const std::string& digest) override {
        // (prepared once: a replay reads every blob of its recording)
        RETRACE_ASSIGN(auto* q, statement("SELECT size, codec, data FROM blobs WHERE digest=?"));
        q->bind(1, digest);
        auto row = q->step();
        std::string codec, data;
        std::size_t size = 0;
        if (row && *row) {
            codec = q->text(1);
            data = q->blob(2);
            size = static_cast<std::size_t>(q->integer(0));
        }
        q->reset();  // (a statement left stepping would hold its read transaction)
        if (!row) return row.status();
        if (!*row) return std::optional<std::string>();
        RETRACE_ASSIGN(auto bytes, decode_blob(digest, codec, data, size));
        return std::optional<std::string>(std::move(bytes));
    }

    Result<std::optional<std::vector<core::StoreLogEntry>>> store_log() override {
        using Log = std::optional<std::vector<core::StoreLogEntry>>;
        // (absent from a store of schema 2 opened read-only)
        RETRACE_ASSIGN(auto table,
                       m_db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'store_log'"));
        RETRACE_ASSIGN(bool has_table, table.step());
        if (!has_table) return Log();
        RETRACE_ASSIGN(auto q, m_db.prepare("SELECT position, kind, run_id, record_digest, at_ns, "
                                            "digest FROM store_log ORDER BY position"));
        std::vector<core::StoreLogEntry> out;
        for (;;) {
            RETRACE_ASSIGN(bool row, q.step());
            if (!row) break;
            out.push_back({q.integer(0), q.text(1), q.text(2), q.text(3), q.integer(4), q.text(5)});
        }
        return Log(std::move(out));
    }

    Result<std::optional<BlobInfo>> blob_info(const std::string& digest) override {
        RETRACE_ASSIGN(
            auto q,
            m_db.prepare("SELECT digest, size, codec, length(data) FROM blobs WHERE digest=?"));
        q.bind(1, digest);
        RETRACE_ASSIGN(bool row, q.step());
        if (!row) return std::optional<BlobInfo>();
        return std::optional<BlobInfo>(BlobInfo{q.text(0), q.integer(1), q.text(2), q.integer(3)});
    }

  private:
    Status insert_run_row(const RunRow& r) {
        RETRACE_ASSIGN(auto q, m_db.prepare(std::string("INSERT INTO runs (") + k_run_columns +
                                            ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
        q.bind(1, r.id).bind_optional(2, r.name).bind(3, r.state).bind_optional(4, r.replay_of);
        q.bind(5, static_cast<std::int64_t>(r.started_ns));
        bind_optional_int(q, 6, r.ended_ns);
        bind_optional_int(q, 7, r.exit_code);
        q.bind(8, r.conditions).bind(9, r.conditions_digest).bind(10, r.metadata);
        q.bind_optional(11, r.metadata_digest).bind_optional(12, r.outcome);
        q.bind_optional(13, r.outcome_digest).bind_optional(14, r.chain_head);
        bind_optional_int(q, 15, r.event_count);
        q.bind_optional(16, r.record_digest);
        return q.run();
    }

    Status insert_events(const std::string& run_id, const std::vector<EventRow>& events) {
        RETRACE_ASSIGN(auto* insert,
                       statement("INSERT INTO events (run_id, seq, kind, name, parent, start_ns, "
                                 "end_ns, attrs, request, response, digest) "
                                 "VALUES (?,?,?,?,?,?,?,?,?,?,?)"));
        Statement& q = *insert;
        for (const auto& row : events) {
            const auto& e = row.event;
            q.bind(1, run_id)
                .bind(2, static_cast<std::int64_t>(e.seq))
                .bind(3, core::to_string(e.kind));
            q.bind(4, e.name).bind(5, static_cast<std::int64_t>(e.parent));
            q.bind(6, static_cast<std::int64_t>(e.start_ns));
            q.bind(7, static_cast<std::int64_t>(e.end_ns)).bind(8, row.attrs_text);
            if (e.request.empty())
                q.bind_null(9);
            else
                q.bind(9, e.request);
            if (e.response.empty())
                q.bind_null(10);
            else
                q.bind(10, e.response);
            q.bind_optional(11, row.digest);
            RETRACE_TRY(q.run());
        }
        return Status::ok();
    }

    Status insert_files(const std::vector<FileRow>& files) {
        RETRACE_ASSIGN(auto q, m_db.prepare("INSERT OR REPLACE INTO run_files (run_id, role, path, "
                                            "digest) VALUES (?,?,?,?)"));
        for (const auto& f : files) {
            q.bind(1, f.run_id).bind(2, f.role).bind(3, f.path).bind(4, f.digest);
            RETRACE_TRY(q.run());
        }
        return Status::ok();
    }

    // Writes blobs and this run's references to them. A blob this run
    // already stored in an earlier batch (a repeated answer, a replay with
    // --reuse) is skipped: no compression, no write; one another run stored
    // is only referenced. fresh gets the blobs not skipped.
    Status insert_blobs(const std::string& run_id, const std::vector<Blob>& blobs,
                        std::vector<const std::string*>& fresh) {
        RETRACE_ASSIGN(auto* blob_statement,
                       statement("INSERT OR IGNORE INTO blobs (digest, size, codec, data) "
                                 "VALUES (?,?,?,?)"));
        RETRACE_ASSIGN(auto* ref_statement,
                       statement("INSERT OR IGNORE INTO run_blobs (run_id, digest) VALUES (?,?)"));
        RETRACE_ASSIGN(auto* exists_statement, statement("SELECT 1 FROM blobs WHERE digest=?"));
        Statement &blob = *blob_statement, &ref = *ref_statement, &exists = *exists_statement;
        std::vector<const Blob*> order;
        order.reserve(blobs.size());
        for (const auto& b : blobs) order.push_back(&b);
        std::sort(order.begin(), order.end(),
                  [](const Blob* a, const Blob* b) { return a->digest < b->digest; });
        for (const Blob* bp : order) {
            const Blob& b = *bp;
            if (run_id == m_stored_run && m_stored.count(b.digest)) continue;
            fresh.push_back(&b.digest);
            // Stored by another run (a replay's answers, a repeated request):
            // only referenced.
            exists.bind(1, b.digest);
            RETRACE_ASSIGN(bool stored, exists.step());
            exists.reset();
            if (stored) {
                ref.bind(1, run_id).bind(2, b.digest);
                RETRACE_TRY(ref.run());
                continue;
            }
            bool compress = b.data.size() >= k_min_compress;
            std::string frame = compress ? zstd_compress(b.data) : std::string();
            compress = compress && !frame.empty() && frame.size() < b.data.size();
            blob.bind(1, b.digest).bind(2, static_cast<std::int64_t>(b.data.size()));
            blob.bind(3, compress ? "zstd" : "raw").bind_blob(4, compress ? frame : b.data);
            RETRACE_TRY(blob.run());
            ref.bind(1, run_id).bind(2, b.digest);
            RETRACE_TRY(ref.run());
        }
        return Status::ok();
    }

    Result<std::vector<std::string>> collect_text(Statement& q) {
        std::vector<std::string> out;
        for (;;) {
            RETRACE_ASSIGN(bool row, q.step());
            if (!row) break;
            out.push_back(q.text(0));
        }
        return out;
    }

    Result<std::vector<FileRow>> collect_files(Statement& q) {
        std::vector<FileRow> out;
        for (;;) {
            RETRACE_ASSIGN(bool row, q.step());
            if (!row) break;
            out.push_back(FileRow{q.text(0), q.text(1), q.text(2), q.text(3)});
        }
        return out;
    }

    fs::path m_dir;
    Database m_db;
    // Digests of blobs stored for m_stored_run by append(), up to a bound.
    static constexpr std::size_t k_stored_cache = 100000;
    std::string m_stored_run;
    std::unordered_set<std::string> m_stored;
    // Statements append() runs for every batch, prepared once (keyed by
    // their SQL, string literals); after m_db, so finalized before it closes.
    std::map<std::string_view, Statement> m_statements;

    Result<Statement*> statement(std::string_view sql) {
        auto it = m_statements.find(sql);
        if (it == m_statements.end()) {
            RETRACE_ASSIGN(auto q, m_db.prepare(sql));
            it = m_statements.emplace(sql, std::move(q)).first;
        }
        return &it->second;
    }
};

}  // namespace

Result<std::unique_ptr<Store>> open_sqlite_store(const fs::path& dir, bool create) {
    fs::path file = dir / "retrace.db";
    std::error_code ec;
    if (!fs::exists(file, ec)) {
        if (!create) return error(ErrorCode::not_found, "no retrace store at " + dir.string());
        RETRACE_TRY(make_private_directory(dir).with_context("store"));
        // A store inside a repository must never make its tree dirty.
        if (!fs::exists(dir / ".gitignore") && make_private_file(dir / ".gitignore").is_ok())
            std::ofstream(dir / ".gitignore") << "*\n";
        RETRACE_TRY(make_private_file(file).with_context("store"));
    }
    auto db = Database::open(file.string(), create);
    if (!db) return db.status().with_context("store " + dir.string());
    auto migrated = migrate(*db);
    if (!migrated.is_ok()) return migrated.with_context("store " + file.string());
    return std::unique_ptr<Store>(new SqliteStore(dir, std::move(db).value()));
}

}  // namespace retrace::store
