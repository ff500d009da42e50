#include "retrace/interop/har.hpp"

#include <cmath>

#include "retrace/core/base64.hpp"
#include "retrace/core/clock.hpp"
#include "retrace/trace/exchange.hpp"

namespace retrace::interop {

namespace {

using core::Json;

const char* reason_phrase(int status) {
    switch (status) {
        case 200:
            return "OK";
        case 201:
            return "Created";
        case 204:
            return "No Content";
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 408:
            return "Request Timeout";
        case 413:
            return "Payload Too Large";
        case 422:
            return "Unprocessable Entity";
        case 429:
            return "Too Many Requests";
        case 500:
            return "Internal Server Error";
        case 502:
            return "Bad Gateway";
        case 503:
            return "Service Unavailable";
        case 504:
            return "Gateway Timeout";
        case 529:
            return "Overloaded";
        default:
            return "";
    }
}

Json name_values(const Json& headers) {
    Json list = Json::array();
    for (const auto& [k, v] : headers.items())
        if (k != "host")  // where the program sent it (retrace's port), not the URL's host
            list.push_back(
                {{"name", k}, {"value", v.is_string() ? v.get<std::string>() : v.dump()}});
    return list;
}

Json query_list(const std::string& query) {
    Json list = Json::array();
    std::string_view q(query);
    if (q.starts_with('?')) q.remove_prefix(1);
    while (!q.empty()) {
        auto amp = q.find('&');
        std::string_view pair = q.substr(0, amp);
        auto eq = pair.find('=');
        list.push_back(
            {{"name", std::string(pair.substr(0, eq))},
             {"value",
              eq == std::string_view::npos ? std::string() : std::string(pair.substr(eq + 1))}});
        if (amp == std::string_view::npos) break;
        q.remove_prefix(amp + 1);
    }
    return list;
}

std::string header_of(const Json& headers, const char* name, const char* fallback) {
    auto it = headers.find(name);
    return it != headers.end() && it->is_string() ? it->get<std::string>() : fallback;
}

// A body as HAR content: text when it is UTF-8, else base64.
void put_text(Json& content, const std::string& body) {
    if (core::is_utf8(body)) {
        content["text"] = body;
    } else {
        content["text"] = core::base64(body);
        content["encoding"] = "base64";
    }
}

double ms(long long us) {
    return std::round(static_cast<double>(us) / 10.0) / 100.0;  // 0.01 ms
}

// Reading

struct EntryReader {
    const Json& j;
    std::string where;

