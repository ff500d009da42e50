#include <gtest/gtest.h>

#include "retrace/core/redact.hpp"

namespace retrace::core {
namespace {

TEST(Redaction, CredentialShapesAreRedacted) {
    Redactor r;
    EXPECT_EQ(r.redact("key sk-test-SECRET123 end"), "key [REDACTED] end");
    EXPECT_EQ(r.redact("sk-proj-abcdefghijklmnop"), "[REDACTED]");
    EXPECT_EQ(r.redact("x=sk-ant-api03-abcdefgh_ij"), "x=[REDACTED]");
    EXPECT_EQ(r.redact("Authorization: Bearer abc.def-ghi123"), "Authorization: Bearer [REDACTED]");
    EXPECT_EQ(r.redact("authorization: bearer abcdefghij"), "authorization: bearer [REDACTED]");
}

TEST(Redaction, OrdinaryWordsAreLeftAlone) {
    Redactor r;
    for (const char* s : {"task-manager-for-all", "risk-free", "sk-short", "ask-questions-always",
                          "a bearer of news", "desk-lamp-and-chair"})
        EXPECT_EQ(r.redact(s), s);
}

TEST(Redaction, KnownSecretValuesAreRedactedLongestFirst) {
    char a[] = "MY_TOKEN=tok-SECRET123-zz";
    char b[] = "DB_PASSWORD=hunter22";
    char c[] = "HOME=/root";
    char d[] = "API_KEY=short";  // under 6 characters: too short to redact safely
    char* env[] = {a, b, c, d, nullptr};
    Redactor r = Redactor::from_environment(env);
    EXPECT_EQ(r.redact("t=tok-SECRET123-zz p=hunter22 h=/root s=short"),
              "t=[REDACTED] p=[REDACTED] h=/root s=short");
    EXPECT_TRUE(r.contains_secret("xhunter22x"));
    EXPECT_FALSE(r.contains_secret("/root"));
}

TEST(Redaction, MatchesAreFoundAtEveryPosition) {
    // A secret starting with a byte no credential shape starts with, next to
    // other text, at the start and at the end, and the shapes after long
    // stretches of text that cannot start a match.
    char a[] = "X_TOKEN=#7hunter-x";
    char* env[] = {a, nullptr};
    Redactor r = Redactor::from_environment(env);
    std::string filler(300, 'q');
    EXPECT_EQ(r.redact("#7hunter-x" + filler + "#7hunter-x"), "[REDACTED]" + filler + "[REDACTED]");
    EXPECT_EQ(r.redact(filler + "Bearer abcdefghij"), filler + "Bearer [REDACTED]");
    EXPECT_EQ(r.redact(filler + "=sk-abcdefgh12"), filler + "=[REDACTED]");
    EXPECT_EQ(r.redact(filler + "qsk-abcdefgh12"), filler + "qsk-abcdefgh12");
    EXPECT_EQ(r.redact("#7hunter"), "#7hunter");
    EXPECT_EQ(r.redact(""), "");
}

TEST(Redaction, EveryOffsetAndCaseWithFewAndManyStartBytes) {
    // The scan for bytes that may start a match goes eight at a time when
    // there are few of them, byte by byte when there are many: each shape
    // at every offset around those eight-byte steps, in both cases, and
    // "Bearer" in any case.
    Redactor few;
    few.add_secret("%secret-one");
    Redactor many = few;
    for (std::string v : {"1aaaaaaa", "2bbbbbbb", "3ccccccc", "4ddddddd", "5eeeeeee", "6fffffff"})
        many.add_secret(v);
    for (const Redactor* r : {&few, &many}) {
        for (std::size_t pad = 0; pad < 20; ++pad) {
            std::string q(pad, 'q');
            EXPECT_EQ(r->redact(q + "%secret-one" + q), q + "[REDACTED]" + q) << pad;
            EXPECT_EQ(r->redact(q + " sk-abcdefgh12 "), q + " [REDACTED] ") << pad;
            EXPECT_EQ(r->redact(q + "BeArEr abcdefghij"), q + "BeArEr [REDACTED]") << pad;
            EXPECT_EQ(r->redact(q + "bearer_abcdefghij"), q + "bearer_abcdefghij") << pad;
        }
    }
    EXPECT_EQ(many.redact("x3cccccccx"), "x[REDACTED]x");
}

TEST(Redaction, SecretNames) {
    for (const char* n :
         {"OPENAI_API_KEY", "GITHUB_TOKEN", "client_secret", "PGPASSWORD", "AWS_CREDENTIALS"})
        EXPECT_TRUE(is_secret_name(n)) << n;
    for (const char* n : {"HOME", "PATH", "PYTHONHASHSEED", "LANG"})
        EXPECT_FALSE(is_secret_name(n)) << n;
}

}  // namespace
}  // namespace retrace::core
