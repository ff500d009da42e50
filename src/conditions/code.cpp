#include "retrace/conditions/code.hpp"

#include <algorithm>

#include "retrace/core/hasher.hpp"
#include "subprocess.hpp"

namespace retrace::conditions {

namespace {

namespace fs = std::filesystem;
using core::Json;

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    return s;
}

std::string file_digest(const fs::path& p) {
    core::Sha256 h;
    std::FILE* f = std::fopen(p.c_str(), "rb");
    if (!f) return "unreadable";
    char buf[65536];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) h.update(buf, n);
    std::fclose(f);
    return h.finish().to_string();
}

// git pathspecs: the whole work tree but the declared inputs inside it.
std::vector<std::string> pathspecs(const fs::path& root, const std::vector<std::string>& inputs) {
    std::vector<std::string> out = {"--", ":(top)"};
    for (const auto& input : inputs) {
        std::string rel = condition_path(input, root);
        if (rel != "." && !rel.starts_with("/") && !rel.starts_with("../"))
            out.push_back(":(top,exclude,literal)" + rel);
    }
    return out;
}

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
    args.insert(args.end(), more.begin(), more.end());
    return args;
}

Json git_section(const fs::path& root, const std::vector<std::string>& inputs) {
    Json g = Json::object();
    auto specs = pathspecs(root, inputs);
    auto head = git(root, {"rev-parse", "--verify", "-q", "HEAD"});
    g["commit"] = head ? Json(trim(*head)) : Json();
    auto branch = git(root, {"symbolic-ref", "--short", "-q", "HEAD"});
    g["branch"] = branch ? Json(trim(*branch)) : Json();
    auto status =
        git(root, with({"status", "--porcelain=v1", "-z", "--untracked-files=all"}, specs));
    auto entries = status ? split_nul(*status) : std::vector<std::string>{};
    // Rename entries are followed by their source path as a separate field.
    std::size_t dirty = 0;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        ++dirty;
        if (entries[i].size() > 1 && (entries[i][0] == 'R' || entries[i][0] == 'C')) ++i;
    }
    g["dirty"] = dirty > 0;
    g["dirty_files"] = dirty;
    if (dirty > 0) {
        core::TaggedHasher h("retrace.dirty/1");
        h.field("diff",
                git(root, with({"diff", "HEAD", "--binary", "--no-color", "--no-ext-diff"}, specs))
                    .value_or(""));
        auto untracked =
            git(root, with({"ls-files", "--others", "--exclude-standard", "-z"}, specs));
        auto files = untracked ? split_nul(*untracked) : std::vector<std::string>{};
        std::sort(files.begin(), files.end());
        for (const auto& f : files) h.field("untracked", f + " " + file_digest(root / f));
        g["dirty_digest"] = h.digest().to_string();
    }
    return g;
}

}  // namespace

std::optional<fs::path> find_repo_root(const fs::path& dir) {
    std::error_code ec;
    for (fs::path p = fs::absolute(dir, ec);; p = p.parent_path()) {
        if (fs::exists(p / ".git", ec)) return p;
        if (p == p.parent_path()) return std::nullopt;
    }
}

std::string condition_path(const fs::path& path, const std::optional<fs::path>& repo_root) {
    std::error_code ec;
    fs::path abs = fs::absolute(path, ec).lexically_normal();
    if (repo_root) {
        fs::path rel = abs.lexically_relative(repo_root->lexically_normal());
        if (!rel.empty() && *rel.begin() != "..") {
            std::string s = rel.generic_string();
            if (s.size() > 1 && s.back() == '/') s.pop_back();
            return s.empty() ? "." : s;
        }
    }
    std::string s = abs.generic_string();
    if (s.size() > 1 && s.back() == '/') s.pop_back();
    return s;
}

Json capture_code(const CodeOptions& options, const core::Redactor& redactor) {
    Json code = Json::object();
    code["argv"] = core::redact_argv(redactor, options.argv);
    auto root = find_repo_root(options.cwd);
    code["cwd"] = condition_path(options.cwd, root);
    if (root) code["git"] = git_section(*root, options.inputs);
    return code;
}

}  // namespace retrace::conditions
