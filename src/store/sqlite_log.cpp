#include "sqlite_log.hpp"

#include "retrace/core/identity.hpp"

namespace retrace::store {

Status append_store_log(Database& db, const std::string& kind, const std::string& run_id,
                        const std::string& record_digest, long long at_ns) {
    RETRACE_ASSIGN(auto last, db.prepare("SELECT position, digest FROM store_log "
                                         "ORDER BY position DESC LIMIT 1"));
    core::StoreLogEntry e;
    e.position = 1;
    std::string prev;
    RETRACE_ASSIGN(bool row, last.step());
    if (row) {
        e.position = last.integer(0) + 1;
        prev = last.text(1);
    }
    last.reset();
    e.kind = kind;
    e.run_id = run_id;
    e.record_digest = record_digest;
    e.at_ns = at_ns;
    e.digest = core::store_log_link(prev, e).to_string();
    RETRACE_ASSIGN(auto insert, db.prepare("INSERT INTO store_log (position, kind, run_id, "
                                           "record_digest, at_ns, digest) VALUES (?,?,?,?,?,?)"));
    insert.bind(1, static_cast<std::int64_t>(e.position)).bind(2, e.kind).bind(3, e.run_id);
    insert.bind(4, e.record_digest).bind(5, static_cast<std::int64_t>(e.at_ns)).bind(6, e.digest);
    return insert.run();
}

Status backfill_store_log(Database& db) {
    RETRACE_ASSIGN(auto q, db.prepare("SELECT id, record_digest, coalesce(ended_ns, started_ns) "
                                      "FROM runs WHERE state = 'sealed' ORDER BY 3, id"));
    struct Sealed {
        std::string id, record;
        long long at;
    };
    std::vector<Sealed> runs;
    for (;;) {
        RETRACE_ASSIGN(bool row, q.step());
        if (!row) break;
        runs.push_back({q.text(0), q.optional_text(1).value_or(""), q.integer(2)});
    }
    q.reset();
    for (const auto& r : runs) RETRACE_TRY(append_store_log(db, "added", r.id, r.record, r.at));
    return Status::ok();
}

}  // namespace retrace::store
