// `retrace repro check BUNDLE`: a bundle's failure seen again on this
// machine (repro_bundle.hpp).
#include <unistd.h>

#include <map>
#include <sstream>

#include "bundle_files.hpp"
#include "environment_block.hpp"
#include "retrace/conditions/environment.hpp"
#include "retrace/core/temp_dir.hpp"
#include "retrace/run/child_process.hpp"
#include "retrace/run/repro_bundle.hpp"
#include "retrace/store/pack.hpp"

namespace retrace::run {

namespace {

namespace fs = std::filesystem;
using core::Json;

// A scratch directory, removed with everything in it when this goes.
class Scratch {
  public:
    static Result<Scratch> make(const std::string& prefix) {
        std::string tmpl = (core::temp_dir() / (prefix + "-XXXXXX")).string();
        if (!mkdtemp(tmpl.data())) return error(ErrorCode::io, "cannot create a scratch directory");
        return Scratch(tmpl);
    }
    Scratch(Scratch&& o) noexcept : m_path(std::exchange(o.m_path, {})) {}
    Scratch& operator=(Scratch&&) = delete;
    ~Scratch() {
        std::error_code ec;
        if (!m_path.empty()) fs::remove_all(m_path, ec);
    }
    const fs::path& path() const { return m_path; }

  private:
    explicit Scratch(fs::path p) : m_path(std::move(p)) {}
    fs::path m_path;
};

// The working directory, restored when this goes: the replays run the
// program from the bundle's copy of it.
class WorkingDirectory {
  public:
    explicit WorkingDirectory(const fs::path& dir) : m_before(fs::current_path()) {
        fs::current_path(dir, m_error);
    }
    const std::error_code& error() const { return m_error; }
    ~WorkingDirectory() {
        std::error_code ec;
        fs::current_path(m_before, ec);
    }
    WorkingDirectory(const WorkingDirectory&) = delete;
    WorkingDirectory& operator=(const WorkingDirectory&) = delete;

