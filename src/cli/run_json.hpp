// JSON views of stored runs, shared by the commands that print them.
#pragma once

#include "retrace/store/store.hpp"

namespace retrace::cli {

// The row's columns, with its JSON text columns parsed.
core::Json run_summary_json(const store::RunRow& run);
core::Json run_full_json(store::Store& store, const store::RunRow& run);
core::Json event_json(const store::EventRow& row);
// Parses WHEN for --since: "2026-11-22", "2026-11-22T10:00:00", or "30m", "2h", "7d" ago.
Result<long long> parse_since(const std::string& when, long long now_ns);

}  // namespace retrace::cli
