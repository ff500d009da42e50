// Runs a helper program (git, python3, nvidia-smi) and captures its stdout.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace retrace::conditions {

// argv[0] is looked up on PATH; extra_env ("NAME=VALUE") is added to ours.
// nullopt when the program is missing or exits non-zero. stderr is discarded.
std::optional<std::string> run_capture(const std::vector<std::string>& argv,
                                       const std::vector<std::string>& extra_env = {});

// git -C root ARGS..., without taking the repository's optional locks
// (`git status` must not rewrite the index of a repository being recorded).
std::optional<std::string> git(const std::filesystem::path& root, std::vector<std::string> args);

// "a\0b\0" -> {"a", "b"}: git's -z output.
std::vector<std::string> split_nul(const std::string& s);

}  // namespace retrace::conditions
