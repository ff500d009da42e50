#include "retrace/interop/attestation.hpp"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>

#include "retrace/core/base64.hpp"
#include "retrace/core/clock.hpp"
#include "retrace/core/digest.hpp"
#include "retrace/core/identity.hpp"
#include "retrace/core/outcome.hpp"
#include "retrace/store/verify.hpp"

namespace retrace::interop {

namespace {

namespace fs = std::filesystem;
using core::base64;
using core::Json;
using core::unbase64;

struct PkeyFree {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
struct BioFree {
    void operator()(BIO* b) const { BIO_free(b); }
};
using Bio = std::unique_ptr<BIO, BioFree>;
struct MdCtxFree {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

std::string read_all(const fs::path& path, bool& ok) {
    std::ifstream in(path, std::ios::binary);
    ok = static_cast<bool>(in);
    return std::string((std::istreambuf_iterator<char>(in)), {});
}

Result<Pkey> load_key(const fs::path& path, bool private_key) {
    bool ok = false;
    std::string pem = read_all(path, ok);
    if (!ok) return error(ErrorCode::invalid_input, "cannot read the key file " + path.string());
    Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    Pkey key(private_key ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)
                         : PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
    if (!key)
        return error(ErrorCode::invalid_input,
                     path.string() + " is not a PEM " +
                         (private_key ? "private key" : "public key (SubjectPublicKeyInfo)"));
    if (EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519)
        return error(ErrorCode::invalid_input, path.string() + " is not an Ed25519 key");
    return key;
}

Result<std::string> keyid_of(EVP_PKEY* key) {
    unsigned char raw[32];
    std::size_t len = sizeof raw;
    if (EVP_PKEY_get_raw_public_key(key, raw, &len) != 1 || len != sizeof raw)
        return error(ErrorCode::internal, "cannot read the raw public key");
    return core::Digest::of(std::string_view(reinterpret_cast<char*>(raw), len)).hex();
}

std::string pem_of(EVP_PKEY* key, bool private_key) {
    Bio bio(BIO_new(BIO_s_mem()));
    if (private_key)
        PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
    else
        PEM_write_bio_PUBKEY(bio.get(), key);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
}

// Writes a new file (refusing one that exists) with mode, and its content.
Status write_new(const fs::path& path, const std::string& content, mode_t mode) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return error(errno == EEXIST ? ErrorCode::invalid_input : ErrorCode::io,
                     "cannot create " + path.string() + ": " + std::strerror(errno));
    (void)::fchmod(fd, mode);  // (whatever the umask took away or left)
    bool ok = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) &&
              ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) return error(ErrorCode::io, "cannot write " + path.string());
    return Status::ok();
}

std::string hex_of(const std::string& digest) {
    return digest.starts_with("sha256:") ? digest.substr(7) : digest;
}

constexpr std::string_view k_run_subject = "retrace-run:";

}  // namespace

Result<KeyPair> generate_key(const fs::path& private_key) {
    KeyPair pair;
    pair.private_key = private_key;
    pair.public_key = private_key;
    pair.public_key += ".pub";
    std::error_code ec;
    for (const auto& p : {pair.private_key, pair.public_key})
        if (fs::exists(p, ec))
            return error(ErrorCode::invalid_input, p.string() + " already exists (not replaced)");
    Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    if (!key) return error(ErrorCode::internal, "cannot generate an Ed25519 key");
    RETRACE_ASSIGN(pair.keyid, keyid_of(key.get()));
    RETRACE_TRY(write_new(pair.private_key, pem_of(key.get(), true), 0600));
    Status pub = write_new(pair.public_key, pem_of(key.get(), false), 0644);
    if (!pub.is_ok()) {
        fs::remove(pair.private_key, ec);
        return pub;
    }
    return pair;
}

std::string dsse_pae(std::string_view payload_type, std::string_view payload) {
    std::string out = "DSSEv1 ";
    out += std::to_string(payload_type.size());
    out += ' ';
    out += payload_type;
    out += ' ';
    out += std::to_string(payload.size());
    out += ' ';
    out += payload;
    return out;
}

