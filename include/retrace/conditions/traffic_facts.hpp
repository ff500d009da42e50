// What a run's model traffic says about its conditions (docs/identity.md).
//
// Declared, from the requests: `models` (per provider and requested model,
// the endpoints used and every decoding parameter sent), `prompts` (digests
// of system prompts) and `tools` (digests of tool schemas by name).
// Observed, from the responses: `backend` (served models, every
// system_fingerprint seen, provider version headers, and credential
// fingerprints: HMAC-SHA256 of each API key under the store's secret, so
// runs made with different accounts are told apart while no key is
// stored). Every list is a sorted set, so concurrent requests observed in
// any order give the same conditions.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "retrace/core/canonical_json.hpp"

namespace retrace::conditions {

// The key `replay` gives a program that has none; never fingerprinted.
inline constexpr std::string_view k_placeholder_key = "retrace-replay-placeholder-key";

struct ObservedExchange {
    std::string_view route;  // openai or anthropic; other routes say nothing about models
    std::string_view path;   // after the route: /chat/completions, /v1/messages, ...
    const std::vector<std::pair<std::string, std::string>>* request_headers = nullptr;  // raw
    std::string_view request_body;
    int status = 0;
    const core::Json* response_headers = nullptr;  // lower-case name -> value
    std::string_view response_body;                // JSON, or an event stream
    // Digests of the two bodies, when the caller has them: a body seen
    // before is not read again (it can add nothing to the conditions).
    std::string_view request_digest, response_digest;
};

// "hmac-sha256:<hex>" of the key under the store's secret.
std::string credential_fingerprint(std::string_view secret, std::string_view api_key);

class TrafficFacts {
  public:
    explicit TrafficFacts(std::string secret) : m_secret(std::move(secret)) {}
    // Thread safe. Bodies that are not JSON are skipped, never an error.
    void observe(const ObservedExchange& exchange);
    // A tool schema an SDK event named (declared, into `tools`).
    void declare_tool(const std::string& name, const core::Json& schema);
    // A retrieval source an SDK event named (declared, into `data.retrieval`).
    void declare_source(const std::string& name, const core::Json& source);
    // Sets the models, prompts, tools and backend sections of conditions,
    // and data.retrieval when sources were named.
    void merge_into(core::Json& conditions) const;

  private:
    using Set = std::set<std::string>;  // canonical JSON texts or digests
    void declared(std::string_view route, std::string_view path, const core::Json& body);

    std::string m_secret;
    mutable std::mutex m_mutex;
    // provider -> model -> field -> values (canonical JSON)
    std::map<std::string, std::map<std::string, std::map<std::string, Set>>> m_models;
    std::map<std::string, Set> m_prompts;  // provider -> digests
    std::map<std::string, Set> m_tools;    // tool name -> digests
    std::map<std::string, Set> m_sources;  // retrieval name -> canonical sources
    std::map<std::string, std::map<std::string, Set>> m_backend;  // provider -> field -> values
    // Digests of the bodies already read (a cache: emptied when large).
    Set m_seen;
    // True the first time key is seen (always for an empty key).
    bool first_sight(std::string_view kind, std::string_view digest);
};

}  // namespace retrace::conditions
