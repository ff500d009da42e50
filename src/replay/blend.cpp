#include "retrace/replay/blend.hpp"

namespace retrace::replay {

Blend::Blend(Cassette& failing, Cassette& passing, std::set<Slot> from_failing)
    : m_failing(failing), m_passing(passing), m_from_failing(std::move(from_failing)) {}

std::string Blend::digest_of(const core::MatchRequest& request) const {
    return m_failing.digest_of(request);
}

std::string Blend::event_digest(core::EventKind kind, std::string_view name,
                                std::string_view input) const {
    return m_failing.event_digest(kind, name, input);
}

Cassette* Blend::owner_of(const Slot& slot) const {
    auto holds = [&](Cassette& c) {
        return slot.event ? c.event_at(slot.digest, slot.occurrence) != nullptr
                          : c.exchange_at(slot.digest, slot.occurrence) != nullptr;
    };
    if (m_from_failing.count(slot) && holds(m_failing)) return &m_failing;
    if (holds(m_passing)) return &m_passing;
    if (holds(m_failing)) return &m_failing;
    return nullptr;
}

ExchangeAnswer Blend::answer(const core::MatchRequest& request, const std::string& digest) {
    std::lock_guard lock(m_mutex);
    Slot slot{false, digest, m_seen[digest]++};
    if (Cassette* c = owner_of(slot)) {
        const RecordedExchange* x = c->exchange_at(digest, slot.occurrence);
        m_served[x] = c;
        return {ExchangeAnswer::Action::recorded, x, false, std::nullopt};
    }
    trace::Divergence d = m_failing.diverge(request, digest);
    d.reason = "neither the failing nor the passing run holds this request";
    m_divergences.push_back(d);
    return {ExchangeAnswer::Action::diverge, nullptr, false, d};
}

EventAnswer Blend::answer_event(core::EventKind kind, std::string_view name, std::string_view input,
                                const std::string& digest, bool) {
    std::lock_guard lock(m_mutex);
    Slot slot{true, digest, m_seen_events[digest]++};
    if (Cassette* c = owner_of(slot))
        return {EventAnswer::Action::recorded, c->event_at(digest, slot.occurrence), std::nullopt};
    trace::Divergence d = m_failing.diverge_event(kind, name, input, digest);
    d.reason = "neither the failing nor the passing run holds this call";
    m_divergences.push_back(d);
    return {EventAnswer::Action::diverge, nullptr, d};
}

bool Blend::order_matters(const std::string& digest) const {
    std::lock_guard lock(m_mutex);
    auto it = m_seen.find(digest);
    std::size_t next = it == m_seen.end() ? 0 : it->second;
    return m_failing.exchange_at(digest, next) || m_passing.exchange_at(digest, next);
}

Result<std::shared_ptr<const std::string>> Blend::body_of(const RecordedExchange& x) {
    Cassette* owner = nullptr;
    {
        std::lock_guard lock(m_mutex);
        auto it = m_served.find(&x);
        if (it != m_served.end()) owner = it->second;
    }
    return (owner ? owner : &m_failing)->body_of(x);
}

bool Blend::paced(const RecordedExchange& x) const {
    std::lock_guard lock(m_mutex);
    auto it = m_served.find(&x);
    return (it == m_served.end() ? m_failing : *it->second).paced(x);
}

std::size_t Blend::misses() const {
    std::lock_guard lock(m_mutex);
    return m_divergences.size();
}

std::vector<trace::Divergence> Blend::divergences() const {
    std::lock_guard lock(m_mutex);
    return m_divergences;
}

}  // namespace retrace::replay