Result<Json> sign_envelope(std::string_view payload_type, const std::string& payload,
                           const fs::path& private_key) {
    RETRACE_ASSIGN(Pkey key, load_key(private_key, true));
    RETRACE_ASSIGN(std::string keyid, keyid_of(key.get()));
    std::string message = dsse_pae(payload_type, payload);
    MdCtx ctx(EVP_MD_CTX_new());
    unsigned char sig[64];
    std::size_t len = sizeof sig;
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
        EVP_DigestSign(ctx.get(), sig, &len, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size()) != 1)
        return error(ErrorCode::internal, "Ed25519 signing failed");
    return Json{
        {"payloadType", payload_type},
        {"payload", base64(payload)},
        {"signatures",
         Json::array({{{"keyid", keyid},
                       {"sig", base64(std::string_view(reinterpret_cast<char*>(sig), len))}}})}};
}

Result<OpenedEnvelope> open_envelope(const Json& envelope, const fs::path& public_key) {
    RETRACE_ASSIGN(Pkey key, load_key(public_key, false));
    if (!envelope.is_object() || !envelope.contains("payloadType") ||
        !envelope["payloadType"].is_string() || !envelope.contains("payload") ||
        !envelope["payload"].is_string() || !envelope.contains("signatures") ||
        !envelope["signatures"].is_array())
        return error(ErrorCode::invalid_input,
                     "not a DSSE envelope (payloadType, payload and signatures are required)");
    auto payload = unbase64(envelope["payload"].get<std::string>());
    if (!payload) return error(ErrorCode::corrupt, "the envelope's payload is not base64");
    OpenedEnvelope out;
    out.payload_type = envelope["payloadType"].get<std::string>();
    std::string message = dsse_pae(out.payload_type, *payload);
    for (const auto& s : envelope["signatures"]) {
        if (!s.is_object() || !s.contains("sig") || !s["sig"].is_string()) continue;
        auto sig = unbase64(s["sig"].get<std::string>());
        if (!sig) continue;
        MdCtx ctx(EVP_MD_CTX_new());
        if (ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) == 1 &&
            EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig->data()),
                             sig->size(), reinterpret_cast<const unsigned char*>(message.data()),
                             message.size()) == 1) {
            out.payload = std::move(*payload);
            out.keyid = s.value("keyid", std::string());
            return out;
        }
    }
    return error(ErrorCode::corrupt,
                 "no signature of the envelope verifies with the key " + public_key.string());
}

Result<Json> run_statement(store::Store& store, const std::string& run_id) {
    RETRACE_ASSIGN(auto found, store.get_run(run_id));
    if (!found) return error(ErrorCode::not_found, "no run " + run_id);
    const auto& run = *found;
    if (!run.sealed() || !run.record_digest || !run.outcome)
        return error(ErrorCode::invalid_input,
                     "run " + run_id + " is incomplete: only a sealed run can be attested");
    RETRACE_ASSIGN(auto check, store::verify_run(store, run_id));
    if (!check.ok)
        return error(ErrorCode::corrupt, "run " + run_id + " fails verification: " + check.problem);
    RETRACE_ASSIGN(Json conditions, core::parse_json_strict(run.conditions));
    RETRACE_ASSIGN(auto identity, core::identify_conditions(conditions));
    RETRACE_ASSIGN(Json outcome_json, core::parse_json_strict(*run.outcome));
    auto outcome = core::RunOutcome::from_json(outcome_json);

    Json subjects = Json::array();
    if (outcome.outputs)
        for (const auto& [path, digest] : *outcome.outputs)
            subjects.push_back({{"name", path}, {"digest", {{"sha256", hex_of(digest)}}}});
    subjects.push_back({{"name", std::string(k_run_subject) + run.id},
                        {"digest", {{"sha256", hex_of(*run.record_digest)}}}});
    Json sections = Json::object();
    for (const auto& [name, digest] : identity.sections) sections[name] = digest.to_string();
    Json predicate = {{"run",
                       {{"id", run.id},
                        {"name", run.name ? Json(*run.name) : Json()},
                        {"record_digest", *run.record_digest},
                        {"chain_head", run.chain_head.value_or("")},
                        {"event_count", run.event_count.value_or(0)},
                        {"metadata_digest", run.metadata_digest.value_or("")},
                        {"outcome_digest", run.outcome_digest.value_or("")},
                        {"replay_of", run.replay_of ? Json(*run.replay_of) : Json()}}},
                      {"conditions",
                       {{"digest", identity.digest.to_string()},
                        {"declared", identity.declared.to_string()},
                        {"observed", identity.observed.to_string()},
                        {"sections", sections}}},
                      {"command", conditions["code"].value("argv", Json::array())},
                      {"models", conditions["models"]},
                      {"backend", conditions["backend"]},
                      {"started", core::rfc3339(run.started_ns, 9)},
                      {"started_ns", core::ns_text(run.started_ns)},
                      {"ended", run.ended_ns ? Json(core::rfc3339(*run.ended_ns, 9)) : Json()},
                      {"ended_ns", run.ended_ns ? Json(core::ns_text(*run.ended_ns)) : Json()},
                      {"exit_code", run.exit_code ? Json(*run.exit_code) : Json()},
                      {"retrace_version", RETRACE_VERSION}};
    // Where the run entered the store's history: its log entry (whose link
    // covers every entry before it) and the head when the statement was made.
    RETRACE_ASSIGN(auto log, store.store_log());
    if (log)
        for (auto it = log->rbegin(); it != log->rend(); ++it)
            if (it->kind == "added" && it->run_id == run.id) {
                predicate["log"] = {{"position", it->position},
                                    {"entry", it->digest},
                                    {"entries", static_cast<long long>(log->size())},
                                    {"head", log->back().digest}};
                break;
            }
    return Json{{"_type", k_statement_type},
                {"subject", subjects},
                {"predicateType", k_run_predicate_type},
                {"predicate", predicate}};
}

