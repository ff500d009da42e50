// Secret redaction. Nothing that looks like a credential reaches the store
// (docs/secrets.md has every rule).
//
// A Redactor replaces, in any text it is given, with "[REDACTED]":
// (1) substrings shaped like credentials: OpenAI and Anthropic keys
// ("sk-..."), "Bearer <token>" values, GitHub tokens (ghp_, gho_, ghu_,
// ghs_, ghr_, github_pat_), AWS access key ids (AKIA..., ASIA...) and the
// value after "aws_secret_access_key", Google API keys (AIza...), Slack
// tokens (xoxb-...) and JWTs; (2) the values of secrets it was told about
// (those of environment variables whose names look secret), raw and in the
// forms JSON escaping and URL encoding give them; (3) --redact patterns.
// It is cheap to copy and safe to share between threads once built.
//
// Names decide the rest: a header, query parameter, option or --param
// whose name looks secret has its whole value redacted, whatever it looks
// like.
#pragma once

#include <array>
#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "retrace/core/result.hpp"

namespace retrace::core {

inline constexpr std::string_view k_redacted = "[REDACTED]";

// Environment variable names that look like they hold a secret: containing
// KEY, TOKEN, SECRET, PASSWORD, PASSWD or CREDENTIAL, or with a word PASS,
// AUTH, AUTHORIZATION..., COOKIE (case-insensitive; words split at _ -
// . and space).
bool is_secret_name(std::string_view name);
// Query parameters, command-line options and --param names whose last word
// is a secret word: key, apikey, token (and ...token), secret, password,
// passwd, pass, credential(s), cookie, auth, sig, signature, jwt,
// bearer ("api_key", "access_token", "db-pass"; not "max_tokens").
bool is_secret_param(std::string_view name);
// HTTP headers holding credentials: authorization, proxy-authorization,
// cookie, set-cookie, x-api-key, x-goog-api-key, and any name that ends in
// a secret word or has an auth word anywhere (x-auth-email, x-amz-security-
// token); not idempotency-key, not x-ratelimit-remaining-tokens.
bool is_secret_header(std::string_view name);
// "?a=1&key=X" -> "?a=1&key=[REDACTED]": secret-named parameters' values.
std::string redact_query(std::string_view query);

class Redactor;
// A command line as stored: "--password=X" -> "--password=[REDACTED]",
// "--token X" -> "--token [REDACTED]", then every element through redactor.
std::vector<std::string> redact_argv(const Redactor& redactor,
                                     const std::vector<std::string>& argv);

class Redactor {
  public:
    Redactor() = default;

    // Collects the values of every secret-named variable in envp (NAME=VALUE
    // strings, null-terminated array) that is at least 6 characters long.
    static Redactor from_environment(char** envp);
    // The same, plus the --redact patterns: a run's redactor.
    static Result<Redactor> from_environment(char** envp, const std::vector<std::string>& patterns);

    // A secret value: redacted raw, JSON-escaped and URL-encoded.
    void add_secret(std::string value);
    // --redact REGEX (ECMAScript syntax): every match is redacted too.
    // invalid_input naming the pattern when it does not compile.
    Status add_pattern(const std::string& regex);

    std::string redact(std::string_view text) const;
    // True when redact(text) would change text.
    bool contains_secret(std::string_view text) const;

  private:
    void add_value(std::string value);
    // Where a match could begin, so that redact() skips other bytes in bulk.
    bool may_start_at(unsigned char c) const { return m_starts[c]; }
    // The first position from `from` on whose byte may start a match, or
    // text.size(); eight bytes at a time when there are few such bytes.
    std::size_t next_start(std::string_view text, std::size_t from) const;

    std::vector<std::string> m_secrets;  // longest first
    // Bytes that can start a match: a secret's first byte and those that
    // anchor a shape ("sk-", "Bearer ", "AKIA", "xox", the "_" of "ghp_",
    // the "J" of "eyJ", ...).
    std::array<bool, 256> m_starts = initial_starts();
    static std::array<bool, 256> initial_starts();
    std::string m_start_bytes = "sbBAx_J";  // the same, as a list
    std::vector<std::shared_ptr<const std::regex>> m_patterns;
};

}  // namespace retrace::core
