// The program's files, for a reproduction bundle (docs/repro.md). A run
// recorded in a git work tree keeps, in its metadata, what is needed to
// rebuild that tree later: the commit, and the content of every file that
// differed from it at record time (changed tracked files and untracked
// ones, as blobs of the run), within a size bound. A bundle then takes the
// commit's files from the repository and lays the changes over them.
//
// No credential is kept: a file whose name says it holds one (.env, *.pem,
// id_rsa, .netrc, ...) or whose content the run's redactor would change is
// left out, and so is anything past the bounds; each is listed with why.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "retrace/core/canonical_json.hpp"
#include "retrace/core/redact.hpp"
#include "retrace/core/result.hpp"

namespace retrace::conditions {

struct WorktreeLimits {
    std::size_t max_file = std::size_t{1} << 20;    // bytes of one file
    std::size_t max_total = std::size_t{32} << 20;  // bytes of every file kept
    std::size_t max_files = 10000;
};

// A file name that says it holds a credential, whatever it contains.
bool credential_file_name(const std::string& path);

struct WorktreeCapture {
    // {"root": "/abs/repo", "commit": "<40 hex>" | null,
    //  "files": [{"path": "a.py", "digest": "sha256:...", "bytes": N, "executable": false}],
    //  "deleted": ["b.py"], "left_out": [{"path": "c.bin", "reason": "..."}]}
    core::Json metadata;
    std::vector<std::pair<std::string, std::string>> contents;  // digest, bytes
};

// The work tree's differences from HEAD at root; declared inputs (whose
// content is the data section's) are not part of it.
WorktreeCapture capture_worktree(const std::filesystem::path& root,
                                 const std::vector<std::string>& inputs,
                                 const core::Redactor& redactor, const WorktreeLimits& limits = {});

// The same for a work tree known to be clean at `commit` (the code
// condition has just asked git): no change to keep.
WorktreeCapture clean_worktree(const std::filesystem::path& root, const core::Json& commit);

struct Materialized {
    std::size_t files = 0;
    long long bytes = 0;
    std::vector<std::pair<std::string, std::string>> left_out;  // path, why
};

// Writes into dest (created) the files of the recorded commit, taken from
// the repository at the recorded root, with the recorded changes laid over
// them (blob gives a recorded file's bytes by digest). not_found when the
// repository or the commit is no longer there.
Result<Materialized> materialize_worktree(
    const core::Json& metadata,
    const std::function<std::optional<std::string>(const std::string&)>& blob,
    const std::filesystem::path& dest, const core::Redactor& redactor,
    const WorktreeLimits& limits = {});

}  // namespace retrace::conditions
