// The event half of query/runs.hpp: an event found and shown in full.
#include "retrace/core/event_kind.hpp"
#include "retrace/query/runs.hpp"
#include "retrace/trace/exchange.hpp"
#include "retrace/trace/process.hpp"
#include "retrace/trace/sdk_event.hpp"

namespace retrace::query {

using core::Json;

namespace {

std::string header(const Json& headers, const char* name) {
    auto it = headers.find(name);
    return it != headers.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Json body_json(const std::string& text) {
    auto parsed = core::parse_json_strict(text);
    return parsed ? *parsed : Json(text);
}

}  // namespace

core::LlmResponse response_of(store::Store& store, const core::Event& e) {
    trace::Exchange x = trace::Exchange::from_attrs(e.attrs);
    return core::assemble_response(x.route, header(x.response_headers, "content-type"),
                                   store::blob_text(store, e.response));
}

Result<core::Event> find_event(store::Store& store, const store::RunRow& run, long long seq) {
    RETRACE_ASSIGN(auto rows, store.events(run.id));
    for (auto& r : rows)
        if (r.event.seq == seq) return std::move(r.event);
    return error(ErrorCode::not_found, "run " + run.id + " has no event " + std::to_string(seq) +
                                           " (it has " + std::to_string(rows.size()) + ")");
}

Json event_detail_json(store::Store& store, const core::Event& e) {
    const Json& a = e.attrs;
    Json out = {{"event", e.to_json()}};
    std::string request = store::blob_text(store, e.request),
                response = store::blob_text(store, e.response);
    if (e.kind == core::EventKind::process) {
        trace::ProcessRecord process = trace::ProcessRecord::from_attrs(a);
        out["stdout"] = store::blob_text(store, process.stdout_digest);
        out["stderr"] = store::blob_text(store, process.stderr_digest);
    } else if (core::is_exchange(e.kind)) {
        trace::Exchange x = trace::Exchange::from_attrs(a);
        out["request"] = {{"headers", x.request_headers}, {"body", body_json(request)}};
        Json frames = Json::array();
        std::size_t at = 0;
        for (const auto& [offset_us, bytes] : x.chunks) {
            std::size_t n = std::min<std::size_t>(bytes, response.size() - at);
            frames.push_back({{"offset_us", offset_us}, {"text", response.substr(at, n)}});
            at += n;
        }
        out["response"] = {{"status", x.status},
                           {"headers", x.response_headers},
                           {"body", body_json(response)},
                           {"frames", frames}};
        if (e.kind == core::EventKind::llm)
            out["response"]["assembled"] = response_of(store, e).to_json();
    } else {
        out["input"] = e.request.empty() ? Json() : body_json(request);
        if (!e.response.empty()) out["output"] = body_json(response);
        auto sdk = trace::SdkEvent::from_attrs(a);
        if (!sdk.error.is_null()) out["error"] = sdk.error;
    }
    return out;
}

}  // namespace retrace::query
