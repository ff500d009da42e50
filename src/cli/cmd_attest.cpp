// keygen and attest: signed in-toto statements of runs, for audits
// (docs/attestation.md). `verify --attestation` checks one (cmd_verify.cpp).
#include <fstream>
#include <iostream>

#include "context.hpp"
#include "format.hpp"
#include "retrace/interop/attestation.hpp"
#include "retrace/store/run_ref.hpp"

namespace retrace::cli {

void add_attest_commands(CLI::App& app, Context& ctx) {
    auto* keygen =
        app.add_subcommand("keygen", "make an Ed25519 key pair for signing attestations");
    auto key_out = std::make_shared<std::string>("retrace.key");
    keygen
        ->add_option("-o,--output", *key_out, "private key file (the public key goes to FILE.pub)")
        ->capture_default_str();
    keygen->add_flag("--json", ctx.json, "print JSON");
    keygen->callback([&ctx, key_out] {
        auto pair = check(interop::generate_key(*key_out));
        if (ctx.json) {
            print_json({{"private_key", pair.private_key.string()},
                        {"public_key", pair.public_key.string()},
                        {"keyid", pair.keyid}});
            return;
        }
        std::cout << "private key " << pair.private_key.string() << " (mode 0600: keep it secret)\n"
                  << "public key  " << pair.public_key.string() << " (give it to whoever checks)\n"
                  << "keyid       " << pair.keyid << "\n";
    });

    auto* attest = app.add_subcommand(
        "attest", "sign an in-toto statement of a sealed run (its outputs, conditions, outcome)");
    auto ref = std::make_shared<std::string>();
    auto key = std::make_shared<std::string>();
    auto out = std::make_shared<std::string>();
    attest->add_option("run", *ref, "run reference")->required();
    attest->add_option("--key", *key, "private key file (retrace keygen)")->required();
    attest->add_option("-o,--output", *out, "write the DSSE envelope here (default: stdout)");
    attest->callback([&ctx, ref, key, out] {
        auto& store = ctx.store();
        auto run = check(store::resolve_run(store, *ref));
        auto statement = check(interop::run_statement(store, run.id));
        auto payload = check(core::canonicalize(statement));
        auto envelope = check(interop::sign_envelope(interop::k_payload_type, payload, *key));
        std::string text = envelope.dump(2) + "\n";
        if (out->empty()) {
            std::cout << text;
            return;
        }
        {
            std::ofstream f(*out, std::ios::binary | std::ios::trunc);
            f << text;
            if (!f.flush()) fail(error(ErrorCode::io, "cannot write " + *out));
        }
        std::cerr << "retrace: attested run " << run.id << " (" << statement["subject"].size() - 1
                  << " output(s) and the record digest as "
                  << "subjects), signed by keyid "
                  << envelope["signatures"][0]["keyid"].get<std::string>() << ": " << *out << "\n";
    });
}

}  // namespace retrace::cli
