#include <cstdio>

#include "context.hpp"
#include "format.hpp"
#include "retrace/core/clock.hpp"
#include "retrace/store/run_ref.hpp"
#include "run_json.hpp"

namespace retrace::cli {

namespace {

void print_runs(const std::vector<store::RunRow>& runs) {
    std::printf("%-26s  %-16s  %-10s  %-19s  %9s  %4s  %s\n", "ID", "NAME", "STATE", "STARTED",
                "DURATION", "EXIT", "CONDITIONS");
    for (const auto& r : runs) {
        std::string name = r.name.value_or("-");
        if (name.size() > 16) name = name.substr(0, 15) + "~";
        std::string exit = r.exit_code ? std::to_string(*r.exit_code) : "-";
        std::string duration = r.ended_ns ? format_duration(*r.ended_ns - r.started_ns) : "-";
        std::printf("%-26s  %-16s  %-10s  %-19s  %9s  %4s  %s\n", r.id.c_str(), name.c_str(),
                    r.state.c_str(), format_time(r.started_ns).c_str(), duration.c_str(),
                    exit.c_str(), short_digest(r.conditions_digest).c_str());
    }
}

}  // namespace

void add_runs_commands(CLI::App& app, Context& ctx) {
    auto* runs = app.add_subcommand("runs", "list runs, newest first");
    auto filter = std::make_shared<store::RunFilter>();
    auto since = std::make_shared<std::string>();
    runs->add_option("--name", filter->name, "only runs with this name");
    runs->add_option("--since", *since, "only runs started after WHEN (2026-11-22, 2h, 7d)");
    runs->add_option("--limit", filter->limit, "at most N runs")->check(CLI::PositiveNumber);
    runs->add_flag("--json", ctx.json, "print JSON");
    runs->callback([&ctx, filter, since] {
        if (!since->empty()) filter->since_ns = check(parse_since(*since, core::unix_now_ns()));
        auto rows = check(ctx.store().list_runs(*filter));
        if (ctx.json) {
            core::Json out = core::Json::array();
            for (const auto& r : rows) out.push_back(run_summary_json(r));
            print_json(out);
        } else {
            print_runs(rows);
        }
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
