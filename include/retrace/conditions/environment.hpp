// The `env` section of a run's conditions: the machine and the software the
// run depends on. Only values that stay the same across runs on one unchanged
// machine belong here (no time, pid, free memory or load).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "retrace/core/canonical_json.hpp"
#include "retrace/core/redact.hpp"

namespace retrace::conditions {

// {"os": "Debian GNU/Linux 12 (bookworm)", "kernel": "6.1.0-...", "arch": "x86_64",
//  "cpu": {"model": "...", "count": 2}, "memory_bytes": N,
//  "gpus": [{"name": "...", "driver": "...", "memory": "..."}]  (only with nvidia-smi)}
core::Json capture_machine();

struct EnvOptions {
    std::vector<std::string> extra_vars;  // --env NAME
    std::filesystem::path lockfile_dir;   // repository root, or cwd outside one
    char** envp = nullptr;                // the child's environment
};

// {"machine": capture_machine(),
//  "software": {"python3": "3.11.7", "node": "v20.20.2",
//               "python_packages": {"numpy": "1.26.4", ...}},
//  "lockfiles": {"requirements.txt": "sha256:...", ...},
//  "vars": {"PYTHONHASHSEED": "0", "OPENAI_API_KEY": "<present>", ...}}
// Absent tools and files are simply left out. Secret-named variables are
// recorded as "<present>" only; other values pass through the redactor.
core::Json capture_env(const EnvOptions& options, const core::Redactor& redactor);

}  // namespace retrace::conditions
