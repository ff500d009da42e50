#include "context.hpp"
#include "format.hpp"
#include "retrace/store/run_ref.hpp"
#include "retrace/store/verify.hpp"

namespace retrace::cli {

void add_verify_command(CLI::App& app, Context& ctx) {
    auto* cmd = app.add_subcommand("verify", "recompute every digest, blob and chain link of runs");
    auto refs = std::make_shared<std::vector<std::string>>();
    auto all = std::make_shared<bool>(false);
    cmd->add_option("runs", *refs, "run references");
    cmd->add_flag("--all", *all, "verify every run in the store");
    cmd->add_flag("--json", ctx.json, "print JSON");
    cmd->callback([&ctx, refs, all] {
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
        if (ctx.json) print_json({{"ok", failed == 0}, {"incomplete", incomplete}, {"runs", results}});
        else if (incomplete)
            std::cout << incomplete
                      << " run(s) incomplete: their recorder stopped before the seal; what they "
                         "hold is intact\n";
        if (failed) throw Exit{1, ""};
    });
}

}  // namespace retrace::cli
