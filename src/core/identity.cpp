#include "retrace/core/identity.hpp"

#include <algorithm>

namespace retrace::core {

namespace {
bool is_known_section(std::string_view name) {
    return std::find(k_declared_sections.begin(), k_declared_sections.end(), name) !=
               k_declared_sections.end() ||
           std::find(k_observed_sections.begin(), k_observed_sections.end(), name) !=
               k_observed_sections.end();
}
}  // namespace

Json ConditionsIdentity::to_json() const {
    Json s = Json::object();
    for (const auto& [name, d] : sections) s[name] = d.to_string();
    return {{"conditions", digest.to_string()},
            {"declared", declared.to_string()},
            {"observed", observed.to_string()},
            {"sections", s}};
}

Result<Digest> json_digest(std::string_view scheme, const Json& body) {
    RETRACE_ASSIGN(std::string text, canonicalize(body));
    return TaggedHasher(scheme).field("body", text).digest();
}

Result<ConditionsIdentity> identify_conditions(Json& conditions) {
    if (!conditions.is_object())
        return error(ErrorCode::invalid_input, "conditions must be a JSON object");
    for (const auto& [name, value] : conditions.items()) {
        if (!is_known_section(name))
            return error(ErrorCode::invalid_input, "unknown conditions section '" + name + "'");
        if (!value.is_object())
            return error(ErrorCode::invalid_input,
                         "conditions section '" + name + "' is not an object");
    }
    ConditionsIdentity id;
    auto section = [&](std::string_view name) -> Result<Digest> {
        Json& body = conditions[std::string(name)];
        if (body.is_null()) body = Json::object();
        RETRACE_ASSIGN(std::string text, canonicalize(body));
        TaggedHasher h("retrace.section/1");
        h.field("name", name).field("body", text);
        id.explain += h.text();
        Digest d = h.digest();
        id.sections[std::string(name)] = d;
        return d;
    };
    TaggedHasher declared("retrace.declared/1");
    for (auto name : k_declared_sections) {
        RETRACE_ASSIGN(Digest d, section(name));
        declared.field(name, d);
    }
    TaggedHasher observed("retrace.observed/1");
    for (auto name : k_observed_sections) {
        RETRACE_ASSIGN(Digest d, section(name));
        observed.field(name, d);
    }
    id.declared = declared.digest();
    id.observed = observed.digest();
    TaggedHasher top("retrace.conditions/1");
    top.field("declared", id.declared).field("observed", id.observed);
    id.explain += declared.text() + observed.text() + top.text();
    id.digest = top.digest();
    return id;
}

Json Event::to_json() const {
    // Nanosecond times exceed 2^53, where JSON numbers (IEEE doubles under
    // RFC 8785) lose precision, so they are hashed as decimal strings.
    Json j = {{"seq", seq},
              {"kind", to_string(kind)},
              {"name", name},
              {"parent", parent},
              {"start_ns", std::to_string(start_ns)},
              {"end_ns", std::to_string(end_ns)},
              {"attrs", attrs}};
    if (!request.empty()) j["request"] = request;
    if (!response.empty()) j["response"] = response;
    return j;
}

Result<Event> Event::from_json(const Json& j) {
    try {
        Event e;
        e.seq = j.at("seq").get<long long>();
        std::string kind = j.at("kind").get<std::string>();
        auto known = parse_event_kind(kind);
        if (!known) return error(ErrorCode::invalid_input, "unknown event kind '" + kind + "'");
        e.kind = *known;
        e.name = j.at("name").get<std::string>();
        e.parent = j.at("parent").get<long long>();
        e.start_ns = std::stoll(j.at("start_ns").get<std::string>());
        e.end_ns = std::stoll(j.at("end_ns").get<std::string>());
        e.attrs = j.at("attrs");
        if (j.contains("request")) e.request = j.at("request").get<std::string>();
        if (j.contains("response")) e.response = j.at("response").get<std::string>();
        return e;
    } catch (const std::exception& ex) {
        return error(ErrorCode::invalid_input, std::string("malformed event: ") + ex.what());
    }
}

std::string ns_text(long long ns) {
    return std::to_string(ns);
}

Digest chain_genesis(std::string_view run_id) {
    return TaggedHasher("retrace.chain/1").field("run", run_id).digest();
}

Result<Digest> chain_link(const Digest& prev, const Event& event) {
    RETRACE_ASSIGN(std::string text, canonicalize(event.to_json()));
    return TaggedHasher("retrace.event/1").field("prev", prev).field("body", text).digest();
}

Digest record_digest(const RecordParts& p) {
    return TaggedHasher("retrace.record/1")
        .field("run", p.run_id)
        .field("conditions", p.conditions)
        .field("metadata", p.metadata)
        .field("chain", p.chain_head)
        .field("events", p.event_count)
        .field("outcome", p.outcome)
        .digest();
}

Digest store_log_link(std::string_view prev, const StoreLogEntry& e) {
    return TaggedHasher("retrace.store-log/1")
        .field("prev", prev)
        .field("position", e.position)
        .field("kind", e.kind)
        .field("run", e.run_id)
        .field("record", e.record_digest)
        .field("at", e.at_ns)
        .digest();
}

}  // namespace retrace::core
