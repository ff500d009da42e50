#include <cstdio>

#include "context.hpp"
#include "format.hpp"
#include "retrace/core/clock.hpp"
#include "retrace/query/runs.hpp"
#include "retrace/store/run_ref.hpp"

namespace retrace::cli {

namespace {

// One line per run of `runs --json`'s answer.
void print_runs(const core::Json& runs) {
    std::printf("%-26s  %-16s  %-10s  %-19s  %9s  %4s  %s\n", "ID", "NAME", "STATE", "STARTED",
                "DURATION", "EXIT", "CONDITIONS");
    for (const auto& r : runs) {
        std::string name = r["name"].is_string() ? r["name"].get<std::string>() : "-";
        if (name.size() > 16) name = name.substr(0, 15) + "~";
        std::string exit = r["exit_code"].is_number() ? r["exit_code"].dump() : "-";
        std::string duration =
            r["duration_ns"].is_number() ? format_duration(r["duration_ns"].get<long long>()) : "-";
        std::printf("%-26s  %-16s  %-10s  %-19s  %9s  %4s  %s\n",
                    r["id"].get<std::string>().c_str(), name.c_str(),
                    r["state"].get<std::string>().c_str(),
                    format_time(r["started_ns"].get<long long>()).c_str(), duration.c_str(),
                    exit.c_str(), short_digest(r["conditions_digest"].get<std::string>()).c_str());
    }
}

}  // namespace

void add_runs_commands(CLI::App& app, Context& ctx) {
    auto* runs = app.add_subcommand("runs", "list runs, newest first");
    auto q = std::make_shared<query::RunQuery>();
    auto tokens = std::make_shared<bool>(false);
    runs->add_option("--name", q->name, "only runs with this name");
    runs->add_option("--since", q->since, "only runs started after WHEN (2026-11-22, 2h, 7d)");
    runs->add_option("--state", q->state, "only sealed or incomplete runs");
    runs->add_option("--kind", q->kind, "only records, replays or probes (record, replay, probe)");
    runs->add_option("--search", q->contains, "only runs whose id or name contains TEXT");
    runs->add_option("--before", q->before, "only runs older than this one (the next page)");
    runs->add_option("--limit", q->limit, "at most N runs")->check(CLI::PositiveNumber);
    runs->add_flag("--tokens", *tokens, "add the tokens each run's model calls used (--json)");
    runs->add_flag("--json", ctx.json, "print JSON");
    runs->callback([&ctx, q, tokens] {
        q->tokens = *tokens && ctx.json;
        auto out = check(query::list_runs_json(ctx.store(), *q, core::unix_now_ns()));
        if (ctx.json)
            print_json(out);
        else
            print_runs(out);
    });

    auto* rm = app.add_subcommand("rm", "delete runs (their blobs stay until `retrace gc`)");
    auto refs = std::make_shared<std::vector<std::string>>();
    rm->add_option("runs", *refs, "run references")->required();
    rm->add_flag("--json", ctx.json, "print JSON");
    rm->callback([&ctx, refs] {
        auto& store = ctx.store();
        std::vector<std::string> ids;
        for (const auto& ref : *refs) ids.push_back(check(store::resolve_run(store, ref)).id);
        check(store.remove_runs(ids));
        if (ctx.json)
            print_json({{"removed", ids}});
        else
            for (const auto& id : ids) std::cout << "removed " << id << "\n";
    });

    auto* gc = app.add_subcommand("gc", "delete blobs that no run refers to");
    gc->add_flag("--json", ctx.json, "print JSON");
    gc->callback([&ctx] {
        auto [blobs, bytes] = check(ctx.store().gc());
        if (ctx.json)
            print_json({{"blobs_removed", blobs}, {"bytes_freed", bytes}});
        else
            std::cout << "removed " << blobs << " unreferenced blobs (" << format_bytes(bytes)
                      << ")\n";
    });
}

}  // namespace retrace::cli
