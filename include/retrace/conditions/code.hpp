// The `code` section of a run's conditions: what program ran, from where.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "retrace/core/canonical_json.hpp"
#include "retrace/core/redact.hpp"

namespace retrace::conditions {

// The top of the git work tree containing dir, or nullopt outside one.
std::optional<std::filesystem::path> find_repo_root(const std::filesystem::path& dir);

// path relative to the repository root when inside `repo_root`, else absolute
// and lexically normal. Used for every path that goes into conditions.
std::string condition_path(const std::filesystem::path& path,
                           const std::optional<std::filesystem::path>& repo_root);

struct CodeOptions {
    std::vector<std::string> argv;  // the command as given (redacted before use)
    std::filesystem::path cwd;      // working directory of the run
    // Declared inputs (--input files and directories): their content is the
    // `data` section's, so a change to one inside the work tree leaves the
    // code's dirty state and digest as they were.
    std::vector<std::string> inputs;
};

// {"argv": [...], "cwd": "<relative to repo root or absolute>",
//  "git": {"commit": "<40 hex>", "branch": "main" | null, "dirty": false,
//          "dirty_digest": "sha256:..." (only when dirty), "dirty_files": N}}
// "git" is absent outside a repository. The dirty digest covers the diff of
// tracked files against HEAD and the content of untracked files; git-ignored
// files (and so a .retrace/ store) and declared inputs are excluded.
core::Json capture_code(const CodeOptions& options, const core::Redactor& redactor);

}  // namespace retrace::conditions
