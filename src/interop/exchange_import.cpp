#include "retrace/interop/exchange_import.hpp"

#include <fstream>
#include <set>

#include "retrace/conditions/traffic_facts.hpp"
#include "retrace/core/api_path.hpp"
#include "retrace/core/clock.hpp"
#include "retrace/core/digest.hpp"
#include "retrace/core/identity.hpp"
#include "retrace/core/matching.hpp"
#include "retrace/core/outcome.hpp"
#include "retrace/core/redact.hpp"
#include "retrace/core/run_id.hpp"
#include "retrace/core/sse.hpp"
#include "retrace/interop/har.hpp"
#include "retrace/interop/vcr.hpp"
#include "retrace/trace/exchange.hpp"

namespace retrace::interop {

namespace {

using core::Json;

constexpr std::uintmax_t k_max_file_bytes = std::uintmax_t{1} << 30;

struct Url {
    std::string scheme, host, port, path, query;
};

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::optional<Url> parse_url(const std::string& text) {
    auto colon = text.find("://");
    if (colon == std::string::npos || colon == 0) return std::nullopt;
    Url u;
    u.scheme = lower(text.substr(0, colon));
    if (u.scheme != "http" && u.scheme != "https") return std::nullopt;
    std::string rest = text.substr(colon + 3);
    auto slash = rest.find_first_of("/?#");
    std::string authority = rest.substr(0, slash);
    if (auto at = authority.rfind('@'); at != std::string::npos) authority.erase(0, at + 1);
    std::string target = slash == std::string::npos ? "/" : rest.substr(slash);
    if (auto hash = target.find('#'); hash != std::string::npos) target.erase(hash);
    if (authority.empty()) return std::nullopt;
    auto port_colon = authority.rfind(':');
    if (port_colon != std::string::npos && authority.find(']', port_colon) == std::string::npos) {
        u.host = lower(authority.substr(0, port_colon));
        u.port = authority.substr(port_colon + 1);
    } else {
        u.host = lower(authority);
    }
    if (u.port.empty()) u.port = u.scheme == "https" ? "443" : "80";
    auto q = target.find('?');
    u.path = target.substr(0, q);
    if (u.path.empty() || u.path[0] != '/') u.path.insert(0, "/");
    if (q != std::string::npos) u.query = target.substr(q);
    return u;
}

// "api-example-com-8443": a host (and a port other than its scheme's) as a
// route name, one path segment of letters, digits and dashes.
std::string route_name_of(const Url& u) {
    std::string name = u.host;
    bool default_port =
        (u.scheme == "https" && u.port == "443") || (u.scheme == "http" && u.port == "80");
    if (!default_port) name += "-" + u.port;
    for (auto& c : name)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '-';
    return name;
}

struct Routed {
    std::string route, path;
};

Result<Routed> route_of(const ForeignExchange& x, const ImportOptions& options,
                        const std::string& label) {
    auto u = parse_url(x.url);
    if (!u)
        return error(ErrorCode::invalid_input,
                     label + ": " + x.where + ": '" + x.url + "' is not an absolute http(s) URL");
    for (const auto& [name, prefix] : options.routes) {
        auto p = parse_url(prefix);
        if (!p)
            return error(ErrorCode::invalid_input,
                         "--route " + name + ": '" + prefix + "' is not an absolute http(s) URL");
        std::string base = p->path;
        while (base.size() > 1 && base.back() == '/') base.pop_back();
        if (base == "/") base.clear();
        if (p->scheme == u->scheme && p->host == u->host && p->port == u->port &&
            u->path.starts_with(base) &&
            (u->path.size() == base.size() || u->path[base.size()] == '/')) {
            std::string rest = u->path.substr(base.size());
            return Routed{name, core::api_path(name, rest.empty() ? "/" : rest)};
        }
    }
    if (u->host == "api.openai.com") return Routed{"openai", core::api_path("openai", u->path)};
    if (u->host == "api.anthropic.com")
        return Routed{"anthropic", core::api_path("anthropic", u->path)};
    const std::string own = ".retrace.invalid";
    if (u->host.size() > own.size() && u->host.ends_with(own))
        return Routed{u->host.substr(0, u->host.size() - own.size()), u->path};
    return Routed{route_name_of(*u), u->path};
}

std::string query_of(const std::string& url) {
    auto u = parse_url(url);
    return u ? u->query : std::string();
}

// The body in chunks as the recorder keeps them: an event stream frame by
// frame, spread over the time the body took; anything else in one piece.
std::vector<std::pair<long long, std::size_t>> chunks_of(const std::string& body,
                                                         const std::string& content_type,
                                                         long long first_us, long long last_us) {
    std::vector<std::pair<long long, std::size_t>> chunks;
    if (body.empty()) return chunks;
    if (!core::looks_like_sse(content_type, body)) {
        chunks.emplace_back(first_us, body.size());
        return chunks;
    }
    std::vector<std::size_t> sizes;
    std::size_t from = 0;
    while (from < body.size()) {
        std::size_t end = std::string::npos;
        for (std::size_t nl = body.find('\n', from); nl != std::string::npos;
             nl = body.find('\n', nl + 1)) {
            if (nl + 1 < body.size() && body[nl + 1] == '\n') {
                end = nl + 2;
                break;
            }
            if (nl + 2 < body.size() && body[nl + 1] == '\r' && body[nl + 2] == '\n') {
                end = nl + 3;
                break;
            }
        }
        if (end == std::string::npos) end = body.size();
        sizes.push_back(end - from);
        from = end;
    }
    long long span = std::max(0LL, last_us - first_us);
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        long long at = sizes.size() == 1 ? first_us
                                         : first_us + span * static_cast<long long>(i) /
                                                          static_cast<long long>(sizes.size() - 1);
        chunks.emplace_back(at, sizes[i]);
    }
    return chunks;
}

std::string header_value(const Headers& headers, const std::string& name) {
    for (const auto& [k, v] : headers)
        if (lower(k) == name) return v;
    return "";
}

}  // namespace

