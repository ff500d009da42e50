// Sealed text (core/sealed_text.hpp): read back under the secret and the
// purpose it was sealed with, and under nothing else.
#include "retrace/core/sealed_text.hpp"

#include <gtest/gtest.h>

namespace retrace::core {
namespace {

TEST(SealedText, OpensUnderItsSecretAndPurposeOnly) {
    std::string sealed = seal_text("store secret", "redact patterns", R"(["sk-live-[0-9]+"])");
    EXPECT_TRUE(sealed.starts_with("aes-256-gcm:"));
    EXPECT_EQ(sealed.find("sk-live"), std::string::npos);
    auto opened = open_sealed("store secret", "redact patterns", sealed);
    ASSERT_TRUE(opened) << opened.status().message();
    EXPECT_EQ(*opened, R"(["sk-live-[0-9]+"])");
    EXPECT_NE(seal_text("store secret", "redact patterns", "x"),
              seal_text("store secret", "redact patterns", "x"))
        << "a fresh nonce each time";
    EXPECT_FALSE(open_sealed("another store", "redact patterns", sealed));
    EXPECT_FALSE(open_sealed("store secret", "something else", sealed));
    std::string changed = sealed;
    changed.back() = changed.back() == '0' ? '1' : '0';
    EXPECT_FALSE(open_sealed("store secret", "redact patterns", changed));
    EXPECT_FALSE(open_sealed("store secret", "redact patterns", "aes-256-gcm:zz"));
    EXPECT_FALSE(open_sealed("store secret", "redact patterns", "plain"));
    auto empty = open_sealed("k", "p", seal_text("k", "p", ""));
    ASSERT_TRUE(empty);
    EXPECT_EQ(*empty, "");
}

}  // namespace
}  // namespace retrace::core
