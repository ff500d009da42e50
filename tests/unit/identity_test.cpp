// Pins the identity scheme: known-answer digests for fixed inputs live in
// tests/golden/identity.json. An accidental change to how anything is hashed
// fails here. After a deliberate scheme change, regenerate with
// UPDATE_GOLDEN=1 and say why in the commit.
#include <gtest/gtest.h>

#include <cstdlib>

#include "retrace/core/hasher.hpp"
#include "retrace/core/identity.hpp"
#include "retrace/core/run_id.hpp"
#include "test_support.hpp"

namespace retrace::core {
namespace {

Json sample_conditions() {
    return Json::parse(R"json({
      "code": {"argv": ["python3", "train.py"], "cwd": ".",
               "git": {"commit": "0123456789abcdef0123456789abcdef01234567", "branch": "main",
                       "dirty": false, "dirty_files": 0}},
      "env": {"machine": {"os": "Debian GNU/Linux 12 (bookworm)", "cpu": {"count": 2}}},
      "data": {"inputs": {"data/train.jsonl": {"digest": "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "kind": "file", "files": 1, "bytes": 3}}},
      "params": {"lr": "0.1"}
    })json");
}

Event sample_event() {
    Event e;
    e.seq = 1;
    e.kind = core::EventKind::process;
    e.name = "python3";
    e.start_ns = 1700000000000000000;
    e.end_ns = 1700000001000000000;
    e.attrs = {{"exit_code", 0}};
    return e;
}

Json compute_golden() {
    Json c = sample_conditions();
    auto id = identify_conditions(c);
    EXPECT_TRUE(id.is_ok());
    Json out = id->to_json();
    out["hasher_abc"] = TaggedHasher("retrace.test/1").field("a", "bc").digest().to_string();
    Digest genesis = chain_genesis("01JD0000000000000000000000");
    out["chain_genesis"] = genesis.to_string();
    auto link = chain_link(genesis, sample_event());
    out["chain_link"] = link->to_string();
    auto meta = json_digest(k_metadata_scheme, Json{{"id", "01JD0000000000000000000000"}});
    out["metadata"] = meta->to_string();
    out["record"] = record_digest({"01JD0000000000000000000000", id->digest, *meta, *link, 1,
                                   *json_digest(k_outcome_scheme, Json{{"exit_code", 0}})})
                        .to_string();
    return out;
}

TEST(Identity, GoldenDigestsArePinned) {
    std::filesystem::path golden =
        std::filesystem::path(RETRACE_SOURCE_DIR) / "tests" / "golden" / "identity.json";
    Json actual = compute_golden();
    if (std::getenv("UPDATE_GOLDEN")) {
        test::write_file(golden, actual.dump(2) + "\n");
        GTEST_SKIP() << "regenerated " << golden;
    }
    Json expected = Json::parse(test::read_file(golden));
    EXPECT_EQ(expected, actual) << "the identity scheme changed; see docs/identity.md";
}

TEST(Identity, HasherTextIsExactlyWhatIsHashed) {
    TaggedHasher h("retrace.test/1");
    h.field("a", "bc").field("n", 42LL);
    EXPECT_EQ(h.text(), "scheme 14\nretrace.test/1\na 2\nbc\nn 2\n42\n");
    EXPECT_EQ(h.digest(), Digest::of(h.text()));
}

TEST(Identity, FieldBoundariesCannotBlur) {
    auto a = TaggedHasher("s").field("x", "ab").field("y", "c").digest();
    auto b = TaggedHasher("s").field("x", "a").field("y", "bc").digest();
    EXPECT_NE(a, b);
}

TEST(Identity, ChangingOneSectionChangesOnlyThatSection) {
    Json a = sample_conditions();
    Json b = sample_conditions();
    b["params"]["lr"] = "0.2";
    auto ia = identify_conditions(a);
    auto ib = identify_conditions(b);
    ASSERT_TRUE(ia.is_ok() && ib.is_ok());
    EXPECT_NE(ia->digest, ib->digest);
    EXPECT_NE(ia->declared, ib->declared);
    EXPECT_EQ(ia->observed, ib->observed);
    for (const auto& [name, d] : ia->sections)
        EXPECT_EQ(name == "params", d != ib->sections.at(name)) << name;
}

TEST(Identity, ObservedChangeLeavesDeclaredAlone) {
    Json a = sample_conditions();
    Json b = sample_conditions();
    b["backend"] = {{"system_fingerprint", {"fp_2"}}};
    auto ia = identify_conditions(a);
    auto ib = identify_conditions(b);
    EXPECT_EQ(ia->declared, ib->declared);
    EXPECT_NE(ia->observed, ib->observed);
    EXPECT_NE(ia->digest, ib->digest);
}

TEST(Identity, KeyOrderDoesNotMatter) {
    Json a = Json::parse(R"({"params": {"a": "1", "b": "2"}})");
    Json b = Json::parse(R"({"params": {"b": "2", "a": "1"}})");
    EXPECT_EQ(identify_conditions(a)->digest, identify_conditions(b)->digest);
}

TEST(Identity, UnknownSectionIsRejected) {
    Json c = {{"weather", Json::object()}};
    auto r = identify_conditions(c);
    ASSERT_FALSE(r.is_ok());
    EXPECT_NE(r.status().message().find("weather"), std::string::npos);
}

TEST(Identity, ChainDependsOnEveryEventField) {
    Digest g = chain_genesis("R");
    Event e = sample_event();
    Digest base = *chain_link(g, e);
    Event changed = e;
    changed.attrs["exit_code"] = 1;
    EXPECT_NE(base, *chain_link(g, changed));
    changed = e;
    changed.end_ns += 1;
    EXPECT_NE(base, *chain_link(g, changed));
    EXPECT_NE(base, *chain_link(chain_genesis("S"), e));
}

TEST(RunId, SortsByTimeAndRoundTrips) {
    std::uint8_t zero[10] = {};
    std::uint8_t ones[10];
    std::fill(std::begin(ones), std::end(ones), 0xff);
    RunId a = RunId::make(1700000000000, ones);
    RunId b = RunId::make(1700000000001, zero);
    EXPECT_LT(a, b);
    EXPECT_EQ(a.str().size(), 26u);
    EXPECT_EQ(a.unix_ms(), 1700000000000u);
    EXPECT_TRUE(RunId::parse(a.str()).is_ok());
    EXPECT_FALSE(RunId::parse("not-a-run-id").is_ok());
    EXPECT_FALSE(RunId::parse("8ZZZZZZZZZZZZZZZZZZZZZZZZZ").is_ok());  // overflows 128 bits
    EXPECT_NE(RunId::generate(), RunId::generate());
}

TEST(Digest, ParsesOnlyWellFormedText) {
    auto d = Digest::of("abc");
    EXPECT_EQ(d.to_string(),
              "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(*Digest::parse(d.to_string()), d);
    EXPECT_FALSE(
        Digest::parse("sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD")
            .is_ok());
    EXPECT_FALSE(Digest::parse("sha1:abc").is_ok());
    EXPECT_FALSE(Digest::parse(d.to_string() + "0").is_ok());
}

TEST(Digest, HmacMatchesRfc4231WhateverKeyCameBefore) {
    // RFC 4231 test cases 2 and 6, alternating keys: a context keyed for
    // one key is never reused for another.
    std::string key6(131, '\xaa');
    std::string data6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    for (int round = 0; round < 3; ++round) {
        EXPECT_EQ(hmac_sha256("Jefe", "what do ya want for nothing?").hex(),
                  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        EXPECT_EQ(hmac_sha256(key6, data6).hex(),
                  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
        EXPECT_EQ(hmac_sha256(key6, data6).hex(),
                  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    }
    EXPECT_NE(hmac_sha256("", "x"), hmac_sha256("k", "x"));
}

}  // namespace
}  // namespace retrace::core