    Status missing(const std::string& field, const char* what) const {
        return error(ErrorCode::invalid_input, where + ": " + field + " " + what);
    }
    Result<const Json*> object(const Json& parent, const std::string& field,
                               const std::string& path) const {
        auto it = parent.find(field);
        if (it == parent.end() || !it->is_object()) return missing(path, "must be an object");
        return &*it;
    }
    Result<std::string> string(const Json& parent, const std::string& field,
                               const std::string& path) const {
        auto it = parent.find(field);
        if (it == parent.end() || !it->is_string()) return missing(path, "must be a string");
        return it->get<std::string>();
    }
    Result<Headers> headers(const Json& parent, const std::string& path) const {
        auto it = parent.find("headers");
        if (it == parent.end() || !it->is_array())
            return missing(path + ".headers", "must be an array");
        Headers out;
        for (std::size_t i = 0; i < it->size(); ++i) {
            const Json& h = (*it)[i];
            std::string at = path + ".headers[" + std::to_string(i) + "]";
            RETRACE_ASSIGN(auto name, string(h, "name", at + ".name"));
            RETRACE_ASSIGN(auto value, string(h, "value", at + ".value"));
            out.emplace_back(std::move(name), std::move(value));
        }
        return out;
    }
};

Result<ForeignExchange> read_entry(const Json& entry, std::size_t index) {
    EntryReader r{entry, "entry " + std::to_string(index + 1)};
    if (!entry.is_object()) return r.missing("it", "must be an object");
    ForeignExchange x;
    x.where = r.where;
    RETRACE_ASSIGN(auto started, r.string(entry, "startedDateTime", "startedDateTime"));
    auto ns = core::parse_rfc3339(started);
    if (!ns)
        return r.missing("startedDateTime", ("'" + started + "' is not an ISO 8601 date").c_str());
    x.started_ns = *ns;
    RETRACE_ASSIGN(auto request, r.object(entry, "request", "request"));
    RETRACE_ASSIGN(x.method, r.string(*request, "method", "request.method"));
    RETRACE_ASSIGN(x.url, r.string(*request, "url", "request.url"));
    RETRACE_ASSIGN(x.request_headers, r.headers(*request, "request"));
    if (auto it = request->find("postData"); it != request->end() && it->is_object()) {
        if (it->contains("text") && !(*it)["text"].is_string())
            return r.missing("request.postData.text", "must be a string");
        x.request_body = it->value("text", std::string());
        if (it->value("encoding", std::string()) == "base64") {
            auto raw = core::unbase64(x.request_body);
            if (!raw) return r.missing("request.postData.text", "is not base64");
            x.request_body = std::move(*raw);
        }
    }
    RETRACE_ASSIGN(auto response, r.object(entry, "response", "response"));
    auto status = response->find("status");
    if (status == response->end() || !status->is_number_integer())
        return r.missing("response.status", "must be an integer");
    x.status = status->get<int>();
    if (x.status != 0 && (x.status < 100 || x.status > 599))
        return r.missing("response.status",
                         "must be an HTTP status (100 to 599, or 0 for none received)");
    RETRACE_ASSIGN(auto response_headers, r.headers(*response, "response"));
    // HAR keeps the body decoded: served again as it is, it has no encoding
    // and the length of its text.
    for (auto& [name, value] : response_headers) {
        std::string lower_name = name;
        for (auto& c : lower_name)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (lower_name != "content-encoding" && lower_name != "content-length" &&
            lower_name != "transfer-encoding")
            x.response_headers.emplace_back(std::move(name), std::move(value));
    }
    RETRACE_ASSIGN(auto content, r.object(*response, "content", "response.content"));
    if (content->contains("text")) {
        if (!(*content)["text"].is_string())
            return r.missing("response.content.text", "must be a string");
        x.response_body = (*content)["text"].get<std::string>();
        if (content->value("encoding", std::string()) == "base64") {
            auto raw = core::unbase64(x.response_body);
            if (!raw) return r.missing("response.content.text", "is not base64");
            x.response_body = std::move(*raw);
        }
    } else if (auto size = content->find("size");
               size != content->end() && size->is_number() && size->get<double>() > 0) {
        return r.missing("response.content.text",
                         "is missing (the HAR was saved without bodies: save it with content)");
    }
    auto time = entry.find("time");
    if (time == entry.end() || !time->is_number() || time->get<double>() < 0 ||
        time->get<double>() > 1e10)  // (over 100 days: not an exchange's time)
        return r.missing("time", "must be a number of milliseconds");
    x.duration_us = std::llround(time->get<double>() * 1000);
    if (auto t = entry.find("timings"); t != entry.end() && t->is_object()) {
        double before = 0;  // blocked, dns, connect, send, wait: until the first byte
        for (const char* phase : {"blocked", "dns", "connect", "send", "wait"})
            if (auto p = t->find(phase);
                p != t->end() && p->is_number() && p->get<double>() > 0 && p->get<double>() < 1e10)
                before += p->get<double>();
        x.header_us = std::llround(before * 1000);
    }
    return x;
}

}  // namespace

Result<ExchangeFile> parse_har(std::string_view text) {
    auto parsed = core::parse_json_strict(text);
    if (!parsed) return error(ErrorCode::invalid_input, "not JSON: " + parsed.status().message());
    const Json& doc = *parsed;
    if (!doc.is_object() || !doc.contains("log") || !doc["log"].is_object())
        return error(ErrorCode::invalid_input, "no \"log\" object: not an HTTP archive");
    const Json& log = doc["log"];
    if (!log.contains("entries") || !log["entries"].is_array())
        return error(ErrorCode::invalid_input, "log.entries must be an array");
    ExchangeFile file;
    file.format = "har";
    const Json& entries = log["entries"];
    for (std::size_t i = 0; i < entries.size(); ++i) {
        RETRACE_ASSIGN(auto x, read_entry(entries[i], i));
        file.exchanges.push_back(std::move(x));
    }
    return file;
}

Result<Json> har_of_run(store::Store& store, const std::string& run_id) {
    RETRACE_ASSIGN(auto rows, store.events(run_id));
    Json entries = Json::array();
    for (const auto& row : rows) {
        const auto& e = row.event;
        if (!core::is_exchange(e.kind)) continue;
        auto x = trace::Exchange::from_attrs(e.attrs);
        if (x.divergence) continue;  // a replay's refusal: retrace's answer, not the server's
        RETRACE_ASSIGN(auto request, store.get_blob(e.request));
        RETRACE_ASSIGN(auto response, store.get_blob(e.response));
        std::string req_body = request ? *request : "";
        std::string resp_body = response ? *response : "";
        Json req = {{"method", x.method},
                    {"url", export_url(x.route, x.path, x.query)},
                    {"httpVersion", "HTTP/1.1"},
                    {"cookies", Json::array()},
                    {"headers", name_values(x.request_headers)},
                    {"queryString", query_list(x.query)},
                    {"headersSize", -1},
                    {"bodySize", static_cast<long long>(req_body.size())}};
        if (!req_body.empty()) {
            Json post = {{"mimeType", header_of(x.request_headers, "content-type",
                                                "application/octet-stream")}};
            put_text(post, req_body);
            req["postData"] = post;
        }
        Json content = {{"size", static_cast<long long>(resp_body.size())},
                        {"mimeType", header_of(x.response_headers, "content-type", "")}};
        put_text(content, resp_body);
        long long total_us = std::max(0LL, (e.end_ns - e.start_ns) / 1000);
        long long wait_us = std::clamp(x.header_us.value_or(total_us), 0LL, total_us);
        Json res = {{"status", x.status},
                    {"statusText", reason_phrase(x.status)},
                    {"httpVersion", "HTTP/1.1"},
                    {"cookies", Json::array()},
                    {"headers", name_values(x.response_headers)},
                    {"content", content},
                    {"redirectURL", header_of(x.response_headers, "location", "")},
                    {"headersSize", -1},
                    {"bodySize", static_cast<long long>(resp_body.size())}};
        Json entry = {{"startedDateTime", core::rfc3339(e.start_ns)},
                      {"time", ms(total_us)},
                      {"request", req},
                      {"response", res},
                      {"cache", Json::object()},
                      {"timings",
                       {{"blocked", -1},
                        {"dns", -1},
                        {"connect", -1},
                        {"send", 0},
                        {"wait", ms(wait_us)},
                        {"receive", ms(total_us - wait_us)},
                        {"ssl", -1}}},
                      {"_retrace", {{"run", run_id}, {"event", e.seq}, {"route", x.route}}}};
        if (x.truncated) entry["_retrace"]["truncated"] = true;
        if (x.client_cancelled) entry["_retrace"]["client_cancelled"] = true;
        entries.push_back(std::move(entry));
    }
    return Json{{"log",
                 {{"version", "1.2"},
                  {"creator", {{"name", "retrace"}, {"version", RETRACE_VERSION}}},
                  {"entries", std::move(entries)}}}};
}

}  // namespace retrace::interop
