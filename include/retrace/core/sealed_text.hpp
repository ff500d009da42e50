// Text kept where others may read it but only the one who holds a key may
// read it back: AES-256-GCM under a key derived from that secret (the
// store's), with a fresh nonce each time. A run recorded with --redact
// keeps its patterns this way (a pattern may spell the secret it hides):
// the store's own replays read them back; a pack carries them sealed,
// which another store cannot open.
#pragma once

#include <string>
#include <string_view>

#include "retrace/core/result.hpp"

namespace retrace::core {

// "aes-256-gcm:" and the hex of nonce, ciphertext and tag. `purpose` names
// what is sealed, so that one secret's keys for two purposes differ.
std::string seal_text(std::string_view secret, std::string_view purpose, std::string_view text);
// The text back; invalid_input when it was sealed under another secret or
// purpose, or was changed.
Result<std::string> open_sealed(std::string_view secret, std::string_view purpose,
                                std::string_view sealed);

}  // namespace retrace::core
