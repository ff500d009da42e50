// Request matching for replay: which recorded exchange answers a request.
//
// Two requests match when their match digests are equal. The digest covers
// the method, route, path, query, the headers that change what a request
// means, and the body: its RFC 8785 canonical text when it is JSON (so key
// order and number spelling do not matter), else its raw bytes. It is an
// HMAC under the store's secret, computed before any --redact, so a request
// whose recorded body was redacted still matches, and the stored digest
// reveals nothing about a body that was redacted. Paths given to --ignore
// are removed from a JSON body first. See docs/replay.md.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "retrace/core/canonical_json.hpp"
#include "retrace/core/result.hpp"

namespace retrace::core {

// A JSONPath subset for naming body fields: $.a.b, $.a[2], $.a[*].b, $["a b"].
class JsonPath {
  public:
    struct Step {
        enum Kind { key, index, any } kind;
        std::string name;
        std::size_t at = 0;
    };
    static Result<JsonPath> parse(std::string_view text);
    const std::string& text() const { return m_text; }
    // Removes every value the path names; returns how many were removed.
    std::size_t erase_from(Json& doc) const;

  private:
    std::string m_text;
    std::vector<Step> m_steps;
};

// Headers that change a request's meaning, hence part of its match digest.
bool is_meaning_header(std::string_view lower_name);

struct MatchRequest {
    std::string_view method;
    std::string_view route;  // "openai", "anthropic", or a --route name
    std::string_view path;   // after the route prefix
    std::string_view query;  // "" or "?..."
    std::vector<std::pair<std::string, std::string>> headers;  // lower-case names; others ignored
    std::string_view body;
};

// The text the match digest is the HMAC of (readable, for --explain-style
// debugging); the body is canonicalized when it is JSON.
std::string match_text(const MatchRequest& request, const std::vector<JsonPath>& ignore);
// "hmac-sha256:<hex>" of match_text under the secret.
std::string match_digest(std::string_view secret, const MatchRequest& request,
                         const std::vector<JsonPath>& ignore);

// One difference between two JSON documents, at a JSONPath.
struct JsonDifference {
    std::string path;    // $.messages[2].content
    std::string before;  // compact JSON, "(absent)" when missing
    std::string after;
};
// Differences from a to b, leaves first in document order; at most limit.
std::vector<JsonDifference> json_diff(const Json& a, const Json& b, std::size_t limit = 50);
// Shortens a JSON text for one line of a report.
std::string clip(std::string_view text, std::size_t width = 80);

}  // namespace retrace::core
