// Run references, resolved in this order of precedence: an exact run id, a
// run name (its newest run), a unique prefix of a run id, or @latest /
// @latest~N (newest runs first, replays included). An ambiguous prefix is an
// invalid_input error listing the candidates; no match is not_found.
#pragma once

#include <string>

#include "retrace/store/store.hpp"

namespace retrace::store {

Result<RunRow> resolve_run(Store& store, const std::string& ref);

}  // namespace retrace::store
