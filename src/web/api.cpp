#include "retrace/web/api.hpp"

#include "retrace/analysis/diff.hpp"
#include "retrace/core/clock.hpp"
#include "retrace/query/probes.hpp"
#include "retrace/query/runs.hpp"
#include "retrace/store/run_ref.hpp"

namespace retrace::web {

using core::Json;

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// The path's segments: "/runs/ID/events/3" -> runs, ID, events, 3.
std::vector<std::string_view> segments(std::string_view path) {
    std::vector<std::string_view> out;
    while (!path.empty()) {
        if (path.front() == '/') {
            path.remove_prefix(1);
            continue;
        }
        auto slash = path.find('/');
        out.push_back(path.substr(0, slash));
        path.remove_prefix(slash == std::string_view::npos ? path.size() : slash);
    }
    return out;
}

Reply json_reply(const Json& j) {
    return {200, "application/json", json_text(j)};
}

// A failed question: its code says which status.
Reply failed(const Status& s) {
    switch (s.code()) {
        case ErrorCode::invalid_input:
            return error_reply(400, s.message());
        case ErrorCode::not_found:
            return error_reply(404, s.message());
        default:
            return error_reply(500, s.message());
    }
}

std::string param(const QueryParams& query, std::string_view name) {
    auto it = query.find(name);
    return it == query.end() ? std::string() : it->second;
}

Result<query::RunQuery> run_query(const QueryParams& q) {
    query::RunQuery out;
    out.name = param(q, "name");
    out.state = param(q, "state");
    out.since = param(q, "since");
    out.kind = param(q, "kind");
    out.contains = param(q, "q");
    out.before = param(q, "before");
    out.tokens = param(q, "tokens") == "1";
    std::string limit = param(q, "limit");
    if (!limit.empty()) {
        int n = 0;
        for (char c : limit) {
            if (c < '0' || c > '9' || n > 100000)
                return error(ErrorCode::invalid_input,
                             "bad limit '" + limit + "' (want 1 to 100000)");
            n = n * 10 + (c - '0');
        }
        if (n < 1 || n > 100000)
            return error(ErrorCode::invalid_input, "bad limit '" + limit + "' (want 1 to 100000)");
        out.limit = n;
    }
    return out;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '%') {
            if (i + 2 >= text.size()) return std::nullopt;
            int hi = hex_value(text[i + 1]), lo = hex_value(text[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else {
            out += plus_is_space && c == '+' ? ' ' : c;
        }
    }
    return out;
}

std::optional<QueryParams> parse_query(std::string_view query) {
    QueryParams out;
    while (!query.empty()) {
        auto amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
        if (pair.empty()) continue;
        auto eq = pair.find('=');
        auto key = percent_decode(pair.substr(0, eq), true);
        auto value = percent_decode(
            eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
        if (!key || !value) return std::nullopt;
        out[*key] = *value;
    }
    return out;
}

std::string json_text(const Json& j) {
    return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Reply error_reply(int status, const std::string& message) {
    return {status, "application/json",
            json_text(Json{{"error", {{"type", "retrace_web_error"}, {"message", message}}}})};
}

Reply Api::get(std::string_view path, const QueryParams& q) {
    auto parts = segments(path);
    auto at = [&](std::size_t i) { return std::string(parts[i]); };
    if (parts.size() == 1 && parts[0] == "runs") {
        auto query = run_query(q);
        if (!query) return failed(query.status());
        auto runs = query::list_runs_json(m_store, *query, core::unix_now_ns());
        return runs ? json_reply(*runs) : failed(runs.status());
    }
    if (parts.size() >= 2 && parts[0] == "runs") {
        auto run = store::resolve_run(m_store, at(1));
        if (!run) return failed(run.status());
        if (parts.size() == 2) return json_reply(query::run_full_json(m_store, *run));
        if (parts.size() == 4 && parts[2] == "events") {
            long long seq = 0;
            for (char c : parts[3]) {
                if (c < '0' || c > '9' || seq > 1'000'000'000'000LL)
                    return error_reply(400, "bad event number '" + at(3) + "'");
                seq = seq * 10 + (c - '0');
            }
            auto event = query::find_event(m_store, *run, seq);
            if (!event) return failed(event.status());
            return json_reply(query::event_detail_json(m_store, *event));
        }
    }
    if (parts.size() == 3 && parts[0] == "diff") {
        auto report = analysis::diff_runs(m_store, at(1), at(2));
        return report ? json_reply(report->to_json()) : failed(report.status());
    }
    if (parts.size() == 1 && parts[0] == "probes") {
        auto probes = query::probes_json(m_store);
        return probes ? json_reply(*probes) : failed(probes.status());
    }
    if (parts.size() == 2 && parts[0] == "probes") {
        auto probe = query::probe_json(m_store, at(1));
        return probe ? json_reply(probe->json) : failed(probe.status());
    }
    return error_reply(404, "no such API path: /api/v1" + std::string(path));
}

}  // namespace retrace::web
