// A replay answered from two recordings of one program, a failing run and a
// passing run: what `retrace repro` tests a subset of their differences with
// (run/repro.hpp).
//
// A request is known by its match digest and its occurrence (the k-th
// request with that digest). A slot the test chose from the failing run is
// answered with the failing run's k-th answer for it; any other with the
// passing run's, or, when only the failing run holds one, with that. So a
// request only one of the runs made is answered as it was there, and one
// that neither holds is refused with a divergence: the test is then
// unresolved.
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

#include "retrace/replay/cassette.hpp"

namespace retrace::replay {

// One request slot: an exchange's or an SDK event's digest, and which
// occurrence of it.
struct Slot {
    bool event = false;
    std::string digest;
    std::size_t occurrence = 0;
    auto operator<=>(const Slot&) const = default;
};

class Blend final : public AnswerSource {
  public:
    // Both cassettes must be keyed by the same secret (one store); this
    // source reads their queues without taking from them.
    Blend(Cassette& failing, Cassette& passing, std::set<Slot> from_failing);

    bool replaying() const override { return true; }
    std::string digest_of(const core::MatchRequest& request) const override;
    std::string event_digest(core::EventKind kind, std::string_view name,
                             std::string_view input) const override;
    ExchangeAnswer answer(const core::MatchRequest& request, const std::string& digest) override;
    EventAnswer answer_event(core::EventKind kind, std::string_view name, std::string_view input,
                             const std::string& digest, bool can_run_live) override;
    bool order_matters(const std::string& digest) const override;
    Result<std::shared_ptr<const std::string>> body_of(const RecordedExchange& x) override;
    bool paced(const RecordedExchange& x) const override;

    // Requests neither recording could answer (the test is unresolved).
    std::size_t misses() const;
    std::vector<trace::Divergence> divergences() const;

  private:
    // Which recording answers this slot, and the occurrence counted.
    Cassette* owner_of(const Slot& slot) const;

    Cassette& m_failing;
    Cassette& m_passing;
    std::set<Slot> m_from_failing;
    mutable std::mutex m_mutex;
    std::unordered_map<std::string, std::size_t> m_seen, m_seen_events;  // occurrences so far
    std::unordered_map<const RecordedExchange*, Cassette*> m_served;     // whose answer it was
    std::vector<trace::Divergence> m_divergences;
};

}  // namespace retrace::replay
