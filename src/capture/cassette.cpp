#include "retrace/capture/cassette.hpp"

#include <limits>

#include "retrace/core/sse.hpp"

namespace retrace::capture {

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
    x.response_body = std::move(body);
    x.truncated = false;
}

core::MatchRequest match_request_of(const RecordedExchange& x) {
    return {x.method, x.route, x.path, x.query, x.request_headers, x.request_body};
}

}  // namespace

std::string RecordedExchange::label() const {
    return "#" + std::to_string(seq) + " " + method + " /" + route + path + query;
}

Result<std::unique_ptr<Cassette>> Cassette::load(store::Store& store, const std::string& run_id,
                                                 std::string secret, ReplayPolicy policy) {
    auto c = std::unique_ptr<Cassette>(new Cassette());
    c->m_run_id = run_id;
    c->m_secret = std::move(secret);
    c->m_policy = std::move(policy);
    RETRACE_ASSIGN(auto events, store.events(run_id));
    auto overrides = c->m_policy.overrides;
    for (const auto& row : events) {
        const auto& e = row.event;
        if (e.kind != "llm" && e.kind != "http") continue;
        const Json& a = e.attrs;
        if (a.contains("divergence")) continue;  // a replay's own refusals are not answers
        if (c->m_policy.until && e.seq > *c->m_policy.until) continue;
        RecordedExchange x;
        x.seq = e.seq;
        x.route = text_of(a.value("route", Json()));
        x.method = text_of(a.value("method", Json()));
        x.path = text_of(a.value("path", Json()));
        x.query = text_of(a.value("query", Json()));
        Json headers = a.value("request_headers", Json::object());
        for (const auto& [k, v] : headers.items()) x.request_headers.emplace_back(k, text_of(v));
        x.status = a.value("status", 0);
        x.response_headers = a.value("response_headers", Json::object());
        x.truncated = a.value("truncated", false);
        for (const auto& ch : a.value("chunks", Json::array()))
            if (ch.is_array() && ch.size() == 2)
                x.chunks.emplace_back(ch[0].get<long long>(), ch[1].get<std::size_t>());
        for (auto [digest, body] :
             {std::pair{&e.request, &x.request_body}, std::pair{&e.response, &x.response_body}}) {
            if (digest->empty()) continue;
            RETRACE_ASSIGN(auto blob, store.get_blob(*digest));
            if (!blob)
                return error(ErrorCode::corrupt, "run " + run_id + " event " +
                                                     std::to_string(e.seq) + ": blob " + *digest +
                                                     " is missing");
            *body = std::move(*blob);
        }
        if (auto it = overrides.find(e.seq); it != overrides.end()) {
            override_body(x, it->second);
            overrides.erase(it);
        }
        // A body recorded redacted cannot be re-digested: its digest was
        // taken before redaction, under the recording store's secret.
        bool redacted = a.value("request_redacted", false);
        x.match = redacted && c->m_policy.ignore.empty() ? text_of(a.value("match", Json()))
                                                         : c->digest_of(match_request_of(x));
        c->m_exchanges.push_back(std::move(x));
    }
    if (!overrides.empty())
        return error(ErrorCode::invalid_input,
                     "--override " + std::to_string(overrides.begin()->first) + ": run " + run_id +
                         " has no model or HTTP exchange with that number" +
                         (c->m_policy.until ? " up to --until" : ""));
    for (const auto& x : c->m_exchanges) c->m_queues[x.match].items.push_back(&x);
    return c;
}

std::string Cassette::digest_of(const core::MatchRequest& request) const {
    return core::match_digest(m_secret, request, m_policy.ignore);
}

const RecordedExchange* Cassette::take(const std::string& digest) {
    std::lock_guard lock(m_mutex);
    auto it = m_queues.find(digest);
    if (it == m_queues.end()) return nullptr;
    Queue& q = it->second;
    if (q.next < q.items.size()) return q.items[q.next++];
    return m_policy.reuse ? q.items.back() : nullptr;
}

Divergence Cassette::diverge(const core::MatchRequest& request, const std::string& digest) {
    Divergence d;
    d.request = std::string(request.method) + " /" + std::string(request.route) +
                std::string(request.path) + std::string(request.query);
    auto parsed = core::parse_json_strict(request.body);
    std::lock_guard lock(m_mutex);
    if (auto it = m_queues.find(digest); it != m_queues.end()) {
        d.reason = "its " + std::to_string(it->second.items.size()) +
                   " recorded answer(s) were all used (a request repeated more often than when "
                   "recorded)";
        d.nearest = it->second.items.back()->seq;
    } else {
        // The nearest: same method, route and path, fewest differing fields;
        // the first recorded of equals.
        std::size_t best = std::numeric_limits<std::size_t>::max();
        for (const auto& x : m_exchanges) {
            if (x.method != request.method || x.route != request.route || x.path != request.path)
                continue;
            auto recorded = core::parse_json_strict(x.request_body);
            if (parsed && recorded) {
                for (const auto& p : m_policy.ignore) p.erase_from(*recorded);
                Json live = *parsed;
                for (const auto& p : m_policy.ignore) p.erase_from(live);
                auto diff = core::json_diff(*recorded, live);
                if (diff.size() < best) {
                    best = diff.size();
                    d.nearest = x.seq;
                    d.diff = std::move(diff);
                    d.nearest_raw.clear();
                }
            } else if (best == std::numeric_limits<std::size_t>::max()) {
                d.nearest = x.seq;
                d.nearest_raw = "bodies are not both JSON: recorded " +
                                std::to_string(x.request_body.size()) + " bytes, now " +
                                std::to_string(request.body.size()) + " bytes";
            }
        }
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

std::vector<Divergence> Cassette::divergences() const {
    std::lock_guard lock(m_mutex);
    return m_divergences;
}

std::vector<const RecordedExchange*> Cassette::unused() const {
    std::lock_guard lock(m_mutex);
    std::vector<const RecordedExchange*> out;
    for (const auto& [_, q] : m_queues)
        for (std::size_t i = q.next; i < q.items.size(); ++i) out.push_back(q.items[i]);
    std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->seq < b->seq; });
    return out;
}

}  // namespace retrace::capture
