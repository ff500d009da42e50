// Numbering requests and taking their answers (proxy/request_order.hpp),
// without a socket. A recording holds two identical requests its program
// sent at once, taken up by the proxy in the order opposite to the one the
// program wrote them in (the kernel's receive times say which came
// first), and a third sent after both were answered.
#include "retrace/proxy/request_order.hpp"

#include <gtest/gtest.h>

#include "retrace/replay/cassette.hpp"
#include "retrace/store/sqlite.hpp"
#include "retrace/trace/exchange.hpp"
#include "test_support.hpp"

namespace retrace::proxy {
namespace {

using core::Json;
constexpr const char* k_body = R"({"q":1})";

core::MatchRequest chat(std::string_view body = k_body) {
    return {"POST", "openai", "/chat/completions", "", {}, body};
}

class RequestOrderTest : public ::testing::Test {
  protected:
    void SetUp() override {
        auto s = store::open_sqlite_store(m_dir.path() / "store", true);
        ASSERT_TRUE(s) << s.status().message();
        m_store = std::move(s).value();
        m_secret = m_store->secret().value();
    }

    struct Recorded {
        const char* answer;
        std::optional<long long> received_ns;
        long long start_ns;
        long long header_us;
    };
    // A run of identical chat requests, in this order of numbering.
    std::string record(const std::vector<Recorded>& exchanges) {
        store::RunRow row = test::incomplete_run();
        auto writer = store::RunWriter::start(*m_store, row, {});
        EXPECT_TRUE(writer) << writer.status().message();
        for (const auto& r : exchanges) {
            core::Event e;
            e.seq = (*writer)->next_seq();
            e.kind = core::EventKind::llm;
            e.name = "POST /chat/completions";
            e.start_ns = r.start_ns;
            e.end_ns = r.start_ns + r.header_us * 1000 + 1000;
            trace::Exchange x;
            x.route = "openai";
            x.method = "POST";
            x.path = "/chat/completions";
            x.status = 200;
            x.chunks = {{r.header_us, std::string(r.answer).size()}};
            x.header_us = r.header_us;
            if (r.received_ns) x.received_ns_before = r.start_ns - *r.received_ns;
            e.attrs = x.to_attrs();
            e.request = core::Digest::of(k_body).to_string();
            e.response = core::Digest::of(r.answer).to_string();
            EXPECT_TRUE((*writer)->complete(e, {{e.request, k_body}, {e.response, r.answer}}));
        }
        store::RunWriter::Seal seal;
        seal.metadata = {{"id", row.id}};
        seal.outcome = Json::object();
        EXPECT_TRUE((*writer)->seal(seal));
        return row.id;
    }

    // The race: #1 was written 20 us after #2 but taken up first; both
    // were sent before either was answered (5 ms later). #3 came after.
    std::string twins() {
        return m_twins = record({{"written second", 1'000'020'000, 1'000'100'000, 5000},
                                 {"written first", 1'000'000'000, 1'000'110'000, 5000},
                                 {"sent after", 2'000'000'000, 2'000'010'000, 5000}});
    }

    std::unique_ptr<replay::Cassette> cassette(const std::string& run) {
        auto c = replay::Cassette::load(*m_store, run, m_secret, {});
        EXPECT_TRUE(c) << c.status().message();
        return c ? std::move(c).value() : nullptr;
    }

    // The replay's own run, that requests are numbered in.
    store::RunWriter& replay_writer() {
        if (!m_writer) {
            auto w = store::RunWriter::start(*m_store, test::incomplete_run(), {});
            EXPECT_TRUE(w) << w.status().message();
            m_writer = std::move(w).value();
        }
        return *m_writer;
    }

    static std::string answer_of(replay::Cassette& c, const replay::ExchangeAnswer& a) {
        if (!a.recorded) return "(no recorded answer)";
        auto body = c.body_of(*a.recorded);
        return body ? **body : body.status().message();
    }