Result<StatementCheck> check_statement(store::Store& store, const Json& statement) {
    if (!statement.is_object() || statement.value("_type", "") != k_statement_type ||
        statement.value("predicateType", "") != k_run_predicate_type ||
        !statement.contains("subject") || !statement["subject"].is_array() ||
        !statement.contains("predicate") || !statement["predicate"].is_object())
        return error(ErrorCode::invalid_input, "the statement is not a retrace run statement (" +
                                                   std::string(k_run_predicate_type) + ")");
    const Json& predicate = statement["predicate"];
    StatementCheck out;
    out.run_id = predicate.value("run", Json::object()).value("id", "");
    RETRACE_ASSIGN(auto found, store.get_run(out.run_id));
    if (!found) {
        out.problems.push_back("run " + out.run_id + " is not in this store");
        return out;
    }
    std::string record = predicate["run"].value("record_digest", "");
    if (found->record_digest.value_or("") != record)
        out.problems.push_back("run " + out.run_id + ": the store's record digest is " +
                               found->record_digest.value_or("(none: incomplete)") +
                               ", the statement's " + record);
    std::string conditions = predicate.value("conditions", Json::object()).value("digest", "");
    if (found->conditions_digest != conditions)
        out.problems.push_back("run " + out.run_id + ": conditions digest " +
                               found->conditions_digest + " in the store, " + conditions +
                               " in the statement");
    // The store's history still holds the run where the statement saw it,
    // and the history up to the statement's head is the same.
    if (predicate.contains("log") && predicate["log"].is_object()) {
        RETRACE_ASSIGN(auto log, store.store_log());
        const Json& at = predicate["log"];
        long long position = at.value("position", 0LL), entries = at.value("entries", 0LL);
        auto entry = [&](long long p) -> const core::StoreLogEntry* {
            return log && p >= 1 && p <= static_cast<long long>(log->size())
                       ? &(*log)[static_cast<std::size_t>(p - 1)]
                       : nullptr;
        };
        const auto* added = entry(position);
        if (!added || added->digest != at.value("entry", "") || added->run_id != out.run_id)
            out.problems.push_back("the store log has no entry " + std::to_string(position) +
                                   " for run " + out.run_id + " as the statement records it");
        const auto* head = entry(entries);
        if (!head || head->digest != at.value("head", ""))
            out.problems.push_back("the store log's first " + std::to_string(entries) +
                                   " entries are not those the statement saw");
    }
    RETRACE_ASSIGN(auto verified, store::verify_run(store, out.run_id));
    if (!verified.ok)
        out.problems.push_back("run " + out.run_id + " fails verification: " + verified.problem);
    for (const auto& s : statement["subject"]) {
        std::string name = s.value("name", "");
        std::string want = s.value("digest", Json::object()).value("sha256", "");
        if (name.starts_with(k_run_subject)) {
            if (name != std::string(k_run_subject) + out.run_id || "sha256:" + want != record)
                out.problems.push_back("subject " + name + " is not the run's record digest");
            continue;
        }
        bool ok = false;
        std::string content = read_all(name, ok);
        if (!ok) {
            out.problems.push_back("output " + name + ": missing");
            continue;
        }
        if (core::Digest::of(content).hex() != want) {
            out.problems.push_back("output " + name + ": content differs from the statement");
            continue;
        }
        ++out.outputs;
    }
    return out;
}

}  // namespace retrace::interop
