#include "retrace/replay/cassette.hpp"

#include <gtest/gtest.h>

#include "retrace/core/run_id.hpp"
#include "retrace/store/run_writer.hpp"
#include "retrace/store/sqlite.hpp"
#include "retrace/trace/exchange.hpp"
#include "test_support.hpp"

namespace retrace::replay {

namespace {

using core::Json;

struct Exchange {
    std::string path, request, response;
    Json extra_attrs = Json::object();
};

class CassetteTest : public ::testing::Test {
  protected:
    void SetUp() override {
        auto s = store::open_sqlite_store(m_dir.path() / "store", true);
        ASSERT_TRUE(s) << s.status().message();
        m_store = std::move(s).value();
        m_secret = m_store->secret().value();
    }

    // Records a run of llm exchanges on the openai route, in order.
    std::string record(const std::vector<Exchange>& exchanges) {
        store::RunRow row = test::incomplete_run();
        auto writer = store::RunWriter::start(*m_store, row, {});
        EXPECT_TRUE(writer) << writer.status().message();
        for (const auto& x : exchanges) {
            core::Event e;
            e.seq = (*writer)->next_seq();
            e.kind = core::EventKind::llm;
            e.name = "POST " + x.path;
            e.start_ns = e.end_ns = row.started_ns;
            trace::Exchange recorded;
            recorded.route = "openai";
            recorded.method = "POST";
            recorded.path = x.path;
            recorded.response_headers = {{"content-type", "application/json"}};
            recorded.status = 200;
            recorded.chunks = {{0, x.response.size()}};
            e.attrs = recorded.to_attrs();
            e.attrs.update(x.extra_attrs);
            e.request = core::Digest::of(x.request).to_string();
            e.response = core::Digest::of(x.response).to_string();
            EXPECT_TRUE(
                (*writer)->complete(e, {{e.request, x.request}, {e.response, x.response}}).is_ok());
        }
        store::RunWriter::Seal seal;
        seal.metadata = {{"id", row.id}};
        seal.outcome = Json::object();
        EXPECT_TRUE((*writer)->seal(seal));
        return row.id;
    }

    std::unique_ptr<Cassette> load(const std::string& run, ReplayPolicy policy = {}) {
        auto c = Cassette::load(*m_store, run, m_secret, std::move(policy));
        EXPECT_TRUE(c) << c.status().message();
        return c ? std::move(c).value() : nullptr;
    }

    // The body of the answer x, as served.
    static std::string answer(Cassette& c, const RecordedExchange* x) {
        if (!x) return "(nothing)";
        auto body = c.body_of(*x);
        return body ? **body : "(error: " + body.status().message() + ")";
    }

    std::string digest(const Cassette& c, const std::string& path, const std::string& body) {
        return c.digest_of({"POST", "openai", path, "", {}, body});
    }

