// Secret redaction. Nothing that looks like a credential reaches the store.
//
// A Redactor replaces, in any text it is given, (1) substrings shaped like
// credentials: OpenAI keys "sk-...", Anthropic keys "sk-ant-...", "Bearer
// <token>" values, and (2) the exact values of secrets it was told about
// (the values of environment variables whose names look secret), with
// "[REDACTED]". It is cheap to copy and safe to share between threads once
// built.
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

// True for names that look like they hold a secret: containing KEY, TOKEN,
// SECRET, PASSWORD, PASSWD or CREDENTIAL (case-insensitive).
bool is_secret_name(std::string_view name);

class Redactor {
  public:
    Redactor() = default;

    // Collects the values of every secret-named variable in envp (NAME=VALUE
    // strings, null-terminated array) that is at least 6 characters long.
    static Redactor from_environment(char** envp);
    // The same, plus the --redact patterns: a run's redactor.
    static Result<Redactor> from_environment(char** envp, const std::vector<std::string>& patterns);

    void add_secret(std::string value);
    // --redact REGEX (ECMAScript syntax): every match is redacted too.
    // invalid_input naming the pattern when it does not compile.
    Status add_pattern(const std::string& regex);

    std::string redact(std::string_view text) const;
    // True when redact(text) would change text.
    bool contains_secret(std::string_view text) const;

  private:
    // Where a match could begin, so that redact() skips other bytes in bulk.
    bool may_start_at(unsigned char c) const { return m_starts[c]; }
    // The first position from `from` on whose byte may start a match, or
    // text.size(); eight bytes at a time when there are few such bytes.
    std::size_t next_start(std::string_view text, std::size_t from) const;

    std::vector<std::string> m_secrets;  // longest first
    // Bytes that can start a match: a secret's first byte, 's' ("sk-"), 'b'
    // and 'B' ("Bearer ").
    std::array<bool, 256> m_starts = initial_starts();
    static std::array<bool, 256> initial_starts();
    std::string m_start_bytes = "sbB";  // the same, as a list
    std::vector<std::shared_ptr<const std::regex>> m_patterns;
};

}  // namespace retrace::core
