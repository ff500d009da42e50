// Run ids: 26 characters of Crockford base32, a 48-bit millisecond timestamp
// followed by 80 random bits (the ULID layout), so ids sort by start time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "retrace/core/result.hpp"

namespace retrace::core {

class RunId {
  public:
    static constexpr std::size_t k_length = 26;

    // unix_ms: start time; entropy: 10 bytes of randomness.
    static RunId make(std::uint64_t unix_ms, const std::uint8_t (&entropy)[10]);
    // Now, with entropy from the OS.
    static RunId generate();
    static Result<RunId> parse(std::string_view text);
    // True if text could be the start of a run id (used for prefix references).
    static bool is_id_prefix(std::string_view text);

    const std::string& str() const { return m_text; }
    std::uint64_t unix_ms() const;

    friend bool operator==(const RunId&, const RunId&) = default;
    friend auto operator<=>(const RunId&, const RunId&) = default;

  private:
    explicit RunId(std::string text) : m_text(std::move(text)) {}
    std::string m_text;
};

// The W3C trace id (32 hex digits) of a run, as the SDKs send it and as
// an OTLP export names the run's trace: the first half of the SHA-256 of
// its run id, so every side derives it without talking.
std::string trace_id_of(std::string_view run_id);
// W3C trace context ids: 32 (a trace) or 16 (a span) lower-case hex digits,
// not all zero.
bool is_trace_id(std::string_view text);
bool is_span_id(std::string_view text);

}  // namespace retrace::core
