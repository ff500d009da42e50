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
    for (const char* n : {"OPENAI_API_KEY", "GITHUB_TOKEN", "client_secret", "PGPASSWORD",
                          "AWS_CREDENTIALS", "API_PASS", "DB_AUTH", "SESSION_COOKIE"})
        EXPECT_TRUE(is_secret_name(n)) << n;
    for (const char* n : {"HOME", "PATH", "PYTHONHASHSEED", "LANG", "GIT_AUTHOR_NAME", "PASSAGE",
                          "PWD", "OLDPWD", "SSH_AUTH_SOCK"})
        EXPECT_FALSE(is_secret_name(n)) << n;
}

TEST(Redaction, TokenShapesBeyondProviderKeys) {
    Redactor r;
    const std::string gh = "ghp_" + std::string(36, 'a');
    const std::string pat = "github_pat_11ABCDEFG0" + std::string(40, 'x');
    const std::string jwt =
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_"
        "XgL0n3I9PlFUP0THsR8U";
    for (const std::string& secret :
         {gh, "gho_" + std::string(36, 'B'), pat, std::string("AKIAIOSFODNN7EXAMPLE"),
          std::string("ASIAIOSFODNN7EXAMPLE"), "AIza" + std::string(35, 'k'),
          std::string("xoxb-123456789012-abcdefghij"), jwt}) {
        EXPECT_EQ(r.redact("t=" + secret + ";"), "t=[REDACTED];") << secret;
        EXPECT_EQ(r.redact("\"" + secret + "\""), "\"[REDACTED]\"") << secret;
    }
    EXPECT_EQ(r.redact("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"),
              "aws_secret_access_key = [REDACTED]\n");
    EXPECT_EQ(r.redact("{\"AWS_SECRET_ACCESS_KEY\": \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"}"),
              "{\"AWS_SECRET_ACCESS_KEY\": \"[REDACTED]\"}");
    // The controls: near misses stay as they are.
    for (const char* s :
         {"ghp_short", "the ghost_of_a_chance", "AKIAshort", "AKIA1234", "AIzaShort", "xoxo-gossip",
          "eyJhbGciOiJIUzI1NiJ9 alone", "eyes.eyJ.x", "github_pat_short", "aws_secret_access_key",
          "aws_secret_access_key = tooshort", "AKIAIOSFODNN7EXAMPLEXX",
          "xghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})
        EXPECT_EQ(r.redact(s), s) << s;
}

TEST(Redaction, ASecretIsFoundAfterJsonEscapingAndUrlEncoding) {
    char a[] = "MY_SERVICE_TOKEN=Q\"uote\\back/\xc3\xa9 x";
    char* env[] = {a, nullptr};
    Redactor r = Redactor::from_environment(env);
    for (const char* form : {
             "Q\"uote\\back/\xc3\xa9 x",       // raw
             "Q\\\"uote\\\\back/\xc3\xa9 x",   // JSON (JavaScript, nlohmann)
             "Q\\\"uote\\\\back/\\u00e9 x",    // JSON, Python's ensure_ascii
             "Q\\\"uote\\\\back\\/\\u00e9 x",  // JSON with "\/"
             "Q%22uote%5Cback%2F%C3%A9%20x",   // percent-encoded
             "Q%22uote%5Cback%2F%C3%A9+x",     // form-encoded
         })
        EXPECT_EQ(r.redact(std::string("<") + form + ">"), "<[REDACTED]>") << form;
    // The control: the same text without the secret is left alone.
    EXPECT_EQ(r.redact("Q\\\"uote\\\\forth/\\u00e9"), "Q\\\"uote\\\\forth/\\u00e9");
}

TEST(Redaction, NamesThatHoldSecrets) {
    for (const char* h : {"authorization", "Proxy-Authorization", "cookie", "set-cookie",
                          "x-api-key", "api-key", "x-goog-api-key", "x-auth-token", "x-auth-email",
                          "x-amz-security-token", "x-csrf-token", "ocp-apim-subscription-key"})
        EXPECT_TRUE(is_secret_header(h)) << h;
    for (const char* h : {"content-type", "idempotency-key", "x-ratelimit-remaining-tokens",
                          "anthropic-ratelimit-tokens-limit", "openai-organization",
                          "x-stainless-retry-count", "x-request-id"})
        EXPECT_FALSE(is_secret_header(h)) << h;
    for (const char* p : {"key", "api-key", "api_key", "apikey", "access_token", "client_secret",
                          "password", "db-pass", "sig"})
        EXPECT_TRUE(is_secret_param(p)) << p;
    for (const char* p : {"max_tokens", "token_budget", "key_id", "model", "alt", "page"})
        EXPECT_FALSE(is_secret_param(p)) << p;

    EXPECT_EQ(redact_query("?alt=sse&key=AIzaSomething"), "?alt=sse&key=[REDACTED]");
    EXPECT_EQ(redact_query("?api-key=abc&api_version=2024-02-01"),
              "?api-key=[REDACTED]&api_version=2024-02-01");
    EXPECT_EQ(redact_query("?a=1&b&c=2"), "?a=1&b&c=2");
    EXPECT_EQ(redact_query(""), "");

    Redactor r;
    EXPECT_EQ(redact_argv(r, {"deploy", "--password=hunter4x", "--token", "hunter5x", "--verbose",
                              "--api-key", "--dry-run", "-p", "x", "--token-file=/etc/t",
                              "sk-abcdefgh1234"}),
              (std::vector<std::string>{"deploy", "--password=[REDACTED]", "--token", "[REDACTED]",
                                        "--verbose", "--api-key", "--dry-run", "-p", "x",
                                        "--token-file=/etc/t", "[REDACTED]"}));
}

}  // namespace
}  // namespace retrace::core
