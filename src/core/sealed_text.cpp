#include "retrace/core/sealed_text.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>

#include "retrace/core/digest.hpp"

namespace retrace::core {

namespace {

constexpr std::string_view k_prefix = "aes-256-gcm:";
constexpr int k_nonce = 12, k_tag = 16;

using Cipher = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

Digest key_of(std::string_view secret, std::string_view purpose) {
    return hmac_sha256(secret, "retrace sealed text: " + std::string(purpose));
}

std::string from_hex(std::string_view hex) {
    std::string out;
    if (hex.size() % 2) return out;
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        return -1;
    };
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
        if (hi < 0 || lo < 0) return {};
        out.push_back(static_cast<char>(hi * 16 + lo));
    }
    return out;
}

const unsigned char* bytes(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

std::string seal_text(std::string_view secret, std::string_view purpose, std::string_view text) {
    Digest key = key_of(secret, purpose);
    unsigned char nonce[k_nonce];
    RAND_bytes(nonce, k_nonce);
    Cipher ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
    std::string out(reinterpret_cast<char*>(nonce), k_nonce);
    std::string body(text.size() + k_tag, '\0');
    int n = 0, tail = 0;
    EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.bytes().data(), nonce);
    EVP_EncryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(body.data()), &n, bytes(text),
                      static_cast<int>(text.size()));
    EVP_EncryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(body.data()) + n, &tail);
    body.resize(static_cast<std::size_t>(n + tail));
    unsigned char tag[k_tag];
    EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, k_tag, tag);
    out += body;
    out.append(reinterpret_cast<char*>(tag), k_tag);
    return std::string(k_prefix) + to_hex(out);
}

Result<std::string> open_sealed(std::string_view secret, std::string_view purpose,
                                std::string_view sealed) {
    auto refused = [] {
        return error(ErrorCode::invalid_input,
                     "sealed text that this store's secret does not open (sealed by another "
                     "store, or changed)");
    };
    if (sealed.substr(0, k_prefix.size()) != k_prefix) return refused();
    std::string raw = from_hex(sealed.substr(k_prefix.size()));
    if (raw.size() < static_cast<std::size_t>(k_nonce + k_tag)) return refused();
    Digest key = key_of(secret, purpose);
    std::string_view nonce = std::string_view(raw).substr(0, k_nonce);
    std::string_view body = std::string_view(raw).substr(k_nonce, raw.size() - k_nonce - k_tag);
    std::string tag = raw.substr(raw.size() - k_tag);
    Cipher ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
    std::string out(body.size() + k_tag, '\0');
    int n = 0, tail = 0;
    bool ok = EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.bytes().data(),
                                 bytes(nonce)) == 1 &&
              EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &n,
                                bytes(body), static_cast<int>(body.size())) == 1 &&
              EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, k_tag, tag.data()) == 1 &&
              EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + n,
                                  &tail) == 1;
    if (!ok) return refused();
    out.resize(static_cast<std::size_t>(n + tail));
    return out;
}

}  // namespace retrace::core
