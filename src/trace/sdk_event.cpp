#include "retrace/trace/sdk_event.hpp"

#include "attrs.hpp"

namespace retrace::trace {

using core::Json;

namespace {

// The attribute names, in one place (docs/event-api.md).
constexpr const char* k_match = "match";
constexpr const char* k_span = "span";
constexpr const char* k_pid = "pid";
constexpr const char* k_group = "group";
constexpr const char* k_input_redacted = "input_redacted";
constexpr const char* k_error = "error";
constexpr const char* k_unfinished = "unfinished";
constexpr const char* k_replayed_from = "replayed_from";
constexpr const char* k_live = "live";
constexpr const char* k_divergence = "divergence";
constexpr const char* k_observed = "observed";
constexpr const char* k_otel = "otel";

}  // namespace

Json SdkEvent::to_attrs() const {
    Json a = Json::object();
    if (!match.empty()) a[k_match] = match;
    if (!span.empty()) a[k_span] = span;
    if (pid) a[k_pid] = *pid;
    if (group) a[k_group] = true;
    if (input_redacted) a[k_input_redacted] = true;
    if (!error.is_null()) a[k_error] = error;
    if (unfinished) a[k_unfinished] = true;
    if (replayed_from) a[k_replayed_from] = *replayed_from;
    if (live) a[k_live] = true;
    if (divergence) a[k_divergence] = divergence->to_attrs();
    if (observed) a[k_observed] = true;
    if (!otel.is_null()) a[k_otel] = otel;
    return a;
}

SdkEvent SdkEvent::from_attrs(const Json& a) {
    SdkEvent e;
    if (!a.is_object()) return e;
    e.match = attrs::text(a, k_match);
    e.span = attrs::text(a, k_span);
    e.pid = attrs::integer(a, k_pid);
    e.group = attrs::flag(a, k_group);
    e.input_redacted = attrs::flag(a, k_input_redacted);
    if (auto it = a.find(k_error); it != a.end()) e.error = *it;
    e.unfinished = attrs::flag(a, k_unfinished);
    e.replayed_from = attrs::integer(a, k_replayed_from);
    e.live = attrs::flag(a, k_live);
    if (auto it = a.find(k_divergence); it != a.end() && it->is_object())
        e.divergence = Divergence::from_attrs(*it);
    e.observed = attrs::flag(a, k_observed);
    if (auto it = a.find(k_otel); it != a.end() && it->is_object()) e.otel = *it;
    return e;
}

}  // namespace retrace::trace
