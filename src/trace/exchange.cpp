#include "retrace/trace/exchange.hpp"

#include <algorithm>

#include "attrs.hpp"

namespace retrace::trace {

using core::Json;

namespace {

// The attribute names, in one place (docs/cassette.md, "The event").
constexpr const char* k_route = "route";
constexpr const char* k_method = "method";
constexpr const char* k_path = "path";
constexpr const char* k_query = "query";
constexpr const char* k_request_headers = "request_headers";
constexpr const char* k_match = "match";
constexpr const char* k_request_redacted = "request_redacted";
constexpr const char* k_status = "status";
constexpr const char* k_response_headers = "response_headers";
constexpr const char* k_chunks = "chunks";
constexpr const char* k_truncated = "truncated";
constexpr const char* k_header_us = "header_us";
constexpr const char* k_received_ns_before = "received_ns_before";
constexpr const char* k_client_cancelled = "client_cancelled";
constexpr const char* k_at_us = "at_us";
constexpr const char* k_chunks_sent = "chunks_sent";
constexpr const char* k_replayed_from = "replayed_from";
constexpr const char* k_live = "live";
constexpr const char* k_divergence = "divergence";

using attrs::flag;
using attrs::object;
using attrs::text;

}  // namespace

Json Exchange::to_attrs() const {
    Json a = {{k_route, route},
              {k_method, method},
              {k_path, path},
              {k_request_headers, request_headers},
              {k_match, match},
              {k_status, status},
              {k_response_headers, response_headers},
              {k_truncated, truncated}};
    if (!query.empty()) a[k_query] = query;
    if (request_redacted) a[k_request_redacted] = true;
    Json c = Json::array();
    for (const auto& [offset, bytes] : chunks) c.push_back({offset, bytes});
    a[k_chunks] = std::move(c);
    if (header_us) a[k_header_us] = *header_us;
    if (received_ns_before) a[k_received_ns_before] = *received_ns_before;
    if (client_cancelled)
        a[k_client_cancelled] = {{k_at_us, client_cancelled->at_us},
                                 {k_chunks_sent, client_cancelled->chunks_sent}};
    if (replayed_from) a[k_replayed_from] = *replayed_from;
    if (live) a[k_live] = true;
    if (divergence) a[k_divergence] = divergence->to_attrs();
    return a;
}

Exchange Exchange::from_attrs(const Json& a) {
    Exchange x;
    if (!a.is_object()) return x;
    x.route = text(a, k_route);
    x.method = text(a, k_method);
    x.path = text(a, k_path);
    x.query = text(a, k_query);
    x.request_headers = object(a, k_request_headers);
    x.match = text(a, k_match);
    x.request_redacted = flag(a, k_request_redacted);
    x.status = static_cast<int>(attrs::integer(a, k_status).value_or(0));
    x.response_headers = object(a, k_response_headers);
    if (auto it = a.find(k_chunks); it != a.end() && it->is_array())
        for (const auto& ch : *it)
            if (ch.is_array() && ch.size() == 2 && ch[0].is_number_integer() &&
                ch[1].is_number_integer() && ch[1].get<long long>() >= 0)
                x.chunks.emplace_back(ch[0].get<long long>(), ch[1].get<std::size_t>());
    x.truncated = flag(a, k_truncated);
    x.header_us = attrs::integer(a, k_header_us);
    x.received_ns_before = attrs::integer(a, k_received_ns_before);
    if (auto it = a.find(k_client_cancelled); it != a.end() && it->is_object()) {
        ClientCancel c;
        c.at_us = attrs::integer(*it, k_at_us).value_or(0);
        c.chunks_sent =
            static_cast<std::size_t>(std::max(0LL, attrs::integer(*it, k_chunks_sent).value_or(0)));
        x.client_cancelled = c;
    }
    x.replayed_from = attrs::integer(a, k_replayed_from);
    x.live = flag(a, k_live);
    if (auto it = a.find(k_divergence); it != a.end() && it->is_object())
        x.divergence = Divergence::from_attrs(*it);
    return x;
}

}  // namespace retrace::trace
