// The oracle: a shell command that judges a run (`probe --oracle`, `repro
// --oracle`). It runs with RETRACE_RUN_ID, RETRACE_STDOUT (a file holding
// the run's stdout) and RETRACE_EXIT set; exit 0 is a pass.
#pragma once

#include <string>

#include "retrace/core/result.hpp"

namespace retrace::run {

Result<bool> oracle_passes(const std::string& oracle, const std::string& run_id,
                           const std::string& stdout_text, int exit_code, char** envp);

}  // namespace retrace::run
