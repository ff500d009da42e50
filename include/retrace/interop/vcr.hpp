// vcrpy cassettes (YAML, version 1): a run's exchanges as one that vcrpy
// plays back, and one as exchanges to import (exchange_import.hpp).
// docs/interop.md has the mapping.
#pragma once

#include <string>
#include <string_view>

#include "retrace/interop/exchange_import.hpp"

namespace retrace::interop {

// The interactions of a cassette. invalid_input naming the line (a YAML
// error) or the interaction and field.
Result<ExchangeFile> parse_vcr(std::string_view text);

// A run's model and HTTP exchanges as a vcrpy cassette's YAML.
Result<std::string> vcr_of_run(store::Store& store, const std::string& run_id);

}  // namespace retrace::interop
