#include <fstream>

#include "context.hpp"
#include "format.hpp"
#include "retrace/interop/attestation.hpp"
#include "retrace/store/run_ref.hpp"
#include "retrace/store/verify.hpp"

namespace retrace::cli {

namespace {

// verify --attestation FILE --key PUBKEY: the signature, then the run in
// the store and the outputs on disk against the statement.
void verify_attestation(Context& ctx, const std::string& file, const std::string& key) {
    std::ifstream in(file, std::ios::binary);
    if (!in) fail(error(ErrorCode::invalid_input, "cannot read " + file));
    std::string text((std::istreambuf_iterator<char>(in)), {});
    auto envelope = core::parse_json_strict(text);
    if (!envelope)
        fail(
            error(ErrorCode::invalid_input, file + " is not JSON: " + envelope.status().message()));
    auto opened = interop::open_envelope(*envelope, key);
    if (!opened) {
        if (opened.status().code() != ErrorCode::corrupt) fail(opened.status());
        if (ctx.json)
            print_json({{"ok", false}, {"problems", {opened.status().message()}}});
        else
            std::cout << "FAILED attestation " << file << ": " << opened.status().message() << "\n";
        throw Exit{1, ""};
    }
    if (opened->payload_type != interop::k_payload_type)
        fail(error(ErrorCode::invalid_input,
                   file + " carries " + opened->payload_type + ", not an in-toto statement"));
    auto statement = core::parse_json_strict(opened->payload);
    if (!statement)
        fail(error(ErrorCode::invalid_input, file + ": the signed payload is not JSON"));
    auto result = check(interop::check_statement(ctx.store(), *statement));
    if (ctx.json) {
        print_json({{"ok", result.problems.empty()},
                    {"run_id", result.run_id},
                    {"keyid", opened->keyid},
                    {"outputs", result.outputs},
                    {"problems", result.problems}});
    } else if (result.problems.empty()) {
        std::cout << "ok     attestation " << file << ": run " << result.run_id
                  << " as signed by keyid " << opened->keyid << "; " << result.outputs
                  << " output(s) on disk match\n";
    } else {
        for (const auto& p : result.problems)
            std::cout << "FAILED attestation " << file << ": " << p << "\n";
    }
    if (!result.problems.empty()) throw Exit{1, ""};
}

}  // namespace

void add_verify_command(CLI::App& app, Context& ctx) {
    auto* cmd = app.add_subcommand("verify", "recompute every digest, blob and chain link of runs");
    auto refs = std::make_shared<std::vector<std::string>>();
    auto all = std::make_shared<bool>(false);
    auto attestation = std::make_shared<std::string>();
    auto key = std::make_shared<std::string>();
    cmd->add_option("runs", *refs, "run references");
    cmd->add_flag("--all", *all, "verify every run in the store");
    cmd->add_option("--attestation", *attestation,
                    "check a signed statement (retrace attest): its signature, the run in the "
                    "store, the outputs on disk");
    cmd->add_option("--key", *key, "the public key an attestation was signed with");
    cmd->add_flag("--json", ctx.json, "print JSON");
    cmd->callback([&ctx, refs, all, attestation, key] {
        if (!attestation->empty()) {
            if (key->empty() || !refs->empty() || *all)
                fail(error(ErrorCode::invalid_input,
                           "--attestation FILE wants --key PUBKEY, and no runs"));
            verify_attestation(ctx, *attestation, *key);
            return;
        }
        if (refs->empty() == !*all)
            fail(error(ErrorCode::invalid_input, "give run references or --all"));
        auto& store = ctx.store();
        std::vector<std::string> ids;
        if (*all) {
            for (const auto& r : check(store.list_runs({}))) ids.push_back(r.id);
        } else {
            for (const auto& ref : *refs) ids.push_back(check(store::resolve_run(store, ref)).id);
        }
        core::Json results = core::Json::array();
        int failed = 0, incomplete = 0;
        for (const auto& id : ids) {
            auto r = check(store::verify_run(store, id));
            if (!r.ok) ++failed;
            if (r.ok && r.incomplete) ++incomplete;
            results.push_back({{"run_id", r.run_id},
                               {"ok", r.ok},
                               {"incomplete", r.incomplete},
                               {"problem", r.problem},
                               {"events", r.events},
                               {"last_event", r.last_seq},
                               {"blobs", r.blobs}});
            if (ctx.json) continue;
            if (!r.ok)
                std::cout << "FAILED " << r.run_id << ": " << r.problem << "\n";
            else if (r.incomplete)
                std::cout << "incomplete " << r.run_id << " (never sealed: " << r.events
                          << " events intact, up to #" << r.last_seq << ", " << r.blobs
                          << " blobs)\n";
            else
                std::cout << "ok     " << r.run_id << " (" << r.events << " events, " << r.blobs
                          << " blobs)\n";
        }
        // --all: the store's own log as well (deleted, inserted, reordered runs).
        core::Json log_json;
        bool log_failed = false;
        if (*all) {
            auto log = check(store::verify_store_log(store));
            log_failed = !log.problems.empty();
            log_json = {{"present", log.present},
                        {"entries", log.entries},
                        {"head", log.head},
                        {"problems", log.problems}};
            if (!ctx.json) {
                if (!log.present)
                    std::cout << "store log: none (a store from before it, read-only here)\n";
                for (const auto& p : log.problems) std::cout << "FAILED store log: " << p << "\n";
                if (log.present && !log_failed)
                    std::cout << "store log: " << log.entries << " entries, intact, head "
                              << (log.head.empty() ? "(empty)" : log.head) << "\n";
            }
        }
        if (ctx.json) {
            core::Json doc = {
                {"ok", failed == 0 && !log_failed}, {"incomplete", incomplete}, {"runs", results}};
            if (*all) doc["log"] = log_json;
            print_json(doc);
        } else if (incomplete) {
            std::cout << incomplete
                      << " run(s) incomplete: their recorder stopped before the seal; what they "
                         "hold is intact\n";
        }
        if (failed || log_failed) throw Exit{1, ""};
    });
}

}  // namespace retrace::cli