    test::TempDir m_dir;
    std::unique_ptr<store::Store> m_store;
    std::string m_secret;
};

TEST_F(CassetteTest, RepeatedRequestsGetTheirAnswersInRecordedOrder) {
    auto run = record({{"/chat/completions", R"({"q":1})", "first"},
                       {"/chat/completions", R"({"q":2})", "other"},
                       {"/chat/completions", R"({ "q" : 1 })", "second"}});
    auto c = load(run);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->size(), 3u);
    auto d = digest(*c, "/chat/completions", R"({"q":1})");
    EXPECT_EQ(answer(*c, c->take(d)), "first");
    EXPECT_EQ(c->unused().size(), 2u);
    EXPECT_EQ(answer(*c, c->take(d)), "second");
    EXPECT_EQ(c->take(d), nullptr) << "an exhausted queue diverges";
    auto div = c->diverge({"POST", "openai", "/chat/completions", "", {}, R"({"q":1})"}, d);
    EXPECT_NE(div.reason.find("were all used"), std::string::npos);
    EXPECT_EQ(div.nearest, 3);
    ASSERT_EQ(c->unused().size(), 1u);
    EXPECT_EQ(c->unused()[0].substr(0, 3), "#2 ");
    EXPECT_EQ(c->divergences().size(), 1u);
}

TEST_F(CassetteTest, ReuseRepeatsTheLastAnswer) {
    auto run = record(
        {{"/chat/completions", R"({"q":1})", "a"}, {"/chat/completions", R"({"q":1})", "b"}});
    ReplayPolicy policy;
    policy.reuse = true;
    auto c = load(run, policy);
    auto d = digest(*c, "/chat/completions", R"({"q":1})");
    EXPECT_EQ(answer(*c, c->take(d)), "a");
    EXPECT_EQ(answer(*c, c->take(d)), "b");
    EXPECT_EQ(answer(*c, c->take(d)), "b");
    EXPECT_TRUE(c->unused().empty());
}

TEST_F(CassetteTest, NearestRequestAndDiff) {
    auto run = record({{"/chat/completions", R"({"model":"m","messages":[{"content":"hi"}]})", "x"},
                       {"/chat/completions", R"({"model":"n","messages":[{"content":"yo"}]})", "y"},
                       {"/embeddings", R"({"model":"m","input":"hi"})", "z"}});
    auto c = load(run);
    std::string body = R"({"model":"m","messages":[{"content":"hello"}]})";
    auto d = digest(*c, "/chat/completions", body);
    EXPECT_EQ(c->take(d), nullptr);
    auto div = c->diverge({"POST", "openai", "/chat/completions", "", {}, body}, d);
    EXPECT_EQ(div.nearest, 1);
    ASSERT_EQ(div.diff.size(), 1u);
    EXPECT_EQ(div.diff[0].path, "$.messages[0].content");
    EXPECT_EQ(div.diff[0].after, "\"hello\"");
    // Nothing recorded on that path at all.
    auto none = c->diverge({"POST", "openai", "/responses", "", {}, "{}"}, "x");
    EXPECT_FALSE(none.nearest);
    EXPECT_NE(none.reason.find("no request to POST /openai/responses"), std::string::npos);
}

TEST_F(CassetteTest, IgnoredFieldsMatchAndUntilLimitsTheCassette) {
    auto run = record({{"/chat/completions", R"({"q":1,"user":"t1"})", "a"},
                       {"/chat/completions", R"({"q":2,"user":"t2"})", "b"}});
    ReplayPolicy policy;
    policy.ignore.push_back(core::JsonPath::parse("$.user").value());
    policy.until = 1;
    auto c = load(run, policy);
    EXPECT_EQ(c->size(), 1u);
    EXPECT_EQ(answer(*c, c->take(digest(*c, "/chat/completions", R"({"q":1,"user":"t9"})"))), "a");
    EXPECT_EQ(c->take(digest(*c, "/chat/completions", R"({"q":2,"user":"t2"})")), nullptr)
        << "event 2 is past --until";
}

TEST_F(CassetteTest, OverrideReplacesAnAnswerAndKeepsStreamFraming) {
    auto run = record(
        {{"/chat/completions", R"({"q":1})", "old"}, {"/chat/completions", R"({"q":2})", "old2"}});
    ReplayPolicy policy;
    policy.overrides[2] = "data: {\"a\":1}\n\ndata: [DONE]\n\n";
    auto c = load(run, policy);
    const auto* x = c->take(digest(*c, "/chat/completions", R"({"q":2})"));
    ASSERT_TRUE(x);
    EXPECT_EQ(answer(*c, x), policy.overrides[2]);
    ASSERT_EQ(x->chunks.size(), 2u) << "one chunk per event";
    EXPECT_EQ(x->chunks[0].second, 15u);
    ReplayPolicy missing;
    missing.overrides[7] = "x";
    auto bad = Cassette::load(*m_store, run, m_secret, missing);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.status().message().find("--override 7"), std::string::npos);
}

TEST_F(CassetteTest, RedactedBodiesMatchByTheirStoredDigest) {
    // The stored body was redacted; the digest taken before redaction was stored.
    std::string original = R"({"q":"secret-value-123"})";
    std::string match =
        core::match_digest(m_secret, {"POST", "openai", "/chat/completions", "", {}, original}, {});
    auto run = record({{"/chat/completions",
                        R"({"q":"[REDACTED]"})",
                        "a",
                        {{"request_redacted", true}, {"match", match}}}});
    auto c = load(run);
    EXPECT_EQ(answer(*c, c->take(digest(*c, "/chat/completions", original))), "a");
}

