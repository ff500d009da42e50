// Signed evidence of a run for audits (docs/attestation.md): an in-toto
// Statement v1 about a sealed run (its outputs and its record digest as
// subjects, its conditions, command, times and outcome as the predicate)
// in a DSSE envelope signed with Ed25519. Anyone can check one without
// retrace: the envelope is the standard one, the key a PEM file.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "retrace/core/canonical_json.hpp"
#include "retrace/core/result.hpp"
#include "retrace/store/store.hpp"

namespace retrace::interop {

inline constexpr std::string_view k_payload_type = "application/vnd.in-toto+json";
inline constexpr std::string_view k_statement_type = "https://in-toto.io/Statement/v1";
inline constexpr std::string_view k_run_predicate_type = "urn:retrace:predicate:run:v1";

struct KeyPair {
    std::filesystem::path private_key;  // PKCS#8 PEM, mode 0600
    std::filesystem::path public_key;   // SubjectPublicKeyInfo PEM, beside it as <file>.pub
    std::string keyid;                  // hex SHA-256 of the raw 32-byte public key
};

// Makes an Ed25519 key pair. An existing file at either path is refused
// (invalid_input), and nothing is written then.
Result<KeyPair> generate_key(const std::filesystem::path& private_key);

// DSSE's pre-authentication encoding: "DSSEv1 <len> <type> <len> <body>".
std::string dsse_pae(std::string_view payload_type, std::string_view payload);

// A DSSE envelope of payload, signed with the private key in file.
Result<core::Json> sign_envelope(std::string_view payload_type, const std::string& payload,
                                 const std::filesystem::path& private_key);

struct OpenedEnvelope {
    std::string payload_type;
    std::string payload;  // decoded
    std::string keyid;    // of the signature that verified
};

// Checks that one of the envelope's signatures is the public key's over
// the PAE of its payload, and returns the payload. corrupt when none is;
// invalid_input for an envelope that is not one.
Result<OpenedEnvelope> open_envelope(const core::Json& envelope,
                                     const std::filesystem::path& public_key);

// The in-toto statement of a sealed run (invalid_input for another).
Result<core::Json> run_statement(store::Store& store, const std::string& run_id);

struct StatementCheck {
    std::string run_id;
    int outputs = 0;                    // output files found as the statement says
    std::vector<std::string> problems;  // empty: the store and the disk agree
};

// Compares a statement with the run in the store (its record and
// conditions digests, and the run verifies) and with the files on disk
// (each output subject's content).
Result<StatementCheck> check_statement(store::Store& store, const core::Json& statement);

}  // namespace retrace::interop
