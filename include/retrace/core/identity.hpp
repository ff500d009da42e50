// How a run's identity is computed: conditions, metadata, outcome, the event
// hash chain and the record digest. The grammar of what is hashed is
// specified in docs/identity.md and pinned by tests/golden.
#pragma once

#include <array>
#include <map>
#include <string>
#include <string_view>

#include "retrace/core/canonical_json.hpp"
#include "retrace/core/digest.hpp"
#include "retrace/core/event_kind.hpp"
#include "retrace/core/hasher.hpp"

namespace retrace::core {

// Declared sections, in the order they are hashed into the declared digest.
inline constexpr std::array<std::string_view, 7> k_declared_sections = {
    "code", "env", "models", "prompts", "tools", "data", "params"};
// The declared sections a run's model traffic fills in (what it asked for,
// as observed in its requests), not the program's code, data or
// parameters: they follow from what the program did, not what it was given.
inline constexpr std::array<std::string_view, 3> k_traffic_sections = {"models", "prompts",
                                                                       "tools"};
inline bool is_traffic_section(std::string_view section) {
    for (auto s : k_traffic_sections)
        if (s == section) return true;
    return false;
}
// Observed sections: what the provider reported.
inline constexpr std::array<std::string_view, 1> k_observed_sections = {"backend"};

struct ConditionsIdentity {
    Digest digest;  // over declared + observed
    Digest declared;
    Digest observed;
    std::map<std::string, Digest> sections;  // one per section
    std::string explain;                     // every text that was hashed, in order

    // {"conditions": "...", "declared": "...", "observed": "...", "sections": {...}}
    Json to_json() const;
};

// Fills missing sections with {} (the input is normalised in place) and
// rejects unknown sections or non-object sections.
Result<ConditionsIdentity> identify_conditions(Json& conditions);

// Digest of a JSON document under a scheme: TaggedHasher(scheme).field("body", canonical).
Result<Digest> json_digest(std::string_view scheme, const Json& body);

inline constexpr std::string_view k_metadata_scheme = "retrace.metadata/1";
inline constexpr std::string_view k_outcome_scheme = "retrace.outcome/1";

// JSON numbers are IEEE doubles under RFC 8785: integers above 2^53, such as
// nanosecond timestamps, go into anything hashed as decimal strings.
std::string ns_text(long long ns);

// One step of a trajectory as it is hashed into the chain.
struct Event {
    long long seq = 0;
    EventKind kind = EventKind::custom;
    std::string name;
    long long parent = 0;    // seq of the parent event, 0 for none
    long long start_ns = 0;  // unix time
    long long end_ns = 0;
    Json attrs = Json::object();
    std::string request;   // blob digest text, or empty
    std::string response;  // blob digest text, or empty

    Json to_json() const;
    static Result<Event> from_json(const Json& j);
};

// The digest that starts a run's chain: binds the chain to the run id.
Digest chain_genesis(std::string_view run_id);
// digest(event) = H("retrace.event/1", prev, canonical(event)).
Result<Digest> chain_link(const Digest& prev, const Event& event);

struct RecordParts {
    std::string run_id;
    Digest conditions;
    Digest metadata;
    Digest chain_head;
    long long event_count = 0;
    Digest outcome;
};
Digest record_digest(const RecordParts& parts);

// The store's own log (docs/store-format.md): every sealed run that
// entered the store ("added": sealed here, or imported) and every one
// removed ("removed"), each entry linked to the one before it, so that a
// run deleted, inserted or reordered behind retrace's back shows.
struct StoreLogEntry {
    long long position = 0;  // 1, 2, ...
    std::string kind;        // "added" or "removed"
    std::string run_id;
    std::string record_digest;
    long long at_ns = 0;
    std::string digest;  // the link: store_log_link over the entry and the one before
};
// prev is the previous entry's digest, "" for the first.
Digest store_log_link(std::string_view prev, const StoreLogEntry& entry);

}  // namespace retrace::core
