#include "retrace/run/replay.hpp"

#include <unistd.h>

#include <iostream>

#include "context.hpp"
#include "format.hpp"

namespace retrace::cli {

namespace {

using core::Json;

}  // namespace

void add_replay_command(CLI::App& app, Context& ctx) {
    auto* cmd = app.add_subcommand(
        "replay", "run a recorded run again with its model traffic answered from the recording");
    auto o = std::make_shared<run::ReplayOptions>();
    auto on_miss = std::make_shared<std::string>("fail");
    auto pace = std::make_shared<std::string>("auto");
    cmd->add_option("run", o->run, "the run to replay (a run reference)")->required();
    cmd->add_option("--name", o->name, "a name for the replay's own run");
    cmd->add_option("--on-miss", *on_miss,
                    "fail: a request the recording cannot answer is a divergence (default); "
                    "live: forward it upstream")
        ->check(CLI::IsMember({"fail", "live"}));
    cmd->add_option(
        "--until", o->until,
        "N: answer events up to N from the recording, send later requests live (a fork)");
    auto deterministic = std::make_shared<bool>(false);
    auto no_deterministic = std::make_shared<bool>(false);
    auto* det = cmd->add_flag(
        "--deterministic", *deterministic,
        "feed the program its recorded clock and randomness (the default for a run recorded "
        "with --deterministic; refused for others)");
    cmd->add_flag("--no-deterministic", *no_deterministic,
                  "replay a --deterministic recording without feeding them back")
        ->excludes(det);
    cmd->add_flag("--live-tools", o->live_tools,
                  "with --until or --on-miss live: SDK tool, retrieval and other events after the "
                  "fork (or missed) run live too");
    cmd->add_option("--override", o->overrides,
                    "N=FILE: replay with event N's response body replaced by FILE (repeatable)");
    cmd->add_option(
        "--ignore", o->ignore,
        "JSONPATH: a request body field left out of matching, e.g. $.user (repeatable)");
    cmd->add_flag(
        "--reuse", o->reuse,
        "a request repeated more often than recorded gets the last recorded answer again");
    cmd->add_option("--pace", *pace,
                    "auto: answers whose recorded client gave up (a timeout, an abort) at their "
                    "recorded timing, the rest at once (default); fast: all at once; recorded: "
                    "all at their recorded timing")
        ->check(CLI::IsMember({"auto", "fast", "recorded"}));
    cmd->add_option("--mask", o->masks,
                    "REGEX: blank what matches in stdout before comparing it (repeatable)");
    cmd->add_flag("--allow-unused", o->allow_unused,
                  "recorded exchanges the replay never requested are not a divergence");
    cmd->add_option("--upstream", o->upstreams, "NAME=URL for live requests, as for record");
    cmd->add_option("--route", o->routes, "NAME=URL for live requests, as for record");
    cmd->add_option("--ca-file", o->ca_file, "as for record");
    cmd->add_option("--redact", o->redact, "as for record");
    auto yes = std::make_shared<bool>(false);
    cmd->add_flag("--yes", *yes,
                  "replay a run imported from a pack without asking before its recorded command "
                  "runs");
    cmd->add_flag("--json", ctx.json, "print the verdict as JSON on stdout after the run");
    cmd->footer(
        "Usage: retrace replay RUN [OPTIONS] [-- CMD [ARGS...]]\n"
        "Runs the recorded command (or CMD) with OPENAI_BASE_URL, ANTHROPIC_BASE_URL and\n"
        "RETRACE_PROXY_URL pointing at a proxy that answers from the recording; nothing\n"
        "goes upstream. Prints 'reproduced' or 'diverged' with the differences on stderr.\n"
        "Exits 0 when reproduced, 1 when diverged; 125 if retrace fails before CMD starts,\n"
        "126/127 if CMD cannot be run or found.");
    cmd->callback([&ctx, o, on_miss, pace, yes, deterministic, no_deterministic] {
        if (*deterministic) o->deterministic = true;
        if (*no_deterministic) o->deterministic = false;
        o->confirm_imported = [yes](const std::string& id, const std::string& source,
                                    const std::vector<std::string>& command) {
            std::cerr << "retrace: run " << id << " was imported from " << source
                      << " (unsigned: nothing says who recorded it); replaying it runs:\n";
            for (const auto& arg : command) std::cerr << "  " << Json(arg).dump() << "\n";
            if (*yes) return true;
            if (!isatty(STDIN_FILENO)) return false;
            std::cerr << "retrace: run it? [y/N] " << std::flush;
            std::string answer;
            std::getline(std::cin, answer);
            return answer == "y" || answer == "Y" || answer == "yes";
        };
        o->on_miss_live = *on_miss == "live";
        o->pace = *pace == "recorded" ? replay::Pace::recorded
                  : *pace == "fast"   ? replay::Pace::fast
                                      : replay::Pace::automatic;
        o->command = ctx.trailing;
        std::optional<run::LaunchFailure> launch;
        auto result = run::replay(*o, ctx.opener(), ctx.envp, &launch);
        if (!result) fail_before_child(result.status());
        if (launch && result->run.run_id.empty()) throw Exit{launch->exit_code, launch->message};
        const auto& r = *result;
        if (r.run.not_stored)
            std::cerr << "retrace: run " << r.run.run_id
                      << " left incomplete: " << *r.run.not_stored << "\n";
        std::cerr << "retrace: replay " << r.run.run_id << " of " << r.source_id << ": " << r.served
                  << " recorded answer(s) served"
                  << (r.deterministic ? ", the recorded clock and randomness fed back" : "")
                  << "\n";
        if (r.determinism_declined)
            std::cerr << "retrace: replayed without the recording's clock and randomness "
                         "(--no-deterministic)\n";
        if (r.reproduced) {
            std::cerr << "retrace: reproduced\n";
        } else {
            std::cerr << "retrace: diverged: " << r.differences.front() << "\n";
            for (std::size_t i = 1; i < r.differences.size() && i < 20; ++i)
                std::cerr << "retrace:   " << r.differences[i] << "\n";
            if (r.differences.size() > 20)
                std::cerr << "retrace:   ... " << r.differences.size() - 20 << " more\n";
        }
        if (ctx.json) {
            Json divs = Json::array();
            for (const auto& d : r.divergences) divs.push_back(d.to_json());
            print_json({{"run_id", r.run.run_id},
                        {"replay_of", r.source_id},
                        {"verdict", r.reproduced ? "reproduced" : "diverged"},
                        {"differences", r.differences},
                        {"divergences", divs},
                        {"unused", r.unused},
                        {"served", r.served},
                        {"deterministic", r.deterministic},
                        {"exit_code", r.run.exit_code}});
        }
        if (launch) throw Exit{launch->exit_code, launch->message};
        if (!r.reproduced) throw Exit{1, ""};
    });
}

}  // namespace retrace::cli
