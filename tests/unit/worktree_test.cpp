// The work tree a bundle carries: its changes captured at record time, and
// the tree rebuilt from the commit with them laid over it, without
// credentials and within bounds.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>

#include "retrace/conditions/worktree.hpp"
#include "retrace/core/digest.hpp"
#include "test_support.hpp"

namespace retrace {
namespace {

namespace fs = std::filesystem;
using conditions::capture_worktree;
using conditions::credential_file_name;
using conditions::materialize_worktree;
using conditions::WorktreeLimits;
using core::Json;

class Worktree : public ::testing::Test {
  protected:
    void SetUp() override {
        git("init -q -b main .");
        test::write_file(root() / "app.py", "print('committed')\n");
        test::write_file(root() / "lib/util.py", "X = 1\n");
        test::write_file(root() / "gone.py", "old\n");
        test::write_file(root() / ".gitignore", "ignored/\n");
        git("add .");
        git("commit -q -m first");
    }
    fs::path root() const { return m_dir.path() / "repo"; }
    void git(const std::string& args) {
        fs::create_directories(root());
        std::string cmd = "cd '" + root().string() + "' && git -c user.name=t -c user.email=t@t " +
                          args + " >/dev/null 2>&1";
        ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    }
    // The tree rebuilt from a capture, into dest: relative path -> content.
    std::map<std::string, std::string> rebuild(
        const conditions::WorktreeCapture& c, const fs::path& dest,
        std::vector<std::pair<std::string, std::string>>* left_out = nullptr,
        const WorktreeLimits& limits = {}) {
        std::map<std::string, std::string> blobs(c.contents.begin(), c.contents.end());
        auto done = materialize_worktree(
            c.metadata,
            [&](const std::string& d) -> std::optional<std::string> {
                auto it = blobs.find(d);
                return it == blobs.end() ? std::nullopt : std::optional<std::string>(it->second);
            },
            dest, core::Redactor(), limits);
        EXPECT_TRUE(done) << done.status().message();
        std::map<std::string, std::string> out;
        if (!done) return out;
        if (left_out) *left_out = done->left_out;
        for (const auto& e : fs::recursive_directory_iterator(dest))
            if (e.is_regular_file())
                out[e.path().lexically_relative(dest).generic_string()] = test::read_file(e.path());
        return out;
    }
    test::TempDir m_dir;
};

TEST_F(Worktree, CleanTreeKeepsOnlyTheCommit) {
    auto c = capture_worktree(root(), {}, core::Redactor());
    EXPECT_EQ(c.metadata["commit"].get<std::string>().size(), 40u);
    EXPECT_EQ(c.metadata["root"], root().string());
    EXPECT_TRUE(c.metadata["files"].empty());
    EXPECT_TRUE(c.contents.empty());
    auto tree = rebuild(c, m_dir.path() / "out");
    EXPECT_EQ(tree.size(), 4u);
    EXPECT_EQ(tree["app.py"], "print('committed')\n");
}

TEST_F(Worktree, ChangedUntrackedAndDeletedFilesAreRebuiltAsTheyWere) {
    test::write_file(root() / "app.py", "print('changed')\n");
    test::write_file(root() / "new/helper.py", "Y = 2\n");
    test::write_file(root() / "ignored/cache.bin", "not wanted\n");
    fs::remove(root() / "gone.py");
    fs::permissions(root() / "new/helper.py", fs::perms::owner_exec, fs::perm_options::add);
    auto c = capture_worktree(root(), {}, core::Redactor());
    EXPECT_EQ(c.metadata["files"].size(), 2u);
    EXPECT_EQ(c.metadata["deleted"], Json::array({"gone.py"}));
    // What happens to the work tree afterwards does not change the capture.
    test::write_file(root() / "app.py", "print('later')\n");
    auto tree = rebuild(c, m_dir.path() / "out");
    EXPECT_EQ(tree["app.py"], "print('changed')\n");
    EXPECT_EQ(tree["new/helper.py"], "Y = 2\n");
    EXPECT_EQ(tree["lib/util.py"], "X = 1\n");
    EXPECT_FALSE(tree.count("gone.py"));
    EXPECT_FALSE(tree.count("ignored/cache.bin"));
    auto perms = fs::status(m_dir.path() / "out/new/helper.py").permissions();
    EXPECT_NE(perms & fs::perms::owner_exec, fs::perms::none);
}

TEST_F(Worktree, CredentialsAndOversizedFilesAreLeftOutAndSaidSo) {
    core::Redactor redactor;
    redactor.add_secret("hunter2-the-password");
    test::write_file(root() / ".env", "PASSWORD=x\n");
    test::write_file(root() / "notes.txt", "login with hunter2-the-password\n");
    test::write_file(root() / "key.txt", "sk-proj-abcdefghijklmnopqrstuvwxyz012345\n");
    test::write_file(root() / "big.dat", std::string(2000, 'x'));
    test::write_file(root() / "ok.txt", "fine\n");
    WorktreeLimits limits;
    limits.max_file = 1000;
    auto c = capture_worktree(root(), {}, redactor, limits);
    std::map<std::string, std::string> left;
    for (const auto& l : c.metadata["left_out"]) left[l["path"]] = l["reason"];
    EXPECT_EQ(left[".env"], "its name says it holds a credential");
    EXPECT_EQ(left["notes.txt"], "it holds a credential");
    EXPECT_EQ(left["key.txt"], "it holds a credential");
    EXPECT_EQ(left["big.dat"], "larger than 1000 bytes");
    ASSERT_EQ(c.metadata["files"].size(), 1u);  // (control: ok.txt is kept)
    EXPECT_EQ(c.metadata["files"][0]["path"], "ok.txt");
    for (const auto& [digest, bytes] : c.contents)
        EXPECT_EQ(bytes.find("hunter2"), std::string::npos);
}

TEST_F(Worktree, ACommittedCredentialIsNotRebuilt) {
    test::write_file(root() / "config/prod.pem", "-----BEGIN PRIVATE KEY-----\n");
    test::write_file(root() / "settings.py", "KEY = 'sk-proj-abcdefghijklmnopqrstuvwxyz012345'\n");
    git("add .");
    git("commit -q -m oops");
    auto c = capture_worktree(root(), {}, core::Redactor());
    std::vector<std::pair<std::string, std::string>> left;
    auto tree = rebuild(c, m_dir.path() / "out", &left);
    EXPECT_FALSE(tree.count("config/prod.pem"));
    EXPECT_FALSE(tree.count("settings.py"));
    EXPECT_TRUE(tree.count("app.py"));
    EXPECT_EQ(left.size(), 2u);
}

TEST_F(Worktree, ACleanTreeKnownFromTheCodeConditionRebuildsTheSame) {
    auto captured = capture_worktree(root(), {}, core::Redactor());
    auto known = conditions::clean_worktree(root(), captured.metadata["commit"]);
    EXPECT_EQ(known.metadata, captured.metadata);
}

TEST_F(Worktree, ManyFilesLeftOutAreCountedNotAllListed) {
    for (int i = 0; i < 150; ++i) test::write_file(root() / fmt::format("k{}.pem", i), "x");
    auto c = capture_worktree(root(), {}, core::Redactor());
    ASSERT_EQ(c.metadata["left_out"].size(), 101u);
    EXPECT_EQ(c.metadata["left_out"][100]["reason"], "50 more file(s) left out, not listed");
}

TEST_F(Worktree, DeclaredInputsAreNotPartOfIt) {
    test::write_file(root() / "data/train.csv", "a,b\n");
    test::write_file(root() / "run.py", "print(1)\n");
    auto c = capture_worktree(root(), {(root() / "data").string()}, core::Redactor());
    ASSERT_EQ(c.metadata["files"].size(), 1u);
    EXPECT_EQ(c.metadata["files"][0]["path"], "run.py");
}

TEST_F(Worktree, AMissingCommitOrATamperedBlobIsAnError) {
    test::write_file(root() / "app.py", "print('changed')\n");
    auto c = capture_worktree(root(), {}, core::Redactor());
    auto none = [](const std::string&) { return std::optional<std::string>(); };
    auto missing = materialize_worktree(c.metadata, none, m_dir.path() / "a", core::Redactor());
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.status().code(), ErrorCode::corrupt);
    Json gone = c.metadata;
    gone["commit"] = std::string(40, 'a');
    auto no_commit = materialize_worktree(gone, none, m_dir.path() / "b", core::Redactor());
    ASSERT_FALSE(no_commit);
    EXPECT_EQ(no_commit.status().code(), ErrorCode::not_found);
    Json escape = c.metadata;
    escape["files"][0]["path"] = "../outside.py";
    auto unsafe = materialize_worktree(
        escape,
        [&](const std::string&) { return std::optional<std::string>(c.contents[0].second); },
        m_dir.path() / "c", core::Redactor());
    ASSERT_FALSE(unsafe);
    EXPECT_FALSE(fs::exists(m_dir.path() / "outside.py"));
}

TEST(CredentialFileName, NamesThatSayTheyHoldOne) {
    for (const char* yes : {".env", "sub/.env.production", "id_rsa", "server.pem", "a/b/tls.key",
                            ".netrc", "credentials.json", ".npmrc"})
        EXPECT_TRUE(credential_file_name(yes)) << yes;
    for (const char* no : {"env.py", ".env.example", "keys.py", "README.md", "monkey.txt"})
        EXPECT_FALSE(credential_file_name(no)) << no;
}

}  // namespace
}  // namespace retrace
