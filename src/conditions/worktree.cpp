#include "retrace/conditions/worktree.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "retrace/core/digest.hpp"
#include "subprocess.hpp"

namespace retrace::conditions {

namespace {

namespace fs = std::filesystem;
using core::Json;

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

std::optional<std::string> read_file(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    if (!f) return std::nullopt;
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

// The pathspecs of the whole work tree but the declared inputs (and a
// store kept in it).
std::vector<std::string> pathspecs(const fs::path& root, const std::vector<std::string>& inputs) {
    std::vector<std::string> out = {"--", ":(top)", ":(top,exclude).retrace"};
    for (const auto& input : inputs) {
        std::error_code ec;
        fs::path rel = fs::absolute(input, ec).lexically_normal().lexically_relative(root);
        if (!rel.empty() && *rel.begin() != ".." && rel != ".")
            out.push_back(":(top,exclude,literal)" + rel.generic_string());
    }
    return out;
}

// Why a file is not kept, or nothing.
std::optional<std::string> refuse(const std::string& path, const std::string& bytes,
                                  const core::Redactor& redactor) {
    if (credential_file_name(path)) return "its name says it holds a credential";
    if (redactor.contains_secret(bytes)) return "it holds a credential";
    return std::nullopt;
}

class Budget {
  public:
    explicit Budget(const WorktreeLimits& limits) : m_limits(limits) {}
    // Why a file of this size does not fit, or nothing (and it is counted).
    std::optional<std::string> take(std::size_t bytes) {
        if (bytes > m_limits.max_file)
            return "larger than " + std::to_string(m_limits.max_file) + " bytes";
        if (m_files + 1 > m_limits.max_files)
            return "past " + std::to_string(m_limits.max_files) + " files";
        if (m_total + bytes > m_limits.max_total)
            return "past " + std::to_string(m_limits.max_total) + " bytes in all";
        ++m_files;
        m_total += bytes;
        return std::nullopt;
    }

  private:
    WorktreeLimits m_limits;
    std::size_t m_files = 0, m_total = 0;
};

// How many files left out are listed one by one; the rest are counted.
constexpr std::size_t k_max_listed = 100;

// A relative path that stays inside the directory it is joined to.
bool safe_relative(const std::string& path) {
    fs::path p(path);
    if (p.empty() || p.is_absolute()) return false;
    for (const auto& part : p)
        if (part == "..") return false;
    return true;
}

}  // namespace

bool credential_file_name(const std::string& path) {
    std::string name = lower(fs::path(path).filename().string());
    static const std::set<std::string> exact = {
        ".env",         ".netrc",       ".npmrc",           ".pypirc",
        ".pgpass",      "credentials",  "credentials.json", "id_rsa",
        "id_ecdsa",     "id_ed25519",   "id_dsa",           ".git-credentials",
        "secrets.json", "secrets.yaml", "secrets.yml",      "service-account.json"};
    if (exact.count(name)) return true;
    if (name.starts_with(".env.") && name != ".env.example" && name != ".env.sample") return true;
    for (const char* ext : {".pem", ".key", ".p12", ".pfx", ".keystore", ".jks"})
        if (name.ends_with(ext)) return true;
    return false;
}

WorktreeCapture capture_worktree(const fs::path& root, const std::vector<std::string>& inputs,
                                 const core::Redactor& redactor, const WorktreeLimits& limits) {
    WorktreeCapture out;
    Json files = Json::array(), deleted = Json::array(), left_out = Json::array();
    auto specs = pathspecs(root, inputs);
    auto head = git(root, {"rev-parse", "--verify", "-q", "HEAD"});
    std::string commit = head ? head->substr(0, head->find_first_of("\r\n")) : std::string();
    std::set<std::string> changed;
    if (!commit.empty()) {
        std::vector<std::string> args = {"diff", "HEAD", "--name-status", "-z", "--no-renames"};
        args.insert(args.end(), specs.begin(), specs.end());
        auto fields = split_nul(git(root, args).value_or(""));
        for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
            if (fields[i] == "D")
                deleted.push_back(fields[i + 1]);
            else
                changed.insert(fields[i + 1]);
        }
    } else {  // no commit yet: every file git knows of is a change
        std::vector<std::string> args = {"ls-files", "-z"};
        args.insert(args.end(), specs.begin(), specs.end());
        for (auto& f : split_nul(git(root, args).value_or(""))) changed.insert(std::move(f));
    }
    std::vector<std::string> args = {"ls-files", "--others", "--exclude-standard", "-z"};
    args.insert(args.end(), specs.begin(), specs.end());
    for (auto& f : split_nul(git(root, args).value_or(""))) changed.insert(std::move(f));

