// What a run ended with: the outcome its seal stores, as canonical JSON,
// and hashes into the record digest (docs/identity.md, "Metadata and
// outcome"). One type for its writers (a command's run, a gateway's run)
// and its readers (verify, show, probe groups), so no reader spells its
// keys. Each part is written only when set: a command's run has the exit
// code, the signal, the stdout and stderr blob digests and the outputs; a
// gateway's run the number of exchanges; a probe's record none of them.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "retrace/core/canonical_json.hpp"

namespace retrace::core {

struct RunOutcome {
    std::optional<long long> exit_code;  // the code record exits with (128+N for signal N)
    std::optional<int> signal;           // the signal that killed the program, or 0
    std::optional<std::string> stdout_digest, stderr_digest;  // blob digests
    // Declared outputs (--output) as they were at the end: path -> digest.
    std::optional<std::map<std::string, std::string>> outputs;
    std::vector<std::string> missing_outputs;  // declared but absent at the end
    std::optional<long long> exchanges;        // a gateway run's exchange count

    Json to_json() const;
    // Back from the stored JSON. Lenient, as readers of old or damaged runs
    // must be: a missing or mistyped part stays unset (verify compares the
    // stored text's digest, so damage is found there).
    static RunOutcome from_json(const Json& j);
};

}  // namespace retrace::core
