#include "retrace/core/digest.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <stdexcept>

namespace retrace::core {

namespace {
constexpr std::string_view k_prefix = "sha256:";
constexpr char k_hex[] = "0123456789abcdef";

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}
}  // namespace

std::string to_hex(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char b : bytes) {
        out.push_back(k_hex[b >> 4]);
        out.push_back(k_hex[b & 15]);
    }
    return out;
}

Result<Digest> Digest::parse(std::string_view text) {
    if (!text.starts_with(k_prefix) || text.size() != k_prefix.size() + 64)
        return error(ErrorCode::invalid_input, "not a digest (want sha256:<64 hex digits>): '" +
                                                   std::string(text.substr(0, 80)) + "'");
    Bytes bytes{};
    for (std::size_t i = 0; i < 32; ++i) {
        int hi = hex_value(text[k_prefix.size() + 2 * i]);
        int lo = hex_value(text[k_prefix.size() + 2 * i + 1]);
        if (hi < 0 || lo < 0)
            return error(ErrorCode::invalid_input,
                         "not a digest (bad hex): '" + std::string(text) + "'");
        bytes[i] = static_cast<std::uint8_t>(hi * 16 + lo);
    }
    return Digest(bytes);
}

Digest Digest::of(std::string_view data) {
    Sha256 h;
    h.update(data);
    return h.finish();
}

std::string Digest::hex() const {
    return to_hex(std::string_view(reinterpret_cast<const char*>(m_bytes.data()), m_bytes.size()));
}
std::string Digest::to_string() const {
    return std::string(k_prefix) + hex();
}
std::string Digest::short_form() const {
    return hex().substr(0, 12);
}
bool Digest::is_zero() const {
    for (auto b : m_bytes)
        if (b) return false;
    return true;
}

struct Sha256::Impl {
    EVP_MD_CTX* ctx;
};

Sha256::Sha256() : m_impl(new Impl{EVP_MD_CTX_new()}) {
    if (!m_impl->ctx || EVP_DigestInit_ex(m_impl->ctx, EVP_sha256(), nullptr) != 1)
        throw std::runtime_error("OpenSSL SHA-256 initialisation failed");
}
Sha256::~Sha256() {
    EVP_MD_CTX_free(m_impl->ctx);
    delete m_impl;
}
void Sha256::update(std::string_view data) {
    update(data.data(), data.size());
}
void Sha256::update(const void* data, std::size_t size) {
    EVP_DigestUpdate(m_impl->ctx, data, size);
}
Digest Sha256::finish() {
    Digest::Bytes out{};
    unsigned int len = 0;
    EVP_DigestFinal_ex(m_impl->ctx, out.data(), &len);
    EVP_DigestInit_ex(m_impl->ctx, EVP_sha256(), nullptr);
    return Digest(out);
}

namespace {

// An HMAC-SHA256 context keyed once per thread and key: request digests and
// credential fingerprints use one store secret many times, and setting up
// the algorithm and key costs more than hashing a request.
class KeyedHmac {
  public:
    KeyedHmac() {
        static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);  // shared, never freed
        if (!mac || !(m_ctx = EVP_MAC_CTX_new(mac)))
            throw std::runtime_error("OpenSSL HMAC initialisation failed");
    }
    ~KeyedHmac() { EVP_MAC_CTX_free(m_ctx); }
    KeyedHmac(const KeyedHmac&) = delete;
    KeyedHmac& operator=(const KeyedHmac&) = delete;

    Digest mac(std::string_view key, std::string_view data) {
        bool same_key = m_keyed && key == m_key;
        char digest_name[] = "SHA256";
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
            OSSL_PARAM_construct_end()};
        // Initialising without a key starts over with the key already set.
        int ok = same_key ? EVP_MAC_init(m_ctx, nullptr, 0, nullptr)
                          : EVP_MAC_init(m_ctx, reinterpret_cast<const unsigned char*>(key.data()),
                                         key.size(), params);
        m_keyed = ok == 1;
        m_key = key;
        Digest::Bytes out{};
        std::size_t len = 0;
        if (ok != 1 ||
            EVP_MAC_update(m_ctx, reinterpret_cast<const unsigned char*>(data.data()),
                           data.size()) != 1 ||
            EVP_MAC_final(m_ctx, out.data(), &len, out.size()) != 1 || len != out.size()) {
            m_keyed = false;
            throw std::runtime_error("OpenSSL HMAC-SHA256 failed");
        }
        return Digest(out);
    }

  private:
    EVP_MAC_CTX* m_ctx = nullptr;
    std::string m_key;
    bool m_keyed = false;
};

}  // namespace

Digest hmac_sha256(std::string_view key, std::string_view data) {
    thread_local KeyedHmac hmac;
    return hmac.mac(key, data);
}

}  // namespace retrace::core
