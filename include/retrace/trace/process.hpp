// The process event (kind "process", event 1 of a command's run): the
// command as run and how it ended. `record` and `replay` write it; replay,
// show, diff and doctor read it through from_attrs. docs/store-format.md
// specifies it; this is that specification in code.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "retrace/core/canonical_json.hpp"
#include "retrace/core/identity.hpp"

namespace retrace::trace {

struct ProcessRecord {
    std::vector<std::string> argv;  // redacted as stored
    std::optional<long long> exit_code;
    int signal = 0;             // the signal that ended it, or 0
    std::string stdout_digest;  // the blobs of its redacted stdout and stderr
    std::string stderr_digest;
    std::size_t stdout_bytes = 0, stderr_bytes = 0;
    // Under --deterministic: the shim's streams ([{stream, command, blob,
    // bytes}], run/determinism.hpp).
    std::optional<core::Json> determinism;
    // Under --deterministic: the address-space layout the program ran with,
    // "fixed", or "randomized: WHY" when fixing it was refused.
    std::optional<std::string> layout;
    // layout's value for a run whose layout was fixed (refusal empty) or
    // stayed randomized because the call was refused, and the refusal back.
    static std::string layout_of(const std::string& refusal);
    std::optional<std::string> layout_refusal() const;

    core::Json to_attrs() const;
    core::Event to_event(long long seq, std::string name, long long start_ns,
                         long long end_ns) const;
    // Lenient: a missing or mistyped field keeps its default.
    static ProcessRecord from_attrs(const core::Json& attrs);
};

}  // namespace retrace::trace