  private:
    fs::path m_before;
    std::error_code m_error;
};

std::vector<std::string> env_strings(char** envp) {
    std::vector<std::string> out;
    for (char** e = envp; e && *e; ++e) out.emplace_back(*e);
    return out;
}

// The bundle's directory: given, or unpacked from its archive into scratch.
Result<fs::path> bundle_dir(const fs::path& given, const fs::path& scratch, char** envp) {
    std::error_code ec;
    if (fs::is_directory(given, ec)) return fs::absolute(given);
    if (!fs::is_regular_file(given, ec))
        return error(ErrorCode::not_found, "no bundle at " + given.string());
    fs::path into = scratch / "bundle";
    fs::create_directories(into, ec);
    auto result = run_child({"tar", "-xzf", fs::absolute(given).string(), "-C", into.string(),
                             "--no-same-owner", "--no-same-permissions"},
                            env_strings(envp), false);
    if (!result || result->exit_code != 0)
        return error(ErrorCode::corrupt,
                     given.string() + ": not a bundle archive (tar refused it)");
    std::vector<fs::path> dirs;
    for (const auto& entry : fs::directory_iterator(into, ec)) dirs.push_back(entry.path());
    if (dirs.size() != 1 || !fs::is_directory(dirs[0], ec))
        return error(ErrorCode::corrupt,
                     given.string() + ": not a bundle archive (one directory expected)");
    return dirs[0];
}

// The manifest, once its digest and every file's check out.
Result<Json> checked_manifest(const fs::path& dir, int& files) {
    std::string where = "bundle " + dir.string() + ": ";
    RETRACE_ASSIGN(std::string text, bundle::read_all(dir / bundle::k_manifest));
    auto digest_line = bundle::read_all(dir / bundle::k_manifest_digest);
    if (!digest_line)
        return error(ErrorCode::corrupt, where + bundle::k_manifest_digest + " is missing");
    if (digest_line->substr(0, 64) != core::Digest::of(text).hex())
        return error(ErrorCode::corrupt,
                     where +
                         "manifest.json does not match its digest in manifest.json.sha256 "
                         "(changed after the bundle was written)");
    auto manifest = core::parse_json_strict(text);
    if (!manifest || !manifest->is_object() || manifest->value("format", "") != k_bundle_format)
        return error(ErrorCode::corrupt, where + "manifest.json is not a " +
                                             std::string(k_bundle_format) + " manifest");
    Json listed = manifest->value("files", Json::object());
    RETRACE_ASSIGN(auto present, bundle::file_digests(dir));
    for (const auto& [path, digest] : present) {
        if (!listed.contains(path))
            return error(ErrorCode::corrupt,
                         where + path + " is not listed in manifest.json (added afterwards)");
        if (listed[path] != digest)
            return error(ErrorCode::corrupt, where + path +
                                                 " does not match its digest in manifest.json "
                                                 "(changed after the bundle was written)");
    }
    for (const auto& [path, _] : listed.items())
        if (!present.count(path)) return error(ErrorCode::corrupt, where + path + " is missing");
    files = static_cast<int>(present.size()) + 2;
    return *manifest;
}

std::string text_of(const Json& v) {
    return v.is_string() ? v.get<std::string>() : v.is_null() ? std::string("absent") : v.dump();
}

// "what: X here, Y recorded" for everything the recording names that
// differs here.
std::vector<std::string> compare_environment(const Json& recorded, const Json& here) {
    std::vector<std::string> out;
    auto compare = [&](const std::string& what, const Json& r, const Json& h) {
        if (r != h) out.push_back(what + ": " + text_of(h) + " here, " + text_of(r) + " recorded");
    };
    Json rs = recorded.value("software", Json::object()),
         hs = here.value("software", Json::object());
    for (const auto& [name, value] : rs.items()) {
        if (name == "python_packages") continue;
        compare(name, value, hs.value(name, Json()));
    }
    Json rp = rs.value("python_packages", Json::object()),
         hp = hs.value("python_packages", Json::object());
    for (const auto& [name, value] : rp.items())
        compare("python package " + name, value, hp.value(name, Json()));
    Json rm = recorded.value("machine", Json::object()), hm = here.value("machine", Json::object());
    for (const auto& [name, value] : rm.items()) compare(name, value, hm.value(name, Json()));
    return out;
}

// The repro a bundle's manifest asks for, its program copied into work.
Status read_manifest(const Json& manifest, const fs::path& dir, const fs::path& work,
                     ReproOptions& r, fs::path& run_in) {
    Json code = manifest.value("code", Json::object());
    if (code.value("included", false)) {
        std::error_code ec;
        fs::copy(dir / bundle::k_code, work, fs::copy_options::recursive, ec);
        if (ec) return error(ErrorCode::io, "cannot copy the program: " + ec.message());
        std::string cwd = code.value("cwd", ".");
        if (!cwd.starts_with("/") && cwd != ".") run_in = work / cwd;
        r.path_from = code.value("root", "");
        r.path_to = work.string();
    }
    r.failed = manifest.value("source", Json::object()).value("run", "");
    Json passing = manifest.value("passing", Json());
    if (passing.is_object()) r.against = passing.value("run", "");
    r.oracle = manifest.value("oracle", Json::object()).value("command", "");
    Json drive = manifest.value("drive", Json());
    if (drive.is_string()) r.command = drive.get<std::string>();
    r.k = manifest.value("k", 10);
    r.cause.emplace();
    for (const auto& c : manifest.value("cause", Json::array()))
        r.cause->push_back(c.value("label", ""));
    return Status::ok();
}

}  // namespace

int CheckOutcome::exit_code(bool strict) const {
    if (strict && !environment.empty()) return 1;
    if (!replayed || !replayed->validated()) return 1;
    return cause_expected && !replayed->proven() ? 1 : 0;
}

Json CheckOutcome::to_json() const {
    Json j = {{"files_checked", files}, {"environment_differences", environment}};
    if (replayed) {
        j["reproduced"] = replayed->reproduced;
        j["k"] = replayed->k;
        j["repro"] = replayed->to_json();
    }
    return j;
}

namespace {

Result<CheckOutcome> check(const CheckOptions& o, char** envp, const Scratch& scratch,
                           const fs::path& dir, const Json& manifest, int files) {
    CheckOutcome out;
    out.files = files;
    if (o.progress)
        o.progress("repro check: " + std::to_string(out.files) + " files, every digest matches");

    auto here = conditions::capture_env({{}, fs::current_path(), envp}, core::Redactor());
    out.environment = compare_environment(manifest.value("environment", Json::object()),
                                          bundle::comparable_environment(here));
    if (o.strict && !out.environment.empty()) return out;

    // A fresh store, HOME and work tree.
    fs::path store_dir = scratch.path() / "store", home = scratch.path() / "home",
             work = scratch.path() / "work";
    std::error_code ec;
    fs::create_directories(home, ec);
    fs::create_directories(work, ec);
    store::StoreOpener opener(store_dir);
    RETRACE_TRY(store::read_pack(dir / bundle::k_pack, [&] { return opener.open(true); }).status());

    ReproOptions r;
    fs::path run_in = work;
    RETRACE_TRY(read_manifest(manifest, dir, work, r, run_in));
    if (r.failed.empty())
        return error(ErrorCode::corrupt, "bundle " + dir.string() + ": manifest.json names no run");
    r.k = o.k > 0 ? o.k : r.k;
    out.cause_expected = !r.cause->empty();
    if (!out.cause_expected) r.against.reset();  // validate only
    r.imported = true;
    r.progress = o.progress;

    EnvironmentBlock env(envp, {{"HOME", home.string()}, {"RETRACE_STORE", store_dir.string()}});
    fs::create_directories(run_in, ec);
    WorkingDirectory in(run_in);
    if (in.error())
        return error(ErrorCode::io,
                     "cannot enter " + run_in.string() + ": " + in.error().message());
    RETRACE_ASSIGN(out.replayed, repro(r, opener, env.envp()));
    return out;
}

}  // namespace

Result<CheckOutcome> check_bundle(const CheckOptions& o, char** envp) {
    RETRACE_ASSIGN(Scratch scratch, Scratch::make("retrace-check"));
    RETRACE_ASSIGN(fs::path dir, bundle_dir(o.bundle, scratch.path(), envp));
    int files = 0;
    RETRACE_ASSIGN(Json manifest, checked_manifest(dir, files));
    // (the manifest's digest held, but it may still have been written by
    // hand: a field of the wrong type is a bad bundle, not a crash)
    try {
        return check(o, envp, scratch, dir, manifest, files);
    } catch (const Json::exception& e) {
        return error(ErrorCode::corrupt,
                     "bundle " + dir.string() + ": manifest.json is malformed: " + e.what());
    }
}

}  // namespace retrace::run
