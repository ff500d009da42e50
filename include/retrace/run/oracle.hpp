// The oracle: a shell command that judges a run (`probe --oracle`, `repro
// --oracle`). It runs with RETRACE_RUN_ID, RETRACE_STDOUT (a file holding
// the run's stdout) and RETRACE_EXIT set; exit 0 is a pass. Given the
// store the run is in, RETRACE_STORE names it and this retrace comes first
// on PATH, so an oracle can read the run's trace (`retrace show
// "$RETRACE_RUN_ID"`): a gateway's runs have no output of their own.
#pragma once

#include <filesystem>
#include <string>

#include "retrace/core/result.hpp"

namespace retrace::run {

Result<bool> oracle_passes(const std::string& oracle, const std::string& run_id,
                           const std::string& stdout_text, int exit_code, char** envp,
                           const std::string& store = {});

}  // namespace retrace::run
