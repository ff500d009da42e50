#include "migrations.hpp"

#include <string>
#include <vector>

#include "schema_sql.hpp"
#include "sqlite_log.hpp"

namespace retrace::store {

namespace {
struct Migration {
    int to_version;
    const char* sql;
    // Run after sql, in the same transaction: what SQL alone cannot do.
    Status (*then)(Database&) = nullptr;
};
// Append here; never edit a migration that has shipped.
const std::vector<Migration> k_migrations = {
    {1, detail::k_schema_sql},
    // Runs that came from elsewhere (`retrace unpack`): replaying one runs a
    // command nobody here recorded, so it is asked before.
    {2,
     "CREATE TABLE run_imports (\n"
     "    run_id      TEXT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,\n"
     "    source      TEXT NOT NULL,\n"
     "    imported_ns INTEGER NOT NULL\n"
     ");"},
    // The store log: every sealed run that entered the store and every one
    // removed, each entry linked to the one before (docs/store-format.md).
    // The runs already sealed go in first, by seal time.
    {3,
     "CREATE TABLE store_log (\n"
     "    position      INTEGER PRIMARY KEY,\n"
     "    kind          TEXT NOT NULL CHECK (kind IN ('added', 'removed')),\n"
     "    run_id        TEXT NOT NULL,\n"
     "    record_digest TEXT NOT NULL,\n"
     "    at_ns         INTEGER NOT NULL,\n"
     "    digest        TEXT NOT NULL\n"
     ");",
     backfill_store_log},
};
// Indexes that change nothing a reader needs: made when missing, with no
// new version, so an older retrace still opens the store.
// - runs_by_state: the runs in one state (`runs --state incomplete`, the
//   page's filter) read those rows, not every run.
constexpr const char* k_indexes =
    "CREATE INDEX IF NOT EXISTS runs_by_state ON runs (state, started_ns);";

Result<int> user_version(Database& db) {
    RETRACE_ASSIGN(auto q, db.prepare("PRAGMA user_version"));
    RETRACE_ASSIGN(bool row, q.step());
    if (!row) return error(ErrorCode::corrupt, "no user_version");
    return static_cast<int>(q.integer(0));
}
}  // namespace

Status migrate(Database& db) {
    RETRACE_ASSIGN(int version, user_version(db));
    if (version > k_schema_version)
        return error(ErrorCode::invalid_input, "store schema version " + std::to_string(version) +
                                                   " is newer than this retrace understands (" +
                                                   std::to_string(k_schema_version) + ")");
    // A store this user may only read is read as it is: a table added
    // since is simply absent (the readers that use one say so).
    if (db.read_only()) return Status::ok();
    for (const auto& m : k_migrations) {
        if (m.to_version <= version) continue;
        RETRACE_ASSIGN(auto tx, Transaction::begin(db));
        // Re-read inside the write lock: another process may have migrated.
        RETRACE_ASSIGN(int now, user_version(db));
        if (now >= m.to_version) continue;
        RETRACE_TRY(db.exec(m.sql));
        if (m.then) RETRACE_TRY(m.then(db));
        RETRACE_TRY(db.exec("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', '" +
                            std::to_string(m.to_version) + "')"));
        RETRACE_TRY(db.exec("PRAGMA user_version = " + std::to_string(m.to_version)));
        RETRACE_TRY(tx.commit());
    }
    return db.exec(k_indexes);
}

}  // namespace retrace::store
