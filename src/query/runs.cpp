#include "retrace/query/runs.hpp"

#include <charconv>
#include <ctime>
#include <set>

#include "retrace/store/run_ref.hpp"

namespace retrace::query {

using core::Json;

namespace {

Json parse_or_text(const std::string& text) {
    auto j = core::parse_json_strict(text);
    return j ? j.value() : Json(text);
}

// The models asked for and the fingerprints served, each once, from the
// conditions' models and backend sections.
void add_models(Json& j, const std::string& conditions_text) {
    std::set<std::string> models, fingerprints;
    auto conditions = core::parse_json_strict(conditions_text);
    if (conditions && conditions->is_object()) {
        if (auto m = conditions->find("models"); m != conditions->end() && m->is_object())
            for (const auto& [provider, by_model] : m->items())
                if (by_model.is_object())
                    for (const auto& [model, fields] : by_model.items()) models.insert(model);
        if (auto b = conditions->find("backend"); b != conditions->end() && b->is_object())
            for (const auto& [provider, facts] : b->items())
                if (facts.is_object())
                    for (const auto& f : facts.value("system_fingerprints", Json::array()))
                        if (f.is_string()) fingerprints.insert(f.get<std::string>());
    }
    j["models"] = models;
    j["fingerprints"] = fingerprints;
}

Result<store::RunFilter::Kind> kind_of(const std::string& kind) {
    using Kind = store::RunFilter::Kind;
    if (kind.empty() || kind == "all") return Kind::any;
    if (kind == "record") return Kind::record;
    if (kind == "replay") return Kind::replay;
    if (kind == "probe") return Kind::probe;
    return error(ErrorCode::invalid_input,
                 "bad kind '" + kind + "' (want record, replay, probe or all)");
}

}  // namespace

Json run_summary_json(const store::RunRow& r) {
    Json j = {{"id", r.id},
              {"name", r.name ? Json(*r.name) : Json()},
              {"state", r.state},
              {"started_ns", r.started_ns},
              {"conditions_digest", r.conditions_digest}};
    j["replay_of"] = r.replay_of ? Json(*r.replay_of) : Json();
    j["ended_ns"] = r.ended_ns ? Json(*r.ended_ns) : Json();
    j["duration_ns"] = r.ended_ns ? Json(*r.ended_ns - r.started_ns) : Json();
    j["exit_code"] = r.exit_code ? Json(*r.exit_code) : Json();
    j["record_digest"] = r.record_digest ? Json(*r.record_digest) : Json();
    // (as RunFilter::Kind tells them: a probe's registration and result are its)
    j["kind"] = r.replay_of                                           ? "replay"
                : r.metadata.find("\"probe\":{") != std::string::npos ? "probe"
                                                                      : "record";
    add_models(j, r.conditions);
    return j;
}

Json event_json(const store::EventRow& row) {
    Json j = row.event.to_json();
    j["digest"] = row.digest ? Json(*row.digest) : Json();
    return j;
}

Json listed_event_json(store::Store& store, const store::EventRow& row) {
    Json j = event_json(row);
    if (row.event.kind == core::EventKind::llm && !row.event.response.empty())
        j["summary"] = answer_summary_json(response_of(store, row.event));
    return j;
}

Json run_full_json(store::Store& store, const store::RunRow& r) {
    Json j = run_summary_json(r);
    Json conditions = parse_or_text(r.conditions);
    auto identity = core::identify_conditions(conditions);
    j["conditions"] = conditions;
    if (identity) j["identity"] = identity->to_json();
    j["metadata"] = parse_or_text(r.metadata);
    j["metadata_digest"] = r.metadata_digest ? Json(*r.metadata_digest) : Json();
    j["outcome"] = r.outcome ? parse_or_text(*r.outcome) : Json();
    j["outcome_digest"] = r.outcome_digest ? Json(*r.outcome_digest) : Json();
    j["chain_head"] = r.chain_head ? Json(*r.chain_head) : Json();
    Json events = Json::array();
    if (auto rows = store.events(r.id))
        for (const auto& e : *rows) events.push_back(listed_event_json(store, e));
    j["events"] = events;
    return j;
}

Json answer_summary_json(const core::LlmResponse& r) {
    Json j = Json::object();
    if (!r.model.empty()) j["model"] = r.model;
    if (!r.fingerprint.empty()) j["fingerprint"] = r.fingerprint;
    if (r.input_tokens) j["input_tokens"] = *r.input_tokens;
    if (r.output_tokens) j["output_tokens"] = *r.output_tokens;
    std::vector<std::string> calls;
    if (r.choices.empty())  // (else the first choice's are also the response's own)
        for (const auto& c : r.tool_calls) calls.push_back(c.name);
    for (const auto& choice : r.choices)
        for (const auto& c : choice.tool_calls) calls.push_back(c.name);
    if (!calls.empty()) j["tool_calls"] = calls;
    if (!r.finish_reason.empty()) j["finish_reason"] = r.finish_reason;
    j["stream"] = r.stream;
    if (!r.error.empty()) j["error"] = r.error;
    return j;
}

Json run_tokens_json(store::Store& store, const std::string& run_id) {
    auto rows = store.events(run_id);
    if (!rows) return Json();
    long long input = 0, output = 0;
    bool reported = false;
    for (const auto& row : *rows) {
        if (row.event.kind != core::EventKind::llm || row.event.response.empty()) continue;
        core::LlmResponse r = response_of(store, row.event);
        if (r.input_tokens) input += *r.input_tokens;
        if (r.output_tokens) output += *r.output_tokens;
        reported = reported || r.input_tokens || r.output_tokens;
    }
    return reported ? Json{{"input", input}, {"output", output}} : Json();
}

Result<Json> list_runs_json(store::Store& store, const RunQuery& query, long long now_ns) {
    store::RunFilter filter;
    if (!query.name.empty()) filter.name = query.name;
    if (!query.since.empty()) {
        RETRACE_ASSIGN(long long since, parse_since(query.since, now_ns));
        filter.since_ns = since;
    }
    if (!query.state.empty()) {
        if (query.state != "sealed" && query.state != "incomplete")
            return error(ErrorCode::invalid_input,
                         "bad state '" + query.state + "' (want sealed or incomplete)");
        filter.state = query.state;
    }
    RETRACE_ASSIGN(filter.kind, kind_of(query.kind));
    if (!query.contains.empty()) filter.contains = query.contains;
    if (!query.before.empty()) {
        RETRACE_ASSIGN(auto before, store::resolve_run(store, query.before));
        filter.after = std::make_pair(before.started_ns, before.id);
    }
    filter.limit = query.limit;
    RETRACE_ASSIGN(auto rows, store.list_runs(filter));
    Json out = Json::array();
    for (const auto& r : rows) {
        Json j = run_summary_json(r);
        if (query.tokens) j["tokens"] = run_tokens_json(store, r.id);
        out.push_back(std::move(j));
    }
    return out;
}

Result<long long> parse_since(const std::string& when, long long now_ns) {
    if (!when.empty() && std::isdigit(static_cast<unsigned char>(when[0])) &&
        std::string("smhdw").find(when.back()) != std::string::npos &&
        when.find('-') == std::string::npos) {
        // (the whole number, and no more than 100 years: "1x5m" and
        // "106752d", which overflows nanoseconds, are refused)
        long long n = 0;
        std::string_view digits(when.data(), when.size() - 1);
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
        if (ec != std::errc() || end != digits.data() + digits.size() || n > 36525LL * 86400)
            return error(ErrorCode::invalid_input, "bad --since '" + when + "'");
        long long unit = 1;
        switch (when.back()) {
            case 'w':
                unit = 7 * 86400LL;
                break;
            case 'd':
                unit = 86400;
                break;
            case 'h':
                unit = 3600;
                break;
            case 'm':
                unit = 60;
                break;
            default:
                unit = 1;
        }
        long long seconds = n * unit;
        if (seconds > 36525LL * 86400)
            return error(ErrorCode::invalid_input,
                         "bad --since '" + when + "' (more than 100 years)");
        return now_ns - seconds * 1000000000LL;
    }
    std::tm tm{};
    const char* end = strptime(when.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end || *end) {
        tm = {};
        end = strptime(when.c_str(), "%Y-%m-%d", &tm);
    }
    if (!end || *end)
        return error(
            ErrorCode::invalid_input,
            "bad --since '" + when + "' (want 2026-11-22, 2026-11-22T10:00:00 or 30m/2h/7d)");
    return static_cast<long long>(timegm(&tm)) * 1000000000LL;
}

}  // namespace retrace::query