    Budget budget(limits);
    std::size_t left_count = 0;
    for (const auto& path : changed) {
        fs::path p = root / path;
        std::error_code ec;
        auto status = fs::symlink_status(p, ec);
        auto leave = [&](const std::string& why) {
            if (left_out.size() < k_max_listed)
                left_out.push_back({{"path", path}, {"reason", why}});
            ++left_count;
        };
        if (ec || status.type() == fs::file_type::not_found) {
            deleted.push_back(path);
            continue;
        }
        if (status.type() != fs::file_type::regular) {
            leave("not a regular file");
            continue;
        }
        auto size = fs::file_size(p, ec);
        if (ec) {
            leave("unreadable");
            continue;
        }
        if (auto why = budget.take(size)) {
            leave(*why);
            continue;
        }
        auto bytes = read_file(p);
        if (!bytes) {
            leave("unreadable");
            continue;
        }
        if (auto why = refuse(path, *bytes, redactor)) {
            leave(*why);
            continue;
        }
        bool executable = (status.permissions() & fs::perms::owner_exec) != fs::perms::none;
        std::string digest = core::Digest::of(*bytes).to_string();
        files.push_back({{"path", path},
                         {"digest", digest},
                         {"bytes", bytes->size()},
                         {"executable", executable}});
        out.contents.emplace_back(digest, std::move(*bytes));
    }
    if (left_count > left_out.size())
        left_out.push_back({{"path", "..."},
                            {"reason", std::to_string(left_count - left_out.size()) +
                                           " more file(s) left out, not listed"}});
    out.metadata = {{"root", root.string()},
                    {"commit", commit.empty() ? Json() : Json(commit)},
                    {"files", files},
                    {"deleted", deleted},
                    {"left_out", left_out}};
    return out;
}

WorktreeCapture clean_worktree(const fs::path& root, const Json& commit) {
    WorktreeCapture out;
    out.metadata = {{"root", root.string()},
                    {"commit", commit.is_string() ? commit : Json()},
                    {"files", Json::array()},
                    {"deleted", Json::array()},
                    {"left_out", Json::array()}};
    return out;
}

Result<Materialized> materialize_worktree(
    const Json& metadata, const std::function<std::optional<std::string>(const std::string&)>& blob,
    const fs::path& dest, const core::Redactor& redactor, const WorktreeLimits& limits) {
    Materialized out;
    std::size_t left_count = 0;
    auto leave = [&](const std::string& path, const std::string& why) {
        if (out.left_out.size() < k_max_listed) out.left_out.emplace_back(path, why);
        ++left_count;
    };
    std::error_code ec;
    fs::create_directories(dest, ec);
    if (ec) return error(ErrorCode::io, "cannot create " + dest.string() + ": " + ec.message());
    fs::path root = metadata.value("root", "");
    Json commit = metadata.value("commit", Json());
    Budget budget(limits);
    std::set<std::string> recorded;
    for (const auto& f : metadata.value("files", Json::array()))
        recorded.insert(f.value("path", ""));
    for (const auto& d : metadata.value("deleted", Json::array()))
        if (d.is_string()) recorded.insert(d.get<std::string>());

    // The commit's files, within the bounds and without credentials.
    if (commit.is_string()) {
        if (!git(root, {"cat-file", "-e", commit.get<std::string>() + "^{commit}"}))
            return error(ErrorCode::not_found, "the recorded commit " + commit.get<std::string>() +
                                                   " is not in a repository at " + root.string());
        auto listing =
            git(root, {"ls-tree", "-r", "-z", "-l", "--full-tree", commit.get<std::string>()});
        std::vector<std::string> wanted;
        for (const auto& entry : split_nul(listing.value_or(""))) {
            // "<mode> <type> <object> <size>\t<path>"
            auto tab = entry.find('\t');
            if (tab == std::string::npos) continue;
            std::string path = entry.substr(tab + 1);
            std::istringstream head(entry.substr(0, tab));
            std::string mode, type, object, size;
            head >> mode >> type >> object >> size;
            if (recorded.count(path) || path.starts_with(".retrace/")) continue;
            if (type != "blob") {
                leave(path, "a " + type + " (submodule) is not bundled");
                continue;
            }
            if (credential_file_name(path)) {
                leave(path, "its name says it holds a credential");
                continue;
            }
            std::size_t bytes = size == "-" ? 0 : std::stoull(size);
            if (auto why = budget.take(bytes)) {
                leave(path, *why);
                continue;
            }
            wanted.push_back(path);
        }
        if (!wanted.empty()) {
            fs::path tar = dest.string() + ".tar";
            std::vector<std::string> args = {
                "archive", "--format=tar", "-o", tar.string(), commit.get<std::string>(), "--"};
            for (const auto& w : wanted) args.push_back(":(literal)" + w);
            bool archived = git(root, args).has_value();
            bool extracted =
                archived && run_capture({"tar", "-xf", tar.string(), "-C", dest.string()});
            fs::remove(tar, ec);
            if (!extracted)
                return error(ErrorCode::io, "cannot take the files of commit " +
                                                commit.get<std::string>() + " from " +
                                                root.string());
            for (const auto& w : wanted) {
                auto bytes = read_file(dest / w);
                if (!bytes) continue;
                if (redactor.contains_secret(*bytes)) {
                    fs::remove(dest / w, ec);
                    leave(w, "it holds a credential");
                    continue;
                }
                ++out.files;
                out.bytes += static_cast<long long>(bytes->size());
            }
        }
    }
    // The changes as they were at record time.
    for (const auto& f : metadata.value("files", Json::array())) {
        std::string path = f.value("path", ""), digest = f.value("digest", "");
        if (!safe_relative(path))
            return error(ErrorCode::corrupt, "a recorded file has an unsafe path: " + path);
        auto bytes = blob(digest);
        if (!bytes || core::Digest::of(*bytes).to_string() != digest)
            return error(ErrorCode::corrupt, "the recorded content of " + path + " is missing");
        fs::path target = dest / path;
        fs::create_directories(target.parent_path(), ec);
        {
            std::ofstream o(target, std::ios::binary | std::ios::trunc);
            o << *bytes;
            if (!o) return error(ErrorCode::io, "cannot write " + target.string());
        }
        if (f.value("executable", false))
            fs::permissions(target,
                            fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                            fs::perm_options::add, ec);
        ++out.files;
        out.bytes += static_cast<long long>(bytes->size());
    }
    if (left_count > out.left_out.size())
        out.left_out.emplace_back("...", std::to_string(left_count - out.left_out.size()) +
                                             " more file(s) of the commit left out, not listed");
    for (const auto& l : metadata.value("left_out", Json::array()))
        out.left_out.emplace_back(l.value("path", ""), l.value("reason", "") + " (at record time)");
    return out;
}

}  // namespace retrace::conditions
