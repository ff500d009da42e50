// Runs a helper program (git, python3, nvidia-smi) and captures its stdout.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace retrace::conditions {

// argv[0] is looked up on PATH; extra_env ("NAME=VALUE") is added to ours.
// nullopt when the program is missing or exits non-zero. stderr is discarded.
std::optional<std::string> run_capture(const std::vector<std::string>& argv,
                                       const std::vector<std::string>& extra_env = {});

}  // namespace retrace::conditions
