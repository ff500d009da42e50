#include "retrace/replay/cassette.hpp"

#include <algorithm>
#include <limits>
#include <unordered_set>

#include "retrace/core/api_path.hpp"
#include "retrace/core/sse.hpp"
#include "retrace/trace/exchange.hpp"
#include "retrace/trace/sdk_event.hpp"

namespace retrace::replay {

using trace::Divergence;

namespace {

using core::Json;

std::string text_of(const Json& v) {
    return v.is_string() ? v.get<std::string>() : std::string();
}

// A recorded body replaced by --override: streams keep their framing (one
// chunk per event), anything else is sent in one piece.
void override_body(RecordedExchange& x, std::string body) {
    x.chunks.clear();
    std::string content_type = text_of(x.response_headers.value("content-type", Json()));
    if (core::looks_like_sse(content_type, body) || core::looks_like_sse("", body)) {
        std::size_t at = 0;
        while (at < body.size()) {
            std::size_t end = body.find("\n\n", at);
            end = end == std::string::npos ? body.size() : end + 2;
            x.chunks.emplace_back(0, end - at);
            at = end;
        }
    } else if (!body.empty()) {
        x.chunks.emplace_back(0, body.size());
    }
    x.override_body = std::make_shared<const std::string>(std::move(body));
    x.truncated = false;
    x.client_cancelled.reset();  // a whole answer, whoever left the recorded one
}

core::MatchRequest match_request_of(const RecordedExchange& x) {
    return {x.method, x.route, x.path, x.query, x.request_headers, x.request_body};
}

Status missing_blob(const std::string& run_id, long long seq, const std::string& digest) {
    return error(ErrorCode::corrupt, "run " + run_id + " event " + std::to_string(seq) + ": blob " +
                                         digest + " is missing");
}

Result<std::string> load_blob(store::Store& store, const std::string& run_id, const core::Event& e,
                              const std::string& digest) {
    if (digest.empty()) return std::string();
    RETRACE_ASSIGN(auto blob, store.get_blob(digest));
    if (!blob) return missing_blob(run_id, e.seq, digest);
    return std::move(*blob);
}

}  // namespace

core::MatchRequest event_match_request(core::EventKind kind, std::string_view name,
                                       std::string_view input) {
    // Method and route cannot collide with an HTTP exchange's.
    return {"EVENT", core::to_string(kind), name, "", {}, input};
}

std::string RecordedExchange::label() const {
    return "#" + std::to_string(seq) + " " + method + " /" + route + path + query;
}

bool Cassette::paced(const RecordedExchange& x) const {
    switch (m_policy.pace) {
        case Pace::fast:
            return false;
        case Pace::recorded:
            return true;
        case Pace::automatic:
            return x.client_cancelled.has_value();
    }
    return false;
}

std::string RecordedEvent::label() const {
    return "#" + std::to_string(seq) + " " + std::string(core::to_string(kind)) + " " + name;
}

Result<std::unique_ptr<Cassette>> Cassette::load(store::Store& store, const std::string& run_id,
                                                 std::string secret, ReplayPolicy policy) {
    RETRACE_ASSIGN(auto events, store.events(run_id));
    return load(store, run_id, events, std::move(secret), std::move(policy));
}

Result<std::unique_ptr<Cassette>> Cassette::load(store::Store& store, const std::string& run_id,
                                                 const std::vector<store::EventRow>& events,
                                                 std::string secret, ReplayPolicy policy) {
    auto c = std::unique_ptr<Cassette>(new Cassette());
    c->m_run_id = run_id;
    c->m_secret = std::move(secret);
    c->m_policy = std::move(policy);
    auto overrides = c->m_policy.overrides;
    RETRACE_ASSIGN(c->m_reader, store.connect());
    // Answers are read when served; that each is there is checked now.
    RETRACE_ASSIGN(auto digests, store.run_blob_digests(run_id));
    std::unordered_set<std::string> stored(std::make_move_iterator(digests.begin()),
                                           std::make_move_iterator(digests.end()));
    digests = {};
    for (const auto& row : events) {
        const auto& e = row.event;
        if (core::is_sdk_event(e.kind)) {
            RETRACE_TRY(c->load_event(store, e, overrides));
            continue;
        }
        if (!core::is_exchange(e.kind)) continue;
        if (c->m_policy.until && e.seq > *c->m_policy.until) continue;
        trace::Exchange recorded = trace::Exchange::from_attrs(e.attrs);
        if (recorded.divergence) continue;  // a replay's own refusals are not answers
        RecordedExchange x;
        x.seq = e.seq;
        x.route = std::move(recorded.route);
        x.method = std::move(recorded.method);
        // (recorded before the base-URL shapes were told apart, as sent)
        x.path = core::api_path(x.route, recorded.path);
        x.query = std::move(recorded.query);
        for (const auto& [k, v] : recorded.request_headers.items())
            x.request_headers.emplace_back(k, text_of(v));
        x.status = recorded.status;
        x.response_headers = std::move(recorded.response_headers);
        x.truncated = recorded.truncated;
        x.header_us = recorded.header_us;
        x.client_cancelled = recorded.client_cancelled;
        if (recorded.received_ns_before) x.received_ns = e.start_ns - *recorded.received_ns_before;
        x.chunks = std::move(recorded.chunks);
        RETRACE_ASSIGN(x.request_body, load_blob(store, run_id, e, e.request));
        x.response_digest = e.response;
        if (auto it = overrides.find(e.seq); it != overrides.end()) {
            x.response_digest.clear();
            override_body(x, it->second);
            overrides.erase(it);
        } else if (!e.response.empty() && !stored.count(e.response)) {
            return missing_blob(run_id, e.seq, e.response);
        }
        // A body recorded redacted cannot be re-digested: its digest was
        // taken before redaction, under the recording store's secret.
        x.match = recorded.request_redacted && c->m_policy.ignore.empty()
                      ? recorded.match
                      : c->digest_of(match_request_of(x));
        c->m_exchanges.push_back(std::move(x));
    }
    if (!overrides.empty())
        return error(ErrorCode::invalid_input,
                     "--override " + std::to_string(overrides.begin()->first) + ": run " + run_id +
                         " has no model exchange, HTTP exchange or SDK event with that number" +
                         (c->m_policy.until ? " up to --until" : ""));
    for (const auto& x : c->m_exchanges) c->m_queues[x.match].items.push_back(&x);
    for (auto& [_, q] : c->m_queues) order_by_arrival(q);
    for (const auto& x : c->m_events) c->m_event_queues[x.match].items.push_back(&x);
    return c;
}

Status Cassette::load_event(store::Store& store, const core::Event& e,
                            std::map<long long, std::string>& overrides) {
    auto recorded = trace::SdkEvent::from_attrs(e.attrs);
    // A replay's own refusals, spans that only group other events, calls
    // cut off before they returned and spans observed through OTLP answer
    // nothing.
    if (recorded.divergence || recorded.group || recorded.unfinished || recorded.observed)
        return Status::ok();
    // A fork with --live-tools runs the tools after the fork point.
    if (m_policy.live_tools && m_policy.until && e.seq > *m_policy.until) return Status::ok();
    RecordedEvent x;
    x.seq = e.seq;
    x.kind = e.kind;
    x.name = e.name;
    x.error = recorded.error;
    RETRACE_ASSIGN(x.input, load_blob(store, m_run_id, e, e.request));
    RETRACE_ASSIGN(x.output, load_blob(store, m_run_id, e, e.response));
    if (auto it = overrides.find(e.seq); it != overrides.end()) {
        auto canonical = core::canonicalize_text(it->second);
        if (!canonical)
            return error(ErrorCode::invalid_input,
                         "--override " + std::to_string(e.seq) + ": event " +
                             std::to_string(e.seq) + " is a " +
                             std::string(core::to_string(e.kind)) +
                             " event, whose answer must be JSON: " + canonical.status().message());
        x.output = std::move(canonical).value();
        x.error = Json();
        overrides.erase(it);
    }
    x.match = recorded.input_redacted && m_policy.ignore.empty()
                  ? recorded.match
                  : event_digest(x.kind, x.name, x.input);
    m_events.push_back(std::move(x));
    return Status::ok();
}

std::string Cassette::digest_of(const core::MatchRequest& request) const {
    return core::match_digest(m_secret, request, m_policy.ignore);
}

std::string Cassette::event_digest(core::EventKind kind, std::string_view name,
                                   std::string_view input) const {
    return core::match_digest(m_secret, event_match_request(kind, name, input), m_policy.ignore);
}

ExchangeAnswer Cassette::answer(const core::MatchRequest& request, const std::string& digest) {
    if (const RecordedExchange* x = take(digest))
        return {ExchangeAnswer::Action::recorded, x, false, std::nullopt};
    if (m_policy.on_miss_live || m_policy.until)
        return {ExchangeAnswer::Action::forward, nullptr, true, std::nullopt};
    return {ExchangeAnswer::Action::diverge, nullptr, false, diverge(request, digest)};
}

EventAnswer Cassette::answer_event(core::EventKind kind, std::string_view name,
                                   std::string_view input, const std::string& digest,
                                   bool can_run_live) {
    if (const RecordedEvent* x = take_event(digest))
        return {EventAnswer::Action::recorded, x, std::nullopt};
    // The program runs the real call and ends its span with the result.
    if (can_run_live && m_policy.live_tools && (m_policy.until || m_policy.on_miss_live))
        return {EventAnswer::Action::live, nullptr, std::nullopt};
    return {EventAnswer::Action::diverge, nullptr, diverge_event(kind, name, input, digest)};
}

Result<std::shared_ptr<const std::string>> Cassette::body_of(const RecordedExchange& x) {
    if (x.override_body) return x.override_body;
    if (x.response_digest.empty()) return std::make_shared<const std::string>();
    const std::string& digest = x.response_digest;
    {
        std::lock_guard lock(m_cache_mutex);
        if (auto it = m_cache.find(digest); it != m_cache.end()) {
            m_cache_ages.splice(m_cache_ages.begin(), m_cache_ages, it->second.age);
            return it->second.body;
        }
    }
    Result<std::optional<std::string>> blob = std::optional<std::string>();
    {
        std::lock_guard lock(m_reader_mutex);
        blob = m_reader->get_blob(digest);
    }
    Status failed = !blob    ? blob.status()
                    : !*blob ? missing_blob(m_run_id, x.seq, digest)
                             : Status::ok();
    if (!failed.is_ok()) {
        std::lock_guard lock(m_mutex);
        Divergence lost;
        lost.request = x.label();
        lost.reason = "its recorded answer cannot be read: " + failed.message();
        lost.nearest = x.seq;
        m_divergences.push_back(std::move(lost));
        return failed;
    }
    auto body = std::make_shared<const std::string>(std::move(**blob));
    std::lock_guard lock(m_cache_mutex);
    std::size_t capacity = m_policy.answer_cache_bytes;
    if (body->size() > capacity) return body;
    auto [it, fresh] = m_cache.try_emplace(digest);
    if (!fresh) {  // read by another thread meanwhile
        m_cache_ages.splice(m_cache_ages.begin(), m_cache_ages, it->second.age);
        return it->second.body;
    }
    m_cache_ages.push_front(digest);
    it->second = {body, m_cache_ages.begin()};
    m_cache_bytes += body->size();
    while (m_cache_bytes > capacity) {
        auto oldest = m_cache.find(m_cache_ages.back());
        m_cache_bytes -= oldest->second.body->size();
        m_cache.erase(oldest);
        m_cache_ages.pop_back();
    }
    return body;
}

std::size_t Cassette::cached_answer_bytes() const {
    std::lock_guard lock(m_cache_mutex);
    return m_cache_bytes;
}

void Cassette::order_by_arrival(Queue<RecordedExchange>& q) {
    for (const auto* x : q.items)
        if (!x->received_ns) return;  // (an older recording: in order of issue)
    std::stable_sort(q.items.begin(), q.items.end(), [](const auto* a, const auto* b) {
        return *a->received_ns < *b->received_ns;
    });
}

bool Cassette::order_matters(const std::string& digest) const {
    std::lock_guard lock(m_mutex);
    auto it = m_queues.find(digest);
    if (it == m_queues.end()) return false;
    const auto& q = it->second;
    std::size_t left = q.items.size() - std::min(q.next, q.items.size());
    return m_policy.reuse ? left > 1 : left > 0;
}

template <class T>
const T* Cassette::take_from(std::unordered_map<std::string, Queue<T>>& queues,
                             const std::string& digest) {
    std::lock_guard lock(m_mutex);
    auto it = queues.find(digest);
    if (it == queues.end()) return nullptr;
    Queue<T>& q = it->second;
    if (q.next < q.items.size()) return q.items[q.next++];
    return m_policy.reuse ? q.items.back() : nullptr;
}

const RecordedExchange* Cassette::take(const std::string& digest) {
    return take_from(m_queues, digest);
}

const RecordedEvent* Cassette::take_event(const std::string& digest) {
    return take_from(m_event_queues, digest);
}

namespace {

template <class Queues>
auto item_at(const Queues& queues, const std::string& digest, std::size_t k)
    -> std::remove_cvref_t<decltype(queues.begin()->second.items[0])> {
    auto it = queues.find(digest);
    if (it == queues.end() || k >= it->second.items.size()) return nullptr;
    return it->second.items[k];
}

template <class Queues>
std::vector<std::pair<std::string, std::size_t>> sizes_of(const Queues& queues) {
    std::vector<std::pair<std::string, std::size_t>> out;
    for (const auto& [digest, q] : queues) out.emplace_back(digest, q.items.size());
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

const RecordedExchange* Cassette::exchange_at(const std::string& digest, std::size_t k) const {
    return item_at(m_queues, digest, k);
}

const RecordedEvent* Cassette::event_at(const std::string& digest, std::size_t k) const {
    return item_at(m_event_queues, digest, k);
}

std::vector<std::pair<std::string, std::size_t>> Cassette::exchange_digests() const {
    return sizes_of(m_queues);
}

std::vector<std::pair<std::string, std::size_t>> Cassette::event_digests() const {
    return sizes_of(m_event_queues);
}

// Fills in the nearest of the candidates (seq, recorded body) to body: the
// fewest differing JSON fields, the first recorded of equals. Called locked.
Divergence Cassette::diverge_from_nearest(
    Divergence d, std::string_view body,
    const std::vector<std::pair<long long, const std::string*>>& candidates) {
    auto parsed = core::parse_json_strict(body);
    if (parsed)
        for (const auto& p : m_policy.ignore) p.erase_from(*parsed);
    std::size_t best = std::numeric_limits<std::size_t>::max();
    for (const auto& [seq, recorded_body] : candidates) {
        auto recorded = core::parse_json_strict(*recorded_body);
        if (parsed && recorded) {
            for (const auto& p : m_policy.ignore) p.erase_from(*recorded);
            auto diff = core::json_diff(*recorded, *parsed);
            if (diff.size() < best) {
                best = diff.size();
                d.nearest = seq;
                d.diff = std::move(diff);
                d.nearest_raw.clear();
            }
        } else if (best == std::numeric_limits<std::size_t>::max()) {
            d.nearest = seq;
            d.nearest_raw = "bodies are not both JSON: recorded " +
                            std::to_string(recorded_body->size()) + " bytes, now " +
                            std::to_string(body.size()) + " bytes";
        }
    }
    return d;
}

Divergence Cassette::diverge(const core::MatchRequest& request, const std::string& digest) {
    Divergence d;
    d.request = std::string(request.method) + " /" + std::string(request.route) +
                std::string(request.path) + std::string(request.query);
    std::lock_guard lock(m_mutex);
    if (auto it = m_queues.find(digest); it != m_queues.end()) {
        d.reason = "its " + std::to_string(it->second.items.size()) +
                   " recorded answer(s) were all used (a request repeated more often than when "
                   "recorded)";
        d.nearest = it->second.items.back()->seq;
    } else {
        std::vector<std::pair<long long, const std::string*>> candidates;
        for (const auto& x : m_exchanges)
            if (x.method == request.method && x.route == request.route && x.path == request.path)
                candidates.emplace_back(x.seq, &x.request_body);
        d = diverge_from_nearest(std::move(d), request.body, candidates);
        if (!d.nearest)
            d.reason = "no request to " + d.request + " was recorded";
        else if (d.diff.empty() && d.nearest_raw.empty())
            d.reason = "no recorded request has the same method, path, query, headers and body";
        else
            d.reason = "no recorded request matches";
    }
    m_divergences.push_back(d);
    return d;
}

Divergence Cassette::diverge_event(core::EventKind kind, std::string_view name,
                                   std::string_view input, const std::string& digest) {
    Divergence d;
    d.of = Divergence::Of::call;
    d.request = std::string(core::to_string(kind)) + " " + std::string(name);
    std::lock_guard lock(m_mutex);
    if (auto it = m_event_queues.find(digest); it != m_event_queues.end()) {
        d.reason = "its " + std::to_string(it->second.items.size()) +
                   " recorded answer(s) were all used (called more often than when recorded)";
        d.nearest = it->second.items.back()->seq;
    } else {
        std::vector<std::pair<long long, const std::string*>> candidates;
        for (const auto& x : m_events)
            if (x.kind == kind && x.name == name) candidates.emplace_back(x.seq, &x.input);
        d = diverge_from_nearest(std::move(d), input, candidates);
        if (!d.nearest)
            d.reason = "no " + d.request + " was recorded";
        else if (d.diff.empty() && d.nearest_raw.empty())
            d.reason = "no recorded call has the same input";
        else
            d.reason = "no recorded call has this input";
    }
    m_divergences.push_back(d);
    return d;
}

std::vector<Divergence> Cassette::divergences() const {
    std::lock_guard lock(m_mutex);
    return m_divergences;
}

std::set<std::string> Cassette::routes() const {
    std::set<std::string> out;
    for (const auto& x : m_exchanges) out.insert(x.route);
    return out;
}

std::vector<std::string> Cassette::unused() const {
    std::lock_guard lock(m_mutex);
    std::vector<std::pair<long long, std::string>> out;
    for (const auto& [_, q] : m_queues)
        for (std::size_t i = q.next; i < q.items.size(); ++i)
            out.emplace_back(q.items[i]->seq, q.items[i]->label());
    for (const auto& [_, q] : m_event_queues)
        for (std::size_t i = q.next; i < q.items.size(); ++i)
            out.emplace_back(q.items[i]->seq, q.items[i]->label());
    std::sort(out.begin(), out.end());
    std::vector<std::string> labels;
    for (auto& [_, label] : out) labels.push_back(std::move(label));
    return labels;
}

}  // namespace retrace::replay
