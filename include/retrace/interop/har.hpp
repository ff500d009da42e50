// HTTP archives (HAR 1.2, the format browsers' developer tools, Playwright
// and proxies write): a run's exchanges as one, and one as exchanges to
// import (exchange_import.hpp). docs/interop.md has the mapping.
#pragma once

#include <string_view>

#include "retrace/core/canonical_json.hpp"
#include "retrace/interop/exchange_import.hpp"

namespace retrace::interop {

// The exchanges of a HAR document. invalid_input naming the entry and
// field for anything HAR 1.2 requires that is missing or mistyped.
Result<ExchangeFile> parse_har(std::string_view text);

// A run's model and HTTP exchanges as a HAR 1.2 document (stored bodies:
// credentials already redacted; event streams as their text).
Result<core::Json> har_of_run(store::Store& store, const std::string& run_id);

}  // namespace retrace::interop
