#include "retrace/run/repro_bundle.hpp"

#include <sys/stat.h>

#include <map>
#include <sstream>

#include "bundle_files.hpp"
#include "retrace/conditions/code.hpp"
#include "retrace/conditions/worktree.hpp"
#include "retrace/core/clock.hpp"
#include "retrace/core/temp_dir.hpp"
#include "retrace/run/child_process.hpp"
#include "retrace/run/run_setup.hpp"
#include "retrace/store/pack.hpp"
#include "retrace/trace/process.hpp"

namespace retrace::run {

namespace {

namespace fs = std::filesystem;
using core::Json;

Json parse_or_object(const std::string& text) {
    auto j = core::parse_json_strict(text);
    return j && j->is_object() ? *j : Json::object();
}

std::vector<std::string> env_strings(char** envp) {
    std::vector<std::string> out;
    for (char** e = envp; e && *e; ++e) out.emplace_back(*e);
    return out;
}

// A command line as one shell-quoted line, for people to read.
std::string shell_line(const std::vector<std::string>& argv) {
    std::string out;
    for (const auto& a : argv) {
        bool plain = !a.empty() && a.find_first_not_of(
                                       "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS"
                                       "TUVWXYZ0123456789-_./=:,+@%") == std::string::npos;
        std::string q = "'";
        for (char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
        out += (out.empty() ? "" : " ") + (plain ? a : q + "'");
    }
    return out;
}

const char* k_reproduce_script =
    "#!/bin/sh\n"
    "# Reproduces the failure this bundle holds: checks the digest of every file,\n"
    "# compares this machine with the one it was recorded on, then replays it in a\n"
    "# fresh scratch directory with nothing reaching the network.\n"
    "# Needs retrace on PATH (or RETRACE=/path/to/retrace). Options: --strict, --k N, --json.\n"
    "dir=$(cd \"$(dirname \"$0\")\" && pwd) || exit 2\n"
    "exec \"${RETRACE:-retrace}\" repro check \"$dir\" \"$@\"\n";

class Writer {
  public:
    Writer(const ReproOutcome& outcome, const ReproOptions& options, const BundleOptions& bundle,
           store::Store& store, char** envp)
        : m_out(outcome), m_o(options), m_b(bundle), m_store(store), m_envp(envp) {}

    Result<BundleSummary> write() {
        RETRACE_TRY(prepare_dir());
        RETRACE_ASSIGN(auto failed, m_store.get_run(m_out.failed_id));
        if (!failed) return error(ErrorCode::not_found, "run " + m_out.failed_id + " is gone");
        m_failed = *failed;
        m_conditions = parse_or_object(m_failed.conditions);
        if (m_out.passed_id) {
            RETRACE_ASSIGN(auto passed, m_store.get_run(*m_out.passed_id));
            if (passed) m_passed = *passed;
        }
        RETRACE_TRY(write_pack());
        RETRACE_TRY(write_code());
        RETRACE_TRY(bundle::write_all(m_sum.dir / bundle::k_reproduce, k_reproduce_script));
        fs::permissions(m_sum.dir / bundle::k_reproduce,
                        fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                        fs::perm_options::add);
        RETRACE_TRY(bundle::write_all(m_sum.dir / bundle::k_readme, readme()));
        RETRACE_TRY(write_manifest());
        if (m_b.archive) RETRACE_TRY(write_archive());
        return m_sum;
    }

  private:
    Status prepare_dir() {
        std::error_code ec;
        if (m_b.dir) {
            m_sum.dir = fs::absolute(*m_b.dir).lexically_normal();
            if (fs::exists(m_sum.dir, ec) && !fs::is_empty(m_sum.dir, ec))
                return error(
                    ErrorCode::invalid_input,
                    "-o " + m_b.dir->string() + ": not empty (a bundle needs a new directory)");
        } else {
            std::string tmpl = (core::temp_dir() / "retrace-bundle-XXXXXX").string();
            if (!mkdtemp(tmpl.data()))
                return error(ErrorCode::io, "cannot create a scratch directory");
            m_sum.dir = fs::path(tmpl) / "bundle";
        }
        fs::create_directories(m_sum.dir, ec);
        if (ec)
            return error(ErrorCode::io,
                         "cannot create " + m_sum.dir.string() + ": " + ec.message());
        return Status::ok();
    }

    Status write_pack() {
        // What reproducing needs: the failed run, and the passing one the
        // proof draws answers from. (The proof's own replays stay in the
        // store: `reproduce` proves the cause again where it runs.)
        std::vector<std::string> ids = {m_out.failed_id};
        if (m_out.passed_id) ids.push_back(*m_out.passed_id);
        RETRACE_ASSIGN(auto pack, store::write_pack(m_store, ids, m_sum.dir / bundle::k_pack));
        m_sum.runs = pack.runs;
        m_sum.pack_bytes = pack.bytes;
        m_runs = ids;
        return Status::ok();
    }

    Status write_code() {
        Json metadata = parse_or_object(m_failed.metadata);
        Json code = m_conditions.value("code", Json::object());
        m_cwd = code.value("cwd", ".");
        if (!m_b.code) {
            m_sum.code_note = "left out (--no-code): the receiving machine runs its own copy";
            return Status::ok();
        }
        if (!m_o.command.empty() && !metadata.contains("worktree")) {
            // A gateway's run: the program driven is the work tree here, now.
            fs::path here = fs::current_path();
            auto root = conditions::find_repo_root(here);
            if (!root) {
                m_sum.code_note =
                    "left out: --command was not run in a git work tree (the receiving machine "
                    "runs its own copy)";
                return Status::ok();
            }
            auto capture = conditions::capture_worktree(*root, {}, redactor());
            std::map<std::string, std::string> contents(capture.contents.begin(),
                                                        capture.contents.end());
            m_cwd = conditions::condition_path(here, root);
            return materialize(
                capture.metadata,
                [&](const std::string& digest) {
                    auto it = contents.find(digest);
                    return it == contents.end() ? std::optional<std::string>() : it->second;
                },
                "the program --command drives, as its work tree is now");
        }
        if (!metadata.contains("worktree")) {
            m_sum.code_note =
                code.contains("git")
                    ? "left out: the run was recorded without its work tree's changes"
                    : "left out: the run was not recorded in a git work tree (the receiving "
                      "machine runs its own copy)";
            return Status::ok();
        }
        return materialize(
            metadata["worktree"],
            [this](const std::string& digest) -> std::optional<std::string> {
                auto blob = m_store.get_blob(digest);
                return blob && *blob ? **blob : std::optional<std::string>();
            },
            "the work tree as it was recorded");
    }

    core::Redactor redactor() const { return core::Redactor::from_environment(m_envp); }

    Status materialize(const Json& worktree,
                       const std::function<std::optional<std::string>(const std::string&)>& blob,
                       const std::string& what) {
        auto done = conditions::materialize_worktree(worktree, blob, m_sum.dir / bundle::k_code,
                                                     redactor());
        if (!done) {
            std::error_code ec;
            fs::remove_all(m_sum.dir / bundle::k_code, ec);
            m_sum.code_note = "left out: " + done.status().message();
            return Status::ok();
        }
        m_sum.code = true;
        m_sum.left_out = done->left_out;
        m_root = worktree.value("root", "");
        Json commit = worktree.value("commit", Json());
        std::ostringstream note;
        note << what << ", " << done->files << " file(s), " << done->bytes << " bytes: commit "
             << (commit.is_string() ? commit.get<std::string>() : std::string("(none)"));
        std::size_t changed = worktree.value("files", Json::array()).size(),
                    deleted = worktree.value("deleted", Json::array()).size();
        if (changed || deleted)
            note << " with " << changed << " changed and " << deleted
                 << " deleted file(s) not committed";
        m_sum.code_note = note.str();
        return Status::ok();
    }

    std::string readme() {
        std::ostringstream r;
        std::string name = m_failed.name ? *m_failed.name : m_failed.id;
        r << "# Reproduction: " << name << " (run " << m_failed.id << ")\n\n";
        r << "## What failed\n\n";
        if (m_o.oracle.empty())
            r << "The run exited " << m_failed.exit_code.value_or(0)
              << ", the failure judged by its exit code. What it printed:\n\n";
        else
            r << "The oracle `" << m_o.oracle << "` judged the run failed; it exited "
              << m_failed.exit_code.value_or(0) << ". What it printed:\n\n";
        std::string out = failed_stdout();
        std::istringstream lines(out.size() > 2000 ? out.substr(0, 2000) + "\n..." : out);
        for (std::string line; std::getline(lines, line);) r << "    " << line << "\n";
        r << "\n## Steps to reproduce\n\n    ./reproduce\n\n";
        r << "It needs `retrace` on PATH (or `RETRACE=/path/to/retrace`). It checks the digest of "
             "every file of this bundle, compares this machine with the one the run was "
             "recorded on (differences are printed; `--strict` makes them fatal), and replays "
             "the run "
          << m_out.k
          << " times in a fresh scratch directory, nothing reaching the network and no real "
             "tool called, printing `reproduced K/K`. `retrace repro check DIR` does the same.\n\n";
        if (m_o.command.empty())
            r << "The recorded command: `" << shell_line(command()) << "`";
        else
            r << "The program driven (`--command`, the run was recorded by the gateway): `"
              << m_o.command << "`";
        if (m_sum.code) r << ", run in `code/" << (m_cwd == "." ? "" : m_cwd) << "`";
        r << ".\n\n";
        r << "## Cause\n\n";
        if (m_out.proven()) {
            for (std::size_t i : m_out.cause) {
                const auto& d = m_out.differences[i];
                r << "- " << d.label();
                if (d.what == Difference::What::answer)
                    r << " (the passing run's #" << d.passing_seq << ")";
                r << "\n";
                for (const auto& c : d.changes)
                    r << "  - `" << c.path << "`: `" << c.before << "` (passing) -> `" << c.after
                      << "` (failed)\n";
            }
            r << "\nProof: the passing run " << *m_out.passed_id
              << " with only this applied failed " << m_out.proof_applied_fails << "/" << m_out.k
              << "; the failed run with only this reverted passed " << m_out.proof_reverted_passes
              << "/" << m_out.k << ". ";
            if (m_out.differences.size() == 1) {
                r << "It was the only difference between the two runs.\n\n";
            } else {
                r << "Among " << m_out.differences.size() << " differences between the two runs, "
                  << m_out.isolation->tests << " test replays isolated it";
                if (m_out.isolation->unresolved)
                    r << " (" << m_out.isolation->unresolved << " unresolved)";
                r << ".\n\n";
            }
        } else if (!m_out.not_isolated.empty()) {
            r << "Not isolated: " << m_out.not_isolated << "\n\n";
        }
        r << "## Conditions that matter\n\n";
        auto line = [&](const char* what, const Json& value) {
            if (value.is_null() || (value.is_object() && value.empty())) return;
            r << "- " << what << ": `" << value.dump() << "`\n";
        };
        line("models", m_conditions.value("models", Json::object()));
        line("backend", m_conditions.value("backend", Json::object()));
        line("system prompts", m_conditions.value("prompts", Json::object()));
        line("tools", m_conditions.value("tools", Json::object()));
        line("data", m_conditions.value("data", Json::object()));
        line("params", m_conditions.value("params", Json::object()));
        Json environment =
            bundle::comparable_environment(m_conditions.value("env", Json::object()));
        if (environment["software"].contains("python_packages")) {
            std::size_t n = environment["software"]["python_packages"].size();
            environment["software"]["python_packages"] =
                std::to_string(n) + " (manifest.json lists them)";
        }
        line("environment", environment);
        line("variables", m_conditions.value("env", Json::object()).value("vars", Json::object()));
        r << "\n## Identity\n\n";
        r << "- failed run: " << m_failed.id << ", record digest "
          << m_failed.record_digest.value_or("") << ", conditions digest "
          << m_failed.conditions_digest << "\n";
        if (m_passed)
            r << "- passing run: " << m_passed->id << ", record digest "
              << m_passed->record_digest.value_or("") << "\n";
        r << "\nTo verify: `sha256sum -c manifest.json.sha256` checks the manifest, which holds "
             "the digest of every other file; `retrace unpack runs.pack` then `retrace verify "
          << m_failed.id << "` checks the run's events against its record digest.\n";
        r << "\n## Program\n\n" << (m_sum.code ? "`code/`: " : "") << m_sum.code_note << ".\n";
        if (!m_sum.left_out.empty()) {
            r << "\nLeft out of `code/`:\n\n";
            for (const auto& [path, why] : m_sum.left_out)
                r << "- `" << path << "`: " << why << "\n";
        }
        return r.str();
    }

    std::string failed_stdout() const {
        auto events = m_store.events(m_failed.id);
        if (!events) return "";
        for (const auto& e : *events)
            if (e.event.kind == core::EventKind::process)
                return store::blob_text(
                    m_store, trace::ProcessRecord::from_attrs(e.event.attrs).stdout_digest);
        return "";
    }

    std::vector<std::string> command() const {
        if (!m_o.command.empty()) return {"/bin/sh", "-c", m_o.command};
        Json argv = m_conditions.value("code", Json::object()).value("argv", Json::array());
        std::vector<std::string> out;
        for (const auto& a : argv)
            if (a.is_string()) out.push_back(a.get<std::string>());
        return out;
    }

    Status write_manifest() {
        Json cause = Json::array();
        if (m_out.proven())
            for (std::size_t i : m_out.cause) {
                Json d = m_out.differences[i].to_json();
                d["label"] = m_out.differences[i].label();
                cause.push_back(d);
            }
        Json rates = {
            {"validate", {{"replays", m_out.k}, {"failed_as_recorded", m_out.reproduced}}}};
        if (m_out.isolation) {
            rates["isolate"] = {{"differences", m_out.differences.size()},
                                {"tests", m_out.isolation->tests},
                                {"unresolved", m_out.isolation->unresolved}};
            rates["proof"] = {{"cause_applied_fails", m_out.proof_applied_fails},
                              {"cause_reverted_passes", m_out.proof_reverted_passes},
                              {"of", m_out.k}};
        }
        Json code = {{"included", m_sum.code}, {"note", m_sum.code_note}};
        if (m_sum.code) {
            code["root"] = m_root;
            code["cwd"] = m_cwd;
            code["git"] = m_conditions.value("code", Json::object()).value("git", Json());
            Json left = Json::array();
            for (const auto& [path, why] : m_sum.left_out)
                left.push_back({{"path", path}, {"reason", why}});
            code["left_out"] = left;
        }
        Json oracle = m_o.oracle.empty() ? Json{{"exit_code", m_failed.exit_code.value_or(0)}}
                                         : Json{{"command", m_o.oracle}};
        RETRACE_ASSIGN(auto files, bundle::file_digests(m_sum.dir));
        Json file_json = Json::object();
        for (const auto& [path, digest] : files) file_json[path] = digest;
        Json manifest = {
            {"format", k_bundle_format},
            {"created", core::rfc3339(core::unix_now_ns())},
            {"source",
             {{"run", m_failed.id},
              {"name", m_failed.name ? Json(*m_failed.name) : Json()},
              {"record_digest", m_failed.record_digest.value_or("")},
              {"conditions_digest", m_failed.conditions_digest}}},
            {"passing", m_passed ? Json{{"run", m_passed->id},
                                        {"record_digest", m_passed->record_digest.value_or("")}}
                                 : Json()},
            {"command", command()},
            {"drive", m_o.command.empty() ? Json() : Json(m_o.command)},
            {"oracle", oracle},
            {"k", m_out.k},
            {"rates", rates},
            {"cause", cause},
            {"not_isolated", m_out.not_isolated.empty() ? Json() : Json(m_out.not_isolated)},
            {"environment",
             bundle::comparable_environment(m_conditions.value("env", Json::object()))},
            {"code", code},
            {"runs", m_runs},
            {"proof_runs", m_out.proof_runs},
            {"files", file_json}};
        std::string text = manifest.dump(2) + "\n";
        RETRACE_TRY(bundle::write_all(m_sum.dir / bundle::k_manifest, text));
        RETRACE_TRY(bundle::write_all(m_sum.dir / bundle::k_manifest_digest,
                                      core::Digest::of(text).hex() + "  manifest.json\n"));
        m_sum.files = static_cast<int>(files.size()) + 2;
        m_sum.bytes = static_cast<long long>(text.size());
        std::error_code ec;
        for (const auto& [path, _] : files)
            m_sum.bytes += static_cast<long long>(fs::file_size(m_sum.dir / path, ec));
        return Status::ok();
    }

    Status write_archive() {
        fs::path archive = fs::absolute(*m_b.archive);
        std::error_code ec;
        fs::create_directories(archive.parent_path(), ec);
        fs::path tmp = archive.string() + ".partial";
        auto result = run_child({"tar", "-czf", tmp.string(), "-C",
                                 m_sum.dir.parent_path().string(), m_sum.dir.filename().string()},
                                env_strings(m_envp), false);
        if (!result || result->exit_code != 0) {
            fs::remove(tmp, ec);
            return error(ErrorCode::io, "cannot write " + archive.string() + ": tar failed");
        }
        fs::rename(tmp, archive, ec);
        if (ec)
            return error(ErrorCode::io, "cannot write " + archive.string() + ": " + ec.message());
        m_sum.archive = archive;
        return Status::ok();
    }

    const ReproOutcome& m_out;
    const ReproOptions& m_o;
    const BundleOptions& m_b;
    store::Store& m_store;
    char** m_envp;
    BundleSummary m_sum;
    store::RunRow m_failed;
    std::optional<store::RunRow> m_passed;
    Json m_conditions;
    std::vector<std::string> m_runs;
    std::string m_root;
    std::string m_cwd = ".";
};

}  // namespace

Result<BundleSummary> write_bundle(const ReproOutcome& outcome, const ReproOptions& options,
                                   const BundleOptions& bundle, store::Store& store, char** envp) {
    if (!bundle.dir && !bundle.archive)
        return error(ErrorCode::invalid_input, "a bundle needs -o DIR or --archive FILE");
    return Writer(outcome, options, bundle, store, envp).write();
}

}  // namespace retrace::run
