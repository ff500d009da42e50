// The store log in the SQLite store (store_log table, schema 3): appending
// inside a write transaction (which SQLite already serializes), and the
// backfill of a store that had sealed runs before the log.
#pragma once

#include <string>

#include "retrace/core/result.hpp"
#include "retrace/store/sqlite.hpp"

namespace retrace::store {

// Appends an entry after the last one; call inside a write transaction.
Status append_store_log(Database& db, const std::string& kind, const std::string& run_id,
                        const std::string& record_digest, long long at_ns);
// Adds every sealed run, by seal time, to an empty log.
Status backfill_store_log(Database& db);

}  // namespace retrace::store