    test::TempDir m_dir;
    std::unique_ptr<store::Store> m_store;
    std::string m_secret;
    std::unique_ptr<store::RunWriter> m_writer;
    std::string m_twins;
};

TEST_F(RequestOrderTest, TheCassetteQueuesIdenticalRequestsByWhenTheyReachedTheMachine) {
    auto c = cassette(twins());
    std::string digest = c->digest_of(chat());
    EXPECT_EQ(c->take(digest)->seq, 2);  // written first
    EXPECT_EQ(c->take(digest)->seq, 1);
    EXPECT_EQ(c->take(digest)->seq, 3);
}

TEST_F(RequestOrderTest, AnOlderRecordingWithoutReceiveTimesKeepsItsOrderOfIssue) {
    auto c = cassette(record(
        {{"one", std::nullopt, 1'000'010'000, 5000}, {"two", std::nullopt, 1'000'000'000, 5000}}));
    std::string digest = c->digest_of(chat());
    EXPECT_EQ(c->take(digest)->seq, 1);
    EXPECT_EQ(c->take(digest)->seq, 2);
}

TEST_F(RequestOrderTest, OrderMattersWhileDifferentAnswersAreLeft) {
    auto c = cassette(twins());
    std::string digest = c->digest_of(chat());
    EXPECT_FALSE(c->order_matters(c->digest_of(chat(R"({"q":2})"))));  // nothing recorded
    for (int i = 0; i < 3; ++i) {
        EXPECT_TRUE(c->order_matters(digest));
        c->take(digest);
    }
    EXPECT_FALSE(c->order_matters(digest));
    // --reuse gives the last answer to every request past the end: once
    // one answer is left, it is the same whichever request takes it.
    replay::ReplayPolicy reuse;
    reuse.reuse = true;
    auto r = replay::Cassette::load(*m_store, m_twins, m_secret, reuse).value();
    EXPECT_TRUE(r->order_matters(digest));
    r->take(digest);
    r->take(digest);
    EXPECT_FALSE(r->order_matters(digest));
}

TEST_F(RequestOrderTest, ARequestWaitsOnlyWhenReplayingAnAnswerItsPlaceDecides) {
    auto c = cassette(twins());
    RequestOrder order(*c);
    std::string digest = c->digest_of(chat());
    EXPECT_TRUE(order.waits(digest, 5'000'000'000));
    EXPECT_FALSE(order.waits(digest, std::nullopt));  // the kernel gave no time
    EXPECT_FALSE(order.waits(c->digest_of(chat(R"({"q":2})")), 5'000'000'000));
    auto recording = replay::recording_answers(m_secret);
    RequestOrder recorder(*recording);
    EXPECT_FALSE(recorder.waits(recording->digest_of(chat()), 5'000'000'000));
}

TEST_F(RequestOrderTest, ARequestIsPendingFromItsArrivalUntilItIsNumbered) {
    auto c = cassette(twins());
    RequestOrder order(*c);
    EXPECT_FALSE(order.pending_before(9'000'000'000));
    {
        RequestOrder::Pending dropped(order, 5'000'000'000);  // a connection that gave up
        EXPECT_TRUE(order.pending_before(5'000'000'001));
        EXPECT_FALSE(order.pending_before(5'000'000'000));  // (not before itself)
    }
    EXPECT_FALSE(order.pending_before(9'000'000'000));
    RequestOrder::Pending p(order, 5'000'000'000);
    RequestOrder::Pending moved = std::move(p);
    EXPECT_TRUE(order.pending_before(9'000'000'000));
    auto numbered = order.number(replay_writer(), chat(), c->digest_of(chat()), true, moved);
    EXPECT_EQ(numbered.seq, 1);
    EXPECT_FALSE(order.pending_before(9'000'000'000));
}

TEST_F(RequestOrderTest, IdenticalRequestsTakeTheAnswersOfTheRequestsWrittenInTheirPlace) {
    // The replay's race goes the other way too: the request written second
    // is taken up first. It waits while the one written first is pending,
    // which is then numbered first and takes the answer the program's
    // first request got.
    auto c = cassette(twins());
    RequestOrder order(*c);
    std::string digest = c->digest_of(chat());
    RequestOrder::Pending first(order, 5'000'000'000), second(order, 5'000'000'020);
    ASSERT_TRUE(order.waits(digest, 5'000'000'020));
    EXPECT_TRUE(order.pending_before(5'000'000'020));   // the second waits
    EXPECT_FALSE(order.pending_before(5'000'000'000));  // the first does not
    auto a = order.number(replay_writer(), chat(), digest, true, first);
    EXPECT_FALSE(order.pending_before(5'000'000'020));
    auto b = order.number(replay_writer(), chat(), digest, true, second);
    EXPECT_EQ(answer_of(*c, a.answer), "written first");
    EXPECT_EQ(answer_of(*c, b.answer), "written second");
    EXPECT_EQ(a.seq, 1);
    EXPECT_EQ(b.seq, 2);
}

TEST_F(RequestOrderTest, WithoutReceiveTimesTheRaceDecides) {
    // The control: an older recording, queued in the order its requests
    // were taken up, gives the request numbered first the answer that the
    // program's second request got.
    auto c = cassette(record({{"written second", std::nullopt, 1'000'100'000, 5000},
                              {"written first", std::nullopt, 1'000'110'000, 5000}}));
    RequestOrder order(*c);
    RequestOrder::Pending none;
    auto a = order.number(replay_writer(), chat(), c->digest_of(chat()), true, none);
    EXPECT_EQ(answer_of(*c, a.answer), "written second");
}

TEST_F(RequestOrderTest, ARequestThatCannotBeAnsweredIsNumberedAndTakesNothing) {
    auto c = cassette(twins());
    RequestOrder order(*c);
    RequestOrder::Pending p(order, 5'000'000'000);
    auto n = order.number(replay_writer(), chat(), c->digest_of(chat()), false, p);
    EXPECT_EQ(n.seq, 1);
    EXPECT_EQ(n.answer.action, replay::ExchangeAnswer::Action::forward);
    EXPECT_EQ(c->take(c->digest_of(chat()))->seq, 2);  // nothing was taken
}

}  // namespace
}  // namespace retrace::proxy
