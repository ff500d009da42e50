#include <iostream>

#include "context.hpp"
#include "format.hpp"
#include "retrace/analysis/doctor.hpp"

namespace retrace::cli {

void add_doctor_command(CLI::App& app, Context& ctx) {
    auto* cmd = app.add_subcommand(
        "doctor", "list what in a recorded run is left to chance, each with its fix");
    cmd->footer(
        "Checks: sampling without a seed, fingerprint changes within the run, unrecorded clock\n"
        "and randomness, PYTHONHASHSEED / CUBLAS_WORKSPACE_CONFIG, uncommitted code, undeclared\n"
        "inputs, truncated streams, live requests in a replay. Exits 1 when an error is found.");
    auto run = std::make_shared<std::string>();
    cmd->add_option("run", *run, "a run reference")->required();
    cmd->add_flag("--json", ctx.json, "print the findings as JSON");
    cmd->callback([&ctx, run] {
        auto report = check(analysis::doctor_run(ctx.store(), *run));
        if (ctx.json) {
            print_json(report.to_json());
        } else {
            std::cout << "run      " << report.run.id
                      << (report.run.name ? "  (" + *report.run.name + ")" : "") << "\n";
            std::size_t errors = 0, warnings = 0;
            for (const auto& f : report.findings) {
                errors += f.severity == "error";
                warnings += f.severity == "warning";
                std::string severity = f.severity;
                severity.resize(8, ' ');
                std::cout << severity << " " << f.check << ": " << f.message << "\n"
                          << "         fix: " << f.fix << "\n";
            }
            std::cout << report.findings.size() << " finding(s): " << errors << " error(s), "
                      << warnings << " warning(s)\n";
        }
        if (report.has_errors()) throw Exit{1, ""};
    });
}

}  // namespace retrace::cli
