// Content identity: SHA-256 digests as a validated value type.
//
// A Digest always holds 32 bytes and prints as "sha256:<64 lowercase hex>".
// Parsing rejects anything else, so a Digest in hand is known to be well formed.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "retrace/core/result.hpp"

namespace retrace::core {

class Digest {
  public:
    using Bytes = std::array<std::uint8_t, 32>;

    Digest() = default;  // all zero; only meaningful as a placeholder
    explicit Digest(const Bytes& bytes) : m_bytes(bytes) {}

    // Accepts exactly "sha256:" followed by 64 lowercase hex digits.
    static Result<Digest> parse(std::string_view text);
    // SHA-256 of the given bytes.
    static Digest of(std::string_view data);

    std::string to_string() const;   // sha256:<hex>
    std::string hex() const;         // <hex>
    std::string short_form() const;  // first 12 hex digits, for people
    const Bytes& bytes() const { return m_bytes; }
    bool is_zero() const;

    friend bool operator==(const Digest&, const Digest&) = default;
    friend auto operator<=>(const Digest&, const Digest&) = default;

  private:
    Bytes m_bytes{};
};

// Incremental SHA-256 over OpenSSL's EVP interface (uses the CPU's SHA
// extensions when present). Not thread safe; one per stream.
class Sha256 {
  public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;

    void update(std::string_view data);
    void update(const void* data, std::size_t size);
    Digest finish();  // resets for reuse

  private:
    struct Impl;
    Impl* m_impl;
};

// HMAC-SHA256(key, data), used for keyed fingerprints (credentials, request
// digests) so that the fingerprinted secret cannot be recovered or guessed.
Digest hmac_sha256(std::string_view key, std::string_view data);

std::string to_hex(std::string_view bytes);

}  // namespace retrace::core
