#include "retrace/conditions/environment.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <future>
#include <map>
#include <set>

#include "retrace/core/digest.hpp"
#include "subprocess.hpp"

namespace retrace::conditions {

namespace {

namespace fs = std::filesystem;
using core::Json;

const std::vector<std::string> k_var_allowlist = {"PYTHONHASHSEED",
                                                  "CUBLAS_WORKSPACE_CONFIG",
                                                  "OMP_NUM_THREADS",
                                                  "MKL_NUM_THREADS",
                                                  "CUDA_VISIBLE_DEVICES",
                                                  "TZ",
                                                  "LANG",
                                                  "LC_ALL",
                                                  "TOKENIZERS_PARALLELISM",
                                                  "PYTHONPATH",
                                                  "NODE_OPTIONS"};

const std::vector<std::string> k_lockfiles = {
    "poetry.lock",    "uv.lock",   "Pipfile.lock", "environment.yml", "package-lock.json",
    "pnpm-lock.yaml", "yarn.lock", "Cargo.lock",   "go.sum"};

std::string trim(std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    std::size_t i = 0;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    return s.substr(i);
}

// Value of the first "key: value" (or key=value) line starting with key.
std::optional<std::string> field(const fs::path& file, const std::string& key, char sep) {
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(key, 0) != 0) continue;
        auto pos = line.find(sep, key.size());
        if (pos == std::string::npos) continue;
        if (trim(line.substr(key.size(), pos - key.size())) != "") continue;
        std::string v = trim(line.substr(pos + 1));
        if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
        return v;
    }
    return std::nullopt;
}

std::string normalize_dist_name(const std::string& name) {
    std::string out;
    bool sep = false;
    for (char c : name) {
        if (c == '-' || c == '_' || c == '.') {
            sep = true;
            continue;
        }
        if (sep && !out.empty()) out.push_back('-');
        sep = false;
        out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    return out;
}

// Distributions visible to python3: name -> version, first on sys.path wins.
Json python_packages(const Json& paths) {
    Json packages = Json::object();
    if (!paths.is_array()) return packages;
    for (const auto& p : paths) {
        if (!p.is_string() || p.get<std::string>().empty()) continue;
        std::error_code ec;
        std::map<std::string, std::string> here;
        for (fs::directory_iterator it(p.get<std::string>(), ec), end; !ec && it != end;
             it.increment(ec)) {
            std::string fname = it->path().filename().string();
            fs::path meta;
            if (fname.ends_with(".dist-info"))
                meta = it->path() / "METADATA";
            else if (fname.ends_with(".egg-info"))
                meta = it->is_directory() ? it->path() / "PKG-INFO" : it->path();
            else
                continue;
            auto name = field(meta, "Name", ':');
            auto version = field(meta, "Version", ':');
            if (name && version) here.emplace(normalize_dist_name(*name), *version);
        }
        for (const auto& [name, version] : here)
            if (!packages.contains(name)) packages[name] = version;
    }
    return packages;
}

}  // namespace

Json capture_machine() {
    Json m = Json::object();
    if (auto os = field("/etc/os-release", "PRETTY_NAME", '=')) m["os"] = *os;
    utsname u{};
    if (uname(&u) == 0) {
        m["kernel"] = u.release;
        m["arch"] = u.machine;
    }
    Json cpu = Json::object();
    if (auto model = field("/proc/cpuinfo", "model name", ':')) cpu["model"] = *model;
    cpu["count"] = static_cast<long long>(sysconf(_SC_NPROCESSORS_ONLN));
    m["cpu"] = cpu;
    if (auto mem = field("/proc/meminfo", "MemTotal", ':'))
        m["memory_bytes"] = std::stoll(*mem) * 1024;  // "24676860 kB"
    if (auto smi = run_capture({"nvidia-smi", "--query-gpu=name,driver_version,memory.total",
                                "--format=csv,noheader"})) {
        Json gpus = Json::array();
        std::size_t start = 0;
        while (start < smi->size()) {
            std::size_t end = smi->find('\n', start);
            if (end == std::string::npos) end = smi->size();
            std::string line = smi->substr(start, end - start);
            start = end + 1;
            std::vector<std::string> parts;
            std::size_t s = 0;
            for (std::size_t c; (c = line.find(',', s)) != std::string::npos; s = c + 1)
                parts.push_back(trim(line.substr(s, c - s)));
            parts.push_back(trim(line.substr(s)));
            if (parts.size() == 3)
                gpus.push_back({{"name", parts[0]}, {"driver", parts[1]}, {"memory", parts[2]}});
        }
        if (!gpus.empty()) m["gpus"] = gpus;
    }
    return m;
}

Json capture_env(const EnvOptions& options, const core::Redactor& redactor) {
    // The interpreters are the slow part (tens of ms each, hundreds behind a
    // version manager's shims): ask them concurrently, python3 once for its
    // version (what `--version` prints) and its path.
    auto node_version = std::async(std::launch::async, [] {
        return run_capture({"node", "--version"});
    });
    auto python = std::async(std::launch::async, [] {
        return run_capture({"python3", "-c",
                            "import sys,json; print(json.dumps([sys.version.split()[0], "
                            "sys.path]))"});
    });
    Json env = Json::object();
    env["machine"] = capture_machine();

    Json lockfiles = Json::object();
    std::error_code ec;
    for (fs::directory_iterator it(options.lockfile_dir, ec), end; !ec && it != end;
         it.increment(ec)) {
        std::string name = it->path().filename().string();
        bool is_lock =
            std::find(k_lockfiles.begin(), k_lockfiles.end(), name) != k_lockfiles.end() ||
            (name.rfind("requirements", 0) == 0 && name.ends_with(".txt"));
        if (!is_lock || !it->is_regular_file()) continue;
        std::ifstream in(it->path(), std::ios::binary);
        std::string content((std::istreambuf_iterator<char>(in)), {});
        lockfiles[name] = core::Digest::of(content).to_string();
    }
    if (!lockfiles.empty()) env["lockfiles"] = lockfiles;

    std::set<std::string> wanted(k_var_allowlist.begin(), k_var_allowlist.end());
    wanted.insert(options.extra_vars.begin(), options.extra_vars.end());
    Json vars = Json::object();
    for (char** e = options.envp; e && *e; ++e) {
        std::string_view kv(*e);
        auto eq = kv.find('=');
        if (eq == std::string_view::npos) continue;
        std::string name(kv.substr(0, eq));
        if (!wanted.count(name)) continue;
        vars[name] = core::is_secret_name(name) ? std::string("<present>")
                                                : redactor.redact(kv.substr(eq + 1));
    }
    for (const auto& name : options.extra_vars)
        if (!vars.contains(name)) vars[name] = nullptr;  // asked for, and absent
    env["vars"] = vars;

    Json software = Json::object();
    if (auto out = python.get()) {
        Json answer = Json::parse(*out, nullptr, false);
        if (answer.is_array() && answer.size() == 2 && answer[0].is_string()) {
            software["python3"] = answer[0];
            Json pkgs = python_packages(answer[1]);
            if (!pkgs.empty()) software["python_packages"] = pkgs;
        }
    }
    if (auto v = node_version.get()) software["node"] = trim(*v);
    env["software"] = software;
    return env;
}

}  // namespace retrace::conditions
