// The code and env sections: git state, paths relative to the repository,
// redaction, lock files, variables.
#include <gtest/gtest.h>

#include <cstdlib>

#include "retrace/conditions/code.hpp"
#include "retrace/conditions/environment.hpp"
#include "retrace/core/digest.hpp"
#include "test_support.hpp"

namespace retrace::conditions {

namespace {

namespace fs = std::filesystem;
using core::Json;

class GitRepo : public ::testing::Test {
  protected:
    void SetUp() override {
        git("init -q -b main .");
        test::write_file(root() / "a.txt", "one\n");
        git("add a.txt");
        git("commit -q -m first");
    }
    fs::path root() const { return m_dir.path(); }
    void git(const std::string& args) {
        std::string cmd = "cd '" + root().string() + "' && git -c user.name=t -c user.email=t@t " +
                          args + " >/dev/null 2>&1";
        ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    }
    Json code(const fs::path& cwd = {}) {
        return capture_code({{"python3", "x.py"}, cwd.empty() ? root() : cwd}, core::Redactor());
    }
    test::TempDir m_dir;
};

TEST_F(GitRepo, RecordsCommitBranchAndClean) {
    Json c = code();
    EXPECT_EQ(c["cwd"], ".");
    EXPECT_EQ(c["git"]["branch"], "main");
    EXPECT_EQ(c["git"]["commit"].get<std::string>().size(), 40u);
    EXPECT_EQ(c["git"]["dirty"], false);
    EXPECT_FALSE(c["git"].contains("dirty_digest"));
}

TEST_F(GitRepo, DirtyTreeHasADigestThatTracksTheChange) {
    Json clean = code();
    test::write_file(root() / "a.txt", "two\n");
    Json dirty1 = code();
    EXPECT_EQ(dirty1["git"]["dirty"], true);
    EXPECT_EQ(dirty1["git"]["dirty_files"], 1);
    test::write_file(root() / "a.txt", "three\n");
    Json dirty2 = code();
    EXPECT_NE(dirty1["git"]["dirty_digest"], dirty2["git"]["dirty_digest"]);
    test::write_file(root() / "a.txt", "one\n");
    EXPECT_EQ(code(), clean);
}

TEST_F(GitRepo, UntrackedFilesDirtyButIgnoredFilesDoNot) {
    test::write_file(root() / ".gitignore", "ignored/\n");
    git("add .gitignore");
    git("commit -q -m ignore");
    test::write_file(root() / "ignored" / "x", "whatever");
    EXPECT_EQ(code()["git"]["dirty"], false);
    test::write_file(root() / "new.txt", "hello");
    Json a = code();
    EXPECT_EQ(a["git"]["dirty"], true);
    test::write_file(root() / "new.txt", "hellO");
    EXPECT_NE(code()["git"]["dirty_digest"], a["git"]["dirty_digest"]);
}

// A declared input belongs to `data` alone: a changed data file in the work
// tree read as "code and data differ".
TEST_F(GitRepo, DeclaredInputsLeaveTheCodeAsItWas) {
    test::write_file(root() / "data" / "d.csv", "a,b\n");
    git("add data");
    git("commit -q -m data");
    Json clean = code();
    auto with_inputs = [&](std::vector<std::string> inputs) {
        return capture_code({{"python3", "x.py"}, root(), std::move(inputs)}, core::Redactor());
    };
    test::write_file(root() / "data" / "d.csv", "a,b\n1,2\n");  // tracked, changed
    test::write_file(root() / "data" / "new.csv", "c\n");       // untracked
    test::write_file(root() / "extra.json", "{}");              // untracked
    // The control: undeclared, both make the tree dirty.
    EXPECT_EQ(code()["git"]["dirty_files"], 3);
    EXPECT_EQ(with_inputs({(root() / "data").string(), (root() / "extra.json").string()}), clean);
    Json one = with_inputs({(root() / "data" / "d.csv").string()});
    EXPECT_EQ(one["git"]["dirty_files"], 2);  // the other two still count
    // A change to the code itself still shows with inputs declared.
    test::write_file(root() / "a.txt", "two\n");
    EXPECT_EQ(with_inputs({(root() / "data").string(),
                           (root() / "extra.json").string()})["git"]["dirty_files"],
              1);
}

TEST_F(GitRepo, NewCommitChangesOnlyTheCommit) {
    Json a = code();
    git("commit -q --allow-empty -m second");
    Json b = code();
    EXPECT_NE(a["git"]["commit"], b["git"]["commit"]);
    a["git"].erase("commit");
    b["git"].erase("commit");
    EXPECT_EQ(a, b);
}

TEST_F(GitRepo, CwdIsRelativeToTheRepositoryRoot) {
    fs::create_directories(root() / "sub" / "dir");
    EXPECT_EQ(code(root() / "sub" / "dir")["cwd"], "sub/dir");
    EXPECT_EQ(condition_path(root() / "sub" / "dir" / "f.txt", root()), "sub/dir/f.txt");
    EXPECT_EQ(condition_path("/elsewhere/f.txt", root()), "/elsewhere/f.txt");
}

TEST(CaptureCode, OutsideARepositoryThereIsNoGit) {
    test::TempDir dir;
    Json c = capture_code({{"sh", "sk-test-SECRET123ABC"}, dir.path()}, core::Redactor());
    EXPECT_FALSE(c.contains("git"));
    EXPECT_EQ(c["argv"][1], "[REDACTED]");
    EXPECT_EQ(c["cwd"], dir.path().string());
}

TEST(CaptureEnv, LockfilesVarsAndMachine) {
    test::TempDir dir;
    test::write_file(dir.path() / "requirements.txt", "numpy==1.26.4\n");
    test::write_file(dir.path() / "README.md", "not a lock file");
    char a[] = "PYTHONHASHSEED=0";
    char b[] = "OPENAI_API_KEY=sk-test-abcdefghijkl";
    char c[] = "UNLISTED=1";
    char d[] = "EXTRA=sk-test-abcdefghijkl";
    char* env[] = {a, b, c, d, nullptr};
    Json e = capture_env({{"OPENAI_API_KEY", "EXTRA", "MISSING"}, dir.path(), env},
                         core::Redactor::from_environment(env));
    EXPECT_EQ(e["lockfiles"].size(), 1u);
    EXPECT_EQ(e["lockfiles"]["requirements.txt"], core::Digest::of("numpy==1.26.4\n").to_string());
    EXPECT_EQ(e["vars"]["PYTHONHASHSEED"], "0");
    EXPECT_EQ(e["vars"]["OPENAI_API_KEY"], "<present>");
    EXPECT_EQ(e["vars"]["EXTRA"], "[REDACTED]");
    EXPECT_TRUE(e["vars"]["MISSING"].is_null());
    EXPECT_FALSE(e["vars"].contains("UNLISTED"));
    EXPECT_GT(e["machine"]["cpu"]["count"].get<long long>(), 0);
    EXPECT_GT(e["machine"]["memory_bytes"].get<long long>(), 0);
    EXPECT_TRUE(e["software"].contains("python3"));
    // Stable on an unchanged machine: the same capture twice is equal.
    EXPECT_EQ(e, capture_env({{"OPENAI_API_KEY", "EXTRA", "MISSING"}, dir.path(), env},
                             core::Redactor::from_environment(env)));
}

}  // namespace
}  // namespace retrace::conditions
