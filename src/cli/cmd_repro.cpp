#include <iostream>

#include "context.hpp"
#include "format.hpp"
#include "retrace/run/repro.hpp"

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

}  // namespace

void add_repro_command(CLI::App& app, Context& ctx) {
    auto* cmd = app.add_subcommand(
        "repro", "reproduce a failed run offline and isolate its cause against a passing run");
    cmd->footer(
        "Replays FAILED K times with nothing reaching the network; with a passing run of the\n"
        "same program (--against, else the newest one of the same name or command), finds the\n"
        "smallest set of differing answers that makes it fail (delta debugging) and proves it\n"
        "both ways, K of K. Exits 0 reproduced (and the cause proven), 1 not reproduced,\n"
        "3 reproduced but the cause not isolated, 2 bad input. See docs/repro.md.");
    auto o = std::make_shared<run::ReproOptions>();
    cmd->add_option("failed", o->failed, "the failed run")->required();
    cmd->add_option("--against", o->against, "a passing run of the same program");
    cmd->add_option("--oracle", o->oracle,
                    "shell command judging each replay (RETRACE_RUN_ID, RETRACE_STDOUT, "
                    "RETRACE_EXIT; exit 0 passes); default: a replay fails when it exits as "
                    "the failed run did");
    cmd->add_option("--k", o->k, "replays per check (default 10)");
    cmd->add_flag("--json", ctx.json, "print every step's figures as one JSON document");
    cmd->callback([&ctx, o] {
        o->progress = [](const std::string& line) { std::cerr << line << "\n"; };
        auto outcome = check(run::repro(*o, ctx.opener(), ctx.envp));
        if (ctx.json)
            print_json(outcome.to_json());
        else
            print_outcome(outcome);
        if (int code = outcome.exit_code()) throw Exit{code, ""};
    });
}

}  // namespace retrace::cli
