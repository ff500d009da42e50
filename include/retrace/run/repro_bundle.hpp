// Reproduction bundles: what `retrace repro -o DIR` writes and `retrace
// repro check BUNDLE` (and the bundle's own `reproduce`) replays
// (docs/repro.md has the format).
//
//   README.md             for the ticket: what failed, one command to see it
//                         fail, the cause and its proof, the conditions
//   manifest.json         format, source run, command, oracle, cause, rates,
//                         recorded environment, and the digest of every
//                         other file of the bundle
//   manifest.json.sha256  the manifest's own digest (sha256sum -c reads it)
//   runs.pack             the failed run and the passing one, with only the
//                         blobs they use
//   code/                 the program: the recorded commit's files with the
//                         work tree's changes at record time laid over them
//   reproduce             runs `retrace repro check` on its own directory
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "retrace/run/repro.hpp"

namespace retrace::run {

inline constexpr const char* k_bundle_format = "retrace-repro-bundle/1";

struct BundleOptions {
    std::optional<std::filesystem::path> dir;      // -o DIR (new, or empty)
    std::optional<std::filesystem::path> archive;  // --archive FILE (.tar.gz)
    bool code = true;                              // --no-code: false
};

struct BundleSummary {
    std::filesystem::path dir;  // where it was written (a scratch one for --archive alone)
    std::optional<std::filesystem::path> archive;
    int files = 0;
    long long bytes = 0;       // every file of the bundle
    long long pack_bytes = 0;  // runs.pack
    int runs = 0;
    bool code = false;
    std::string code_note;  // why it is left out, or what it holds
    std::vector<std::pair<std::string, std::string>> left_out;  // program files: path, why
};

// Writes the bundle of a repro (options: the ones it ran with).
Result<BundleSummary> write_bundle(const ReproOutcome& outcome, const ReproOptions& options,
                                   const BundleOptions& bundle, store::Store& store, char** envp);

struct CheckOptions {
    std::filesystem::path bundle;  // a bundle directory, or its .tar.gz
    int k = 0;                     // 0: as many replays as the bundle was made with
    bool strict = false;           // an environment difference is a failure
    std::function<void(const std::string&)> progress;
};

struct CheckOutcome {
    int files = 0;                         // files whose digests were checked
    std::vector<std::string> environment;  // "python3: 3.11.2 here, 3.9.1 recorded"
    std::optional<ReproOutcome> replayed;  // unset when --strict stopped it
    bool cause_expected = false;           // the bundle names a proven cause

    // 0: reproduced K/K (and the cause proven again); 1: not (or, with
    // --strict, the environment differs).
    int exit_code(bool strict) const;
    core::Json to_json() const;
};

// Checks every digest (a changed byte: corrupt, nothing run), compares the
// environment, then replays the failure in a fresh scratch directory (a
// store, HOME and work tree of its own; the program from the bundle).
Result<CheckOutcome> check_bundle(const CheckOptions& options, char** envp);

}  // namespace retrace::run
