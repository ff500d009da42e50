#include <iostream>

#include "context.hpp"
#include "format.hpp"
#include "retrace/run/repro.hpp"
#include "retrace/run/repro_bundle.hpp"

namespace retrace::cli {

namespace {

void print_changes(const run::Difference& d) {
    std::size_t shown = 0;
    for (const auto& c : d.changes) {
        if (++shown > 3) {
            std::cout << "      ... " << d.changes.size() - 3 << " more\n";
            break;
        }
        std::cout << "      " << c.path << ": " << c.before << " -> " << c.after << "\n";
    }
}

void print_outcome(const run::ReproOutcome& o) {
    std::cout << "failed     " << o.failed_id << "  (judged by " << o.oracle << ")\n";
    std::cout << "validate   " << o.reproduced << "/" << o.k
              << " replays failed as recorded, nothing reaching the network\n";
    for (const auto& e : o.escaped) std::cout << "  escaped  " << e << "\n";
    if (!o.validated()) {
        std::cout << "verdict    not reproduced\n";
        return;
    }
    if (o.passed_id)
        std::cout << "against    " << *o.passed_id << "  (" << o.passed_how << ")\n"
                  << "differ     " << o.differences.size() << " difference(s)\n";
    if (o.isolation) {
        if (o.differences.size() == 1)
            std::cout << "isolate    the only difference: the controls decide it";
        else
            std::cout << "isolate    " << o.isolation->tests << " test replays";
        if (o.isolation->unresolved) std::cout << ", " << o.isolation->unresolved << " unresolved";
        std::cout << "\ncause      " << o.cause.size() << " difference(s)\n";
        for (std::size_t i : o.cause) {
            const auto& d = o.differences[i];
            std::cout << "  " << d.label();
            if (d.what == run::Difference::What::answer)
                std::cout << " (the passing run's #" << d.passing_seq << ")";
            std::cout << "\n";
            print_changes(d);
        }
        std::cout << "proof      the passing run with the cause applied failed "
                  << o.proof_applied_fails << "/" << o.k
                  << "; the failed run with it reverted passed " << o.proof_reverted_passes << "/"
                  << o.k << "\n";
    }
    if (!o.not_isolated.empty()) std::cout << "note       " << o.not_isolated << "\n";
    std::cout << "verdict    "
              << (o.proven() ? "reproduced, cause isolated and proven"
                             : "reproduced; cause not isolated")
              << "\n";
}

void print_bundle(const run::BundleSummary& b) {
    std::cout << "bundle     " << (b.archive ? b.archive->string() : b.dir.string()) << "  ("
              << b.files << " files, " << b.bytes << " bytes; " << b.runs << " runs in "
              << b.pack_bytes << " bytes)\n";
    std::cout << "  program  " << (b.code ? "code/: " : "") << b.code_note << "\n";
    for (const auto& [path, why] : b.left_out)
        std::cout << "  left out " << path << ": " << why << "\n";
}

void print_check(const run::CheckOutcome& c, const char* lead) {
    for (const auto& e : c.environment) std::cout << "  differs  " << e << "\n";
    if (!c.replayed) return;
    const auto& r = *c.replayed;
    std::cout << lead << "reproduced " << r.reproduced << "/" << r.k;
    if (c.cause_expected)
        std::cout << "; the cause applied failed " << r.proof_applied_fails << "/" << r.k
                  << ", reverted passed " << r.proof_reverted_passes << "/" << r.k;
    std::cout << "\n";
    for (const auto& e : r.escaped) std::cout << "  escaped  " << e << "\n";
}

// `retrace repro check BUNDLE`.
void add_check_command(CLI::App& repro, Context& ctx) {
    auto* cmd = repro.add_subcommand(
        "check", "replay a reproduction bundle here: check its digests, compare the environment");
    cmd->footer(
        "Refuses a bundle whose files do not match their digests; prints how this machine\n"
        "differs from the recorded one (--strict: a difference fails); replays the failure K\n"
        "times in a fresh scratch directory (its own store, HOME and copy of the program),\n"
        "then proves the bundle's cause again. Exits 0 reproduced K/K, 1 not, 2 bad bundle.");
    auto o = std::make_shared<run::CheckOptions>();
    cmd->add_option("bundle", o->bundle, "a bundle directory or its .tar.gz")->required();
    cmd->add_option("--k", o->k, "replays per check (default: as the bundle was made)");
    cmd->add_flag("--strict", o->strict, "an environment difference is a failure");
    cmd->add_flag("--json", ctx.json, "print the check as one JSON document");
    cmd->callback([&ctx, o] {
        o->progress = [](const std::string& line) { std::cerr << line << "\n"; };
        auto outcome = check(run::check_bundle(*o, ctx.envp));
        if (ctx.json) {
            print_json(outcome.to_json());
        } else {
            std::cout << "bundle     " << o->bundle.string() << ": " << outcome.files
                      << " files, every digest matches\n";
            std::cout << "environment " << (outcome.environment.empty() ? "as recorded" : "differs")
                      << "\n";
            print_check(outcome, "replayed   ");
            if (outcome.replayed) {
                const auto& r = *outcome.replayed;
                for (std::size_t i : r.cause)
                    std::cout << "cause      " << r.differences[i].label() << "\n";
            } else {
                std::cout << "verdict    not replayed: the environment differs (--strict)\n";
            }
        }
        if (int code = outcome.exit_code(o->strict)) throw Exit{code, ""};
    });
}

}  // namespace

void add_repro_command(CLI::App& app, Context& ctx) {
    auto* cmd = app.add_subcommand(
        "repro", "reproduce a failed run offline and isolate its cause against a passing run");
    cmd->footer(
        "Replays FAILED K times with nothing reaching the network; with a passing run of the\n"
        "same program (--against, else the newest one of the same name or command), finds the\n"
        "smallest set of differing answers that makes it fail (delta debugging) and proves it\n"
        "both ways, K of K. With -o DIR or --archive FILE, writes a bundle that fails the same\n"
        "way on another machine (`retrace repro check`) and re-validates it in a fresh\n"
        "directory. Exits 0 reproduced (and the cause proven), 1 not reproduced,\n"
        "3 reproduced but the cause not isolated, 2 bad input. See docs/repro.md.");
    auto o = std::make_shared<run::ReproOptions>();
    auto b = std::make_shared<run::BundleOptions>();
    cmd->add_option("failed", o->failed, "the failed run");
    cmd->add_option("--against", o->against, "a passing run of the same program");
    cmd->add_option("--oracle", o->oracle,
                    "shell command judging each replay (RETRACE_RUN_ID, RETRACE_STDOUT, "
                    "RETRACE_EXIT; exit 0 passes); default: a replay fails when it exits as "
                    "the failed run did");
    cmd->add_option("--k", o->k, "replays per check (default 10)");
    cmd->add_option("--command", o->command,
                    "the program to drive, a shell command line (a gateway's runs have none)");
    cmd->add_option("-o,--output", b->dir, "write a reproduction bundle into this new directory");
    cmd->add_option("--archive", b->archive, "write the bundle as this .tar.gz");
    cmd->add_flag(
        "--no-code", [b](std::int64_t) { b->code = false; },
        "leave the program's files out of the bundle");
    cmd->add_flag("--json", ctx.json, "print every step's figures as one JSON document");
    add_check_command(*cmd, ctx);
    cmd->require_subcommand(0, 1);
    cmd->callback([&ctx, cmd, o, b] {
        if (!cmd->get_subcommands().empty()) return;
        if (o->failed.empty()) throw Exit{2, "repro: give the failed run (retrace repro RUN)"};
        // (a bundle's place is checked before minutes of replays, not after)
        std::error_code ec;
        if (b->dir && std::filesystem::exists(*b->dir, ec) &&
            !std::filesystem::is_empty(*b->dir, ec))
            throw Exit{2,
                       "-o " + b->dir->string() + ": not empty (a bundle needs a new directory)"};
        o->progress = [](const std::string& line) { std::cerr << line << "\n"; };
        auto outcome = check(run::repro(*o, ctx.opener(), ctx.envp));
        core::Json j = outcome.to_json();
        if (!ctx.json) print_outcome(outcome);
        int code = outcome.exit_code();
        // A failure that reproduced is bundled, its cause isolated or not.
        if (outcome.validated() && (b->dir || b->archive)) {
            auto bundle = check(run::write_bundle(outcome, *o, *b, ctx.store(), ctx.envp));
            // Re-validated as the receiving machine would: in a fresh directory.
            run::CheckOptions c;
            c.bundle = bundle.archive ? *bundle.archive : bundle.dir;
            c.progress = o->progress;
            auto checked = run::check_bundle(c, ctx.envp);
            if (!b->dir) std::filesystem::remove_all(bundle.dir.parent_path(), ec);
            auto rechecked = check(std::move(checked));
            j["bundle"] = {{"path", c.bundle.string()},     {"files", bundle.files},
                           {"bytes", bundle.bytes},         {"pack_bytes", bundle.pack_bytes},
                           {"runs", bundle.runs},           {"code", bundle.code},
                           {"code_note", bundle.code_note}, {"revalidated", rechecked.to_json()}};
            if (!ctx.json) {
                print_bundle(bundle);
                print_check(rechecked, "revalidate in a fresh directory: ");
            }
            if (rechecked.exit_code(false) != 0 && code == 0) code = 1;
        }
        if (ctx.json) print_json(j);
        if (code) throw Exit{code, ""};
    });
}

}  // namespace retrace::cli
