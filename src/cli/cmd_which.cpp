#include "context.hpp"
#include "format.hpp"
#include "retrace/conditions/input_digest.hpp"

namespace retrace::cli {

void add_which_command(CLI::App& app, Context& ctx) {
    auto* cmd = app.add_subcommand(
        "which", "list the runs that produced (--output) or consumed (--input) some content");
    auto target = std::make_shared<std::string>();
    cmd->add_option("target", *target, "a file, a directory, or a sha256:... digest")->required();
    cmd->add_flag("--json", ctx.json, "print JSON");
    cmd->callback([&ctx, target] {
        std::string digest;
        if (target->rfind("sha256:", 0) == 0) {
            digest = check(core::Digest::parse(*target)).to_string();
        } else {
            auto d = conditions::digest_path(*target, nullptr);
            if (!d) fail(error(ErrorCode::invalid_input, d.status().message()));
            digest = d->digest.to_string();
        }
        auto& store = ctx.store();
        auto rows = check(store.files_with_digest(digest));
        core::Json out = core::Json::array();
        for (const auto& f : rows) {
            auto run = check(store.get_run(f.run_id));
            core::Json j = {{"run_id", f.run_id},
                            {"role", f.role},
                            {"path", f.path},
                            {"name", run && run->name ? core::Json(*run->name) : core::Json()},
                            {"started_ns", run ? run->started_ns : 0}};
            out.push_back(j);
        }
        if (ctx.json) {
            print_json({{"digest", digest}, {"runs", out}});
        } else {
            std::cout << digest << "\n";
            if (out.empty()) std::cout << "  no run produced or consumed this content\n";
            for (const auto& j : out)
                std::cout << "  " << j["run_id"].get<std::string>() << "  "
                          << (j["role"] == "output" ? "produced" : "consumed") << " as "
                          << j["path"].get<std::string>() << "  "
                          << format_time(j["started_ns"].get<long long>())
                          << (j["name"].is_string() ? "  (" + j["name"].get<std::string>() + ")"
                                                    : "")
                          << "\n";
        }
        if (out.empty()) throw Exit{1, ""};
    });
}

}  // namespace retrace::cli
