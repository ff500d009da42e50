#include "retrace/run/oracle.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "retrace/core/temp_dir.hpp"
#include "retrace/run/child_process.hpp"

namespace retrace::run {

Result<bool> oracle_passes(const std::string& oracle, const std::string& run_id,
                           const std::string& stdout_text, int exit_code, char** envp,
                           const std::string& store) {
    std::filesystem::path out_file =
        core::temp_dir() / ("retrace-oracle-" + std::to_string(::getpid()) + "-" + run_id);
    {
        std::ofstream f(out_file, std::ios::binary);
        f << stdout_text;
    }
    std::vector<std::string> env;
    for (char** e = envp; e && *e; ++e) {
        std::string kv(*e);
        if (!store.empty() && (kv.starts_with("RETRACE_STORE=") || kv.starts_with("PATH=")))
            continue;
        env.push_back(std::move(kv));
    }
    if (!store.empty()) {
        env.push_back("RETRACE_STORE=" + store);
        std::error_code ec;
        auto self = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path().string();
        const char* path = nullptr;
        for (char** e = envp; e && *e; ++e)
            if (std::string_view(*e).starts_with("PATH=")) path = *e + 5;
        env.push_back("PATH=" + self + ":" + (path ? path : "/usr/local/bin:/usr/bin:/bin"));
    }
    env.push_back("RETRACE_RUN_ID=" + run_id);
    env.push_back("RETRACE_STDOUT=" + out_file.string());
    env.push_back("RETRACE_EXIT=" + std::to_string(exit_code));
    auto result = run_child({"/bin/sh", "-c", oracle}, env, false);
    std::error_code ec;
    std::filesystem::remove(out_file, ec);
    if (!result) return result.status().with_context("oracle");
    return result->exit_code == 0;
}

}  // namespace retrace::run
