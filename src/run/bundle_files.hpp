// The files of a reproduction bundle and their digests: what the writer
// lists in manifest.json and the checker compares.
#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "retrace/core/canonical_json.hpp"
#include "retrace/core/digest.hpp"
#include "retrace/core/result.hpp"

namespace retrace::run::bundle {

inline constexpr const char* k_manifest = "manifest.json";
inline constexpr const char* k_manifest_digest = "manifest.json.sha256";
inline constexpr const char* k_pack = "runs.pack";
inline constexpr const char* k_readme = "README.md";
inline constexpr const char* k_reproduce = "reproduce";
inline constexpr const char* k_code = "code";

inline Result<std::string> read_all(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    if (!f) return error(ErrorCode::io, "cannot read " + p.string());
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

inline Status write_all(const std::filesystem::path& p, const std::string& bytes) {
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f << bytes;
    f.close();
    if (!f) return error(ErrorCode::io, "cannot write " + p.string());
    return Status::ok();
}

// Every regular file under dir but the manifest and its digest: relative
// path -> sha256. A symbolic link or other special file is refused.
inline Result<std::map<std::string, std::string>> file_digests(const std::filesystem::path& dir) {
    std::map<std::string, std::string> out;
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        std::string rel = it->path().lexically_relative(dir).generic_string();
        if (it->is_symlink()) return error(ErrorCode::corrupt, rel + " is a symbolic link");
        if (it->is_directory()) continue;
        if (!it->is_regular_file()) return error(ErrorCode::corrupt, rel + " is not a file");
        if (rel == k_manifest || rel == k_manifest_digest) continue;
        RETRACE_ASSIGN(std::string bytes, read_all(it->path()));
        out[rel] = core::Digest::of(bytes).to_string();
    }
    if (ec) return error(ErrorCode::io, "cannot list " + dir.string() + ": " + ec.message());
    return out;
}

// The environment a bundle compares, from a run's conditions' env section
// (conditions/environment.hpp): the software and the machine's OS and
// architecture.
inline core::Json comparable_environment(const core::Json& env) {
    core::Json machine = env.value("machine", core::Json::object());
    core::Json out = {{"software", env.value("software", core::Json::object())},
                      {"machine", core::Json::object()}};
    for (const char* key : {"os", "arch", "kernel"})
        if (machine.contains(key)) out["machine"][key] = machine[key];
    return out;
}

}  // namespace retrace::run::bundle