std::string export_url(const std::string& route, const std::string& path,
                       const std::string& query) {
    if (route == "openai") {
        // the API root ends in /v1; api_path keeps what follows it
        return "https://api.openai.com/v1" + path + query;
    }
    if (route == "anthropic") return "https://api.anthropic.com" + path + query;
    return "http://" + route + ".retrace.invalid" + path + query;
}

Result<ExchangeFile> read_exchange_file(const std::filesystem::path& path) {
    std::error_code ec;
    auto size = std::filesystem::file_size(path, ec);
    if (ec)
        return error(ErrorCode::invalid_input,
                     "cannot read " + path.string() + ": " + ec.message());
    if (size > k_max_file_bytes)
        return error(ErrorCode::invalid_input, path.string() + " is over 1 GiB");
    std::ifstream in(path, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    if (!in && !in.eof()) return error(ErrorCode::invalid_input, "cannot read " + path.string());
    auto first = text.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
    bool json = first != std::string::npos && (text[first] == '{' || text[first] == '[');
    std::string label = (json ? "HAR file " : "vcrpy cassette ") + path.string();
    auto parsed = json ? parse_har(text) : parse_vcr(text);
    if (!parsed) return error(ErrorCode::invalid_input, label + ": " + parsed.status().message());
    if (parsed->exchanges.empty())
        return error(ErrorCode::invalid_input,
                     label + " holds no exchanges: there is nothing to import");
    parsed->label = label;
    parsed->digest = core::Digest::of(text).to_string();
    return parsed;
}

Result<ImportResult> import_exchanges(store::Store& store, const ExchangeFile& file,
                                      const ImportOptions& options) {
    // Every exchange is checked and routed before anything is stored.
    std::vector<Routed> routed;
    for (const auto& x : file.exchanges) {
        RETRACE_ASSIGN(auto r, route_of(x, options, file.label));
        routed.push_back(std::move(r));
    }
    RETRACE_ASSIGN(auto secret, store.secret());
    core::Redactor redactor;
    conditions::TrafficFacts facts(secret);
    ImportResult result;
    result.run_id = core::RunId::generate().str();
    const std::string& run_id = result.run_id;

    long long now = core::unix_now_ns();
    long long clock = file.exchanges.front().started_ns.value_or(now);
    long long started = clock;
    std::vector<store::EventRow> rows;
    std::map<std::string, std::string> blobs;
    core::Digest head = core::chain_genesis(run_id);
    for (std::size_t i = 0; i < file.exchanges.size(); ++i) {
        const auto& f = file.exchanges[i];
        const auto& [route, path] = routed[i];
        trace::Exchange x;
        x.route = route;
        x.method = f.method;
        x.path = path;
        std::string query = query_of(f.url);
        x.query = redactor.redact(core::redact_query(query));
        Headers raw_headers;
        for (const auto& [k, v] : f.request_headers) {
            std::string name = lower(k);
            if (name.empty() || name[0] == ':') continue;  // HTTP/2 pseudo-headers
            raw_headers.emplace_back(name, v);
            x.request_headers[name] =
                core::is_secret_header(name) ? std::string(core::k_redacted) : redactor.redact(v);
        }
        core::MatchRequest match{x.method, x.route, x.path, x.query, raw_headers, f.request_body};
        x.match = core::match_digest(secret, match, {});
        std::string request = redactor.redact(f.request_body);
        x.request_redacted = request != f.request_body;
        x.status = f.status;
        for (const auto& [k, v] : f.response_headers) {
            std::string name = lower(k);
            std::string value =
                core::is_secret_header(name) ? std::string(core::k_redacted) : redactor.redact(v);
            if (x.response_headers.contains(name) && x.response_headers[name].is_string())
                value = x.response_headers[name].get<std::string>() + ", " + value;
            x.response_headers[name] = value;
        }
        std::string response = redactor.redact(f.response_body);
        long long duration_us = std::max(0LL, f.duration_us.value_or(0));
        long long header_us = std::clamp(f.header_us.value_or(0), 0LL, duration_us);
        x.header_us = header_us;
        x.chunks = chunks_of(response, header_value(f.response_headers, "content-type"), header_us,
                             duration_us);

        core::Event e;
        e.seq = static_cast<long long>(i) + 1;
        e.kind = core::exchange_kind(route);
        e.name = x.method + " " + path;
        e.start_ns = f.started_ns.value_or(clock);
        e.end_ns = e.start_ns + duration_us * 1000;
        clock = std::max(clock, e.end_ns);
        e.attrs = x.to_attrs();
        e.request = core::Digest::of(request).to_string();
        e.response = core::Digest::of(response).to_string();
        facts.observe({route, path, &raw_headers, f.request_body, f.status, &x.response_headers,
                       f.response_body, e.request, e.response});
        blobs.emplace(e.request, std::move(request));
        blobs.emplace(e.response, std::move(response));
        store::EventRow row;
        RETRACE_ASSIGN(row.attrs_text, core::canonicalize(e.attrs));
        RETRACE_ASSIGN(head, core::chain_link(head, e));
        row.digest = head.to_string();
        row.event = std::move(e);
        rows.push_back(std::move(row));
        ++result.routes[route];
    }

    Json conditions = {{"data",
                        {{"imported",
                          {{"format", file.format},
                           {"file", std::filesystem::path(options.source).filename().string()},
                           {"digest", file.digest}}}}}};
    facts.merge_into(conditions);
    RETRACE_ASSIGN(auto identity, core::identify_conditions(conditions));
    store::RunRow run;
    run.id = run_id;
    if (!options.name.empty()) run.name = options.name;
    run.state = "sealed";
    run.started_ns = started;
    run.ended_ns = std::max(clock, started);
    RETRACE_ASSIGN(run.conditions, core::canonicalize(conditions));
    run.conditions_digest = identity.digest.to_string();
    Json metadata = {{"id", run_id},
                     {"started_ns", core::ns_text(started)},
                     {"started_at", core::rfc3339(started)},
                     {"ended_ns", core::ns_text(*run.ended_ns)},
                     {"duration_ms", (*run.ended_ns - started) / 1000000},
                     {"imported", {{"format", file.format}, {"file", options.source}}},
                     {"retrace_version", RETRACE_VERSION}};
    if (run.name) metadata["name"] = *run.name;
    core::RunOutcome outcome;
    outcome.exchanges = static_cast<long long>(rows.size());
    Json outcome_json = outcome.to_json();
    RETRACE_ASSIGN(run.metadata, core::canonicalize(metadata));
    RETRACE_ASSIGN(auto metadata_digest, core::json_digest(core::k_metadata_scheme, metadata));
    run.metadata_digest = metadata_digest.to_string();
    RETRACE_ASSIGN(run.outcome, core::canonicalize(outcome_json));
    RETRACE_ASSIGN(auto outcome_digest, core::json_digest(core::k_outcome_scheme, outcome_json));
    run.outcome_digest = outcome_digest.to_string();
    run.chain_head = head.to_string();
    run.event_count = static_cast<long long>(rows.size());
    run.record_digest = core::record_digest({run_id, identity.digest, metadata_digest, head,
                                             *run.event_count, outcome_digest})
                            .to_string();

    std::vector<store::Blob> blob_list;
    for (auto& [digest, data] : blobs) blob_list.push_back({digest, std::move(data)});
    RETRACE_ASSIGN(auto added, store.import_runs({run}, {rows}, {{}}, blob_list, options.source));
    if (added != 1) return error(ErrorCode::internal, "run " + run_id + " was not stored");
    return result;
}

}  // namespace retrace::interop