TEST_F(CassetteTest, ManyDistinctExchangesEachFindTheirOwnAnswer) {
    std::vector<Exchange> many;
    for (int i = 0; i < 20000; ++i)
        many.push_back({"/embeddings", "{\"input\":" + std::to_string(i) + "}", std::to_string(i)});
    auto c = load(record(many));
    ASSERT_EQ(c->size(), 20000u);
    for (int i : {0, 4242, 19999})
        EXPECT_EQ(
            answer(*c, c->take(digest(*c, "/embeddings", "{\"input\":" + std::to_string(i) + "}"))),
            std::to_string(i));
    EXPECT_EQ(c->unused().size(), 19997u);
}

TEST_F(CassetteTest, AnswersAreReadWhenServedAndTheMostRecentAreKeptUpToABound) {
    std::string a(1000, 'a'), b(1000, 'b'), c3(1000, 'c');
    auto run = record({{"/embeddings", R"({"i":1})", a},
                       {"/embeddings", R"({"i":2})", b},
                       {"/embeddings", R"({"i":3})", c3}});
    ReplayPolicy policy;
    policy.reuse = true;
    policy.answer_cache_bytes = 2500;
    auto c = load(run, policy);
    auto da = digest(*c, "/embeddings", R"({"i":1})");
    auto db = digest(*c, "/embeddings", R"({"i":2})");
    auto dc = digest(*c, "/embeddings", R"({"i":3})");
    EXPECT_EQ(c->cached_answer_bytes(), 0u) << "nothing is read before it is served";
    EXPECT_EQ(answer(*c, c->take(da)), a);
    EXPECT_EQ(answer(*c, c->take(db)), b);
    EXPECT_EQ(c->cached_answer_bytes(), 2000u);
    EXPECT_EQ(answer(*c, c->take(dc)), c3);
    EXPECT_EQ(c->cached_answer_bytes(), 2000u) << "the least recently served made room";
    EXPECT_EQ(answer(*c, c->take(da)), a) << "read again once it was let go";
    EXPECT_EQ(answer(*c, c->take(dc)), c3);
    EXPECT_EQ(c->cached_answer_bytes(), 2000u);

    policy.answer_cache_bytes = 999;  // smaller than any answer: none is kept
    auto small = load(run, policy);
    EXPECT_EQ(answer(*small, small->take(db)), b);
    EXPECT_EQ(small->cached_answer_bytes(), 0u);
}

TEST_F(CassetteTest, AnAnswerGoneFromTheStoreIsAnErrorAtItsServing) {
    auto run =
        record({{"/embeddings", R"({"i":1})", "kept"}, {"/embeddings", R"({"i":2})", "lost"}});
    auto db = store::Database::open((m_dir.path() / "store" / "retrace.db").string(), false);
    ASSERT_TRUE(db) << db.status().message();
    std::string lost = core::Digest::of("lost").to_string();
    ASSERT_TRUE(db->exec("DELETE FROM blobs WHERE digest='" + lost + "'").is_ok());
    // Bodies are not read at load: it loads, and serves what is there.
    auto c = load(run);
    ASSERT_TRUE(c);
    EXPECT_EQ(answer(*c, c->take(digest(*c, "/embeddings", R"({"i":1})"))), "kept");
    std::string served = answer(*c, c->take(digest(*c, "/embeddings", R"({"i":2})")));
    EXPECT_NE(served.find("(error: run " + run + " event 2: blob " + lost + " is missing"),
              std::string::npos)
        << served;
    ASSERT_EQ(c->divergences().size(), 1u);
    EXPECT_EQ(c->divergences()[0].request, "#2 POST /openai/embeddings");
    EXPECT_NE(c->divergences()[0].reason.find("cannot be read"), std::string::npos);
    // Not even referenced by the run any more: refused at load.
    ASSERT_TRUE(db->exec("DELETE FROM run_blobs WHERE digest='" + lost + "'").is_ok());
    auto refused = Cassette::load(*m_store, run, m_secret, {});
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.status().message().find("event 2: blob " + lost + " is missing"),
              std::string::npos)
        << refused.status().message();
}

}  // namespace
}  // namespace retrace::replay
