// Schema versions. Version 1 is src/store/schema.sql; each later version is a
// numbered migration applied in its own transaction, in order. The version
// lives in PRAGMA user_version and in meta.schema_version.
#pragma once

#include "retrace/core/result.hpp"
#include "retrace/store/sqlite.hpp"

namespace retrace::store {

inline constexpr int k_schema_version = 3;

// Brings db up to k_schema_version; refuses a store written by a newer retrace.
Status migrate(Database& db);

}  // namespace retrace::store
