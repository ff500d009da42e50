#include "run_json.hpp"

#include <ctime>

namespace retrace::cli {

using core::Json;

namespace {
Json parse_or_text(const std::string& text) {
    auto j = core::parse_json_strict(text);
    return j ? j.value() : Json(text);
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
    return j;
}

Json event_json(const store::EventRow& row) {
    Json j = row.event.to_json();
    j["digest"] = row.digest ? Json(*row.digest) : Json();
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
        for (const auto& e : *rows) events.push_back(event_json(e));
    j["events"] = events;
    return j;
}

Result<long long> parse_since(const std::string& when, long long now_ns) {
    if (!when.empty() && std::isdigit(static_cast<unsigned char>(when[0])) &&
        std::string("smhdw").find(when.back()) != std::string::npos &&
        when.find('-') == std::string::npos) {
        long long n = 0;
        try {
            n = std::stoll(when.substr(0, when.size() - 1));
        } catch (const std::exception&) {
            return error(ErrorCode::invalid_input, "bad --since '" + when + "'");
        }
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
        return now_ns - n * unit * 1000000000LL;
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

}  // namespace retrace::cli
