// `--deterministic`: runs the program under the determinism shim
// (src/shim, LD_PRELOAD), which records its wall-clock reads and OS
// randomness, one stream per process, and feeds them back on replay. The
// streams are kept as blobs of the run's process event. See
// docs/determinism.md.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "retrace/core/canonical_json.hpp"
#include "retrace/core/redact.hpp"
#include "retrace/core/result.hpp"
#include "retrace/store/store.hpp"

namespace retrace::run {

// One process's recorded values.
struct ShimStream {
    std::string name;     // "<command line hash>-<occurrence>"
    std::string command;  // the process's command line, from the stream's header
    std::string data;     // the stream as the shim wrote it
};

// The shim library: $RETRACE_SHIM, else libretrace_shim.so next to the
// retrace binary or in ../lib/retrace/.
Result<std::filesystem::path> find_shim();

// A scratch directory of streams for one run of the program.
class ShimSession {
  public:
    // Record (streams empty) or replay the given streams.
    static Result<ShimSession> start(bool replay, const std::vector<ShimStream>& streams);
    ShimSession(ShimSession&&) noexcept;
    ShimSession& operator=(ShimSession&&) = delete;
    ~ShimSession();

    // NAME=VALUE settings for the child's environment (LD_PRELOAD kept
    // after the shim when already set).
    std::vector<std::string> environment(const char* existing_preload) const;
    // After the program: the streams written (non-empty ones), by name,
    // each command line (its header record too) through the redactor: a
    // key given as an argument (curl -H "Authorization: Bearer ...") is
    // not stored.
    std::vector<ShimStream> collect(const core::Redactor& redactor) const;
    // After a replay: one line per process whose values diverged.
    std::vector<std::string> divergences() const;

  private:
    ShimSession() = default;
    bool m_replay = false;
    std::filesystem::path m_shim, m_dir;
};

// The process event's attribute for streams ([{stream, command, blob,
// bytes}]) and the blobs it names.
core::Json streams_attribute(const std::vector<ShimStream>& streams,
                             std::vector<store::Blob>& blobs);
// The streams a recorded process event names, read back from the store.
Result<std::vector<ShimStream>> load_streams(store::Store& store, const core::Json& attribute);

}  // namespace retrace::run
