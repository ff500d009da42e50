// push / pull: copy complete runs between this store and another (SQLite or
// PostgreSQL either side): a local failure to the team store, a team run to
// a laptop to replay offline.
#include <filesystem>
#include <iostream>

#include "context.hpp"
#include "format.hpp"
#include "retrace/store/run_ref.hpp"
#include "retrace/store/transfer.hpp"

namespace retrace::cli {

namespace {

struct TransferArgs {
    std::vector<std::string> refs;
    std::string other;
};

// Copies the runs refs names in from into to; prints a line per run on
// stderr as it goes and the totals on stdout.
void transfer(Context& ctx, const TransferArgs& a, bool push) {
    auto other = store::StoreLocation::parse(a.other, std::filesystem::current_path());
    const auto& here = ctx.opener().location();
    if (other.str() == here.str())
        fail(error(ErrorCode::invalid_input, std::string(push ? "--to" : "--from") +
                                                 " names this store itself (" + here.display() +
                                                 ")"));
    // The source is opened and every reference resolved before the
    // destination is touched: a bad reference creates nothing.
    std::unique_ptr<store::Store> opened_other;
    store::Store* from = nullptr;
    if (push) {
        from = &ctx.store();
    } else {
        opened_other = check(store::open_store(other, false));
        from = opened_other.get();
    }
    std::vector<std::string> ids;
    for (const auto& ref : a.refs) ids.push_back(check(store::resolve_run(*from, ref)).id);
    store::Store* to = nullptr;
    if (push) {
        opened_other = check(store::open_store(other, true));
        if (opened_other->read_only())
            fail(error(ErrorCode::io,
                       "cannot write to the store " + other.display() + ": it is read-only"));
        to = opened_other.get();
    } else {
        to = check(ctx.opener().open(true));
    }
    const auto& source_location = push ? here : other;
    std::string source =
        std::string(push ? "pushed from " : "pulled from ") + source_location.display();
    const char* verb = push ? "pushed" : "pulled";
    auto summary =
        check(store::transfer_runs(*from, *to, ids, source, [&](const store::TransferStep& s) {
            if (ctx.json) return;
            std::cerr << "[" << s.index << "/" << s.count << "] " << s.run_id << "  ";
            if (s.copied)
                std::cerr << verb << " (" << s.events << " events, " << s.blobs << " blobs, "
                          << format_bytes(s.bytes) << ")\n";
            else
                std::cerr << "already there\n";
        }));
    const auto& dest = push ? other : here;
    if (ctx.json) {
        print_json({{"copied", summary.copied},
                    {"already_there", summary.present},
                    {"events", summary.events},
                    {"blobs", summary.blobs},
                    {"bytes", summary.bytes},
                    {"to", dest.display()}});
        return;
    }
    std::cout << verb << " " << summary.copied << (summary.copied == 1 ? " run" : " runs")
              << (push ? " to " : " into ") << dest.display();
    if (summary.present) std::cout << " (" << summary.present << " already there)";
    std::cout << "\n";
}

}  // namespace

void add_push_commands(CLI::App& app, Context& ctx) {
    auto push_args = std::make_shared<TransferArgs>();
    auto* push = app.add_subcommand(
        "push", "copy complete runs from this store to another (the team's PostgreSQL store)");
    push->add_option("runs", push_args->refs, "run references")->required();
    push->add_option("--to", push_args->other,
                     "the store to copy into (a directory or postgres://...)")
        ->required();
    push->add_flag("--json", ctx.json, "print JSON");
    push->callback([&ctx, push_args] { transfer(ctx, *push_args, true); });

    auto pull_args = std::make_shared<TransferArgs>();
    auto* pull = app.add_subcommand("pull", "copy complete runs from another store into this one");
    pull->add_option("runs", pull_args->refs, "run references, resolved in the other store")
        ->required();
    pull->add_option("--from", pull_args->other,
                     "the store to copy from (a directory or postgres://...)")
        ->required();
    pull->add_flag("--json", ctx.json, "print JSON");
    pull->callback([&ctx, pull_args] { transfer(ctx, *pull_args, false); });
}

}  // namespace retrace::cli
