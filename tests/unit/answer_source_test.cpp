// The answer seam (replay/answer_source.hpp), driven as the proxy and the
// event API drive it, without a socket: recording forwards everything; the
// cassette serves in order per digest, diverges with the nearest request,
// and honours --until, --override, --reuse, --on-miss live, --live-tools.
#include "retrace/replay/answer_source.hpp"

#include <gtest/gtest.h>

#include "retrace/replay/cassette.hpp"
#include "retrace/store/run_writer.hpp"
#include "retrace/store/sqlite.hpp"
#include "retrace/trace/exchange.hpp"
#include "test_support.hpp"

namespace retrace::replay {
namespace {

using core::Json;
using Action = ExchangeAnswer::Action;
using EventAction = EventAnswer::Action;

core::MatchRequest chat(const std::string& body) {
    return {"POST", "openai", "/chat/completions", "", {}, body};
}

class AnswerSourceTest : public ::testing::Test {
  protected:
    void SetUp() override {
        auto s = store::open_sqlite_store(m_dir.path() / "store", true);
        ASSERT_TRUE(s) << s.status().message();
        m_store = std::move(s).value();
        m_secret = m_store->secret().value();
        // #1 and #3 ask the same, #2 something else, #4 is a tool call;
        // #3's client gave up after its first chunk.
        store::RunRow row = test::incomplete_run();
        auto writer = store::RunWriter::start(*m_store, row, {});
        ASSERT_TRUE(writer) << writer.status().message();
        for (auto [request, response] :
             {std::pair{R"({"q":1})", "first"}, std::pair{R"({"q":2,"w":"a"})", "other"},
              std::pair{R"({"q":1})", "second"}}) {
            core::Event e;
            e.seq = (*writer)->next_seq();
            e.kind = core::EventKind::llm;
            e.name = "POST /chat/completions";
            trace::Exchange x;
            x.route = "openai";
            x.method = "POST";
            x.path = "/chat/completions";
            x.status = 200;
            x.chunks = {{0, std::string(response).size()}};
            if (std::string(response) == "second")
                x.client_cancelled = trace::ClientCancel{250000, 1};
            e.attrs = x.to_attrs();
            e.request = core::Digest::of(request).to_string();
            e.response = core::Digest::of(response).to_string();
            ASSERT_TRUE((*writer)->complete(e, {{e.request, request}, {e.response, response}}));
        }
        core::Event tool;
        tool.seq = (*writer)->next_seq();
        tool.kind = core::EventKind::tool;
        tool.name = "weather";
        tool.request = core::Digest::of(R"({"city":"Paris"})").to_string();
        tool.response = core::Digest::of(R"({"t":21})").to_string();
        ASSERT_TRUE((*writer)->complete(
            tool, {{tool.request, R"({"city":"Paris"})"}, {tool.response, R"({"t":21})"}}));
        store::RunWriter::Seal seal;
        seal.metadata = {{"id", row.id}};
        seal.outcome = Json::object();
        ASSERT_TRUE((*writer)->seal(seal));
        m_run = row.id;
    }

    std::unique_ptr<Cassette> replaying(ReplayPolicy policy = {}) {
        auto c = Cassette::load(*m_store, m_run, m_secret, std::move(policy));
        EXPECT_TRUE(c) << c.status().message();
        return c ? std::move(c).value() : nullptr;
    }

    // What the source answers to a chat request with this body: the served
    // body, "forward", "live" or "diverge #nearest".
    static std::string ask(AnswerSource& source, const std::string& body) {
        auto request = chat(body);
        ExchangeAnswer a = source.answer(request, source.digest_of(request));
        if (a.action == Action::forward) return a.live ? "live" : "forward";
        if (a.action == Action::diverge)
            return "diverge #" + (a.divergence->nearest ? std::to_string(*a.divergence->nearest)
                                                        : std::string("-"));
        auto served = source.body_of(*a.recorded);
        return served ? **served : "(error: " + served.status().message() + ")";
    }

    static std::string call(AnswerSource& source, const std::string& input, bool span = false) {
        auto digest = source.event_digest(core::EventKind::tool, "weather", input);
        EventAnswer a = source.answer_event(core::EventKind::tool, "weather", input, digest, span);
        if (a.action == EventAction::live) return "live";
        if (a.action == EventAction::diverge) return "diverge: " + a.divergence->message();
        return a.recorded->output;
    }

    test::TempDir m_dir;
    std::unique_ptr<store::Store> m_store;
    std::string m_secret;
    std::string m_run;
};

TEST_F(AnswerSourceTest, RecordingForwardsEveryRequestUnderTheStoresDigest) {
    auto recording = recording_answers(m_secret);
    EXPECT_FALSE(recording->replaying());
    EXPECT_EQ(ask(*recording, R"({"q":1})"), "forward");
    EXPECT_EQ(ask(*recording, R"({"q":1})"), "forward");
    EXPECT_EQ(ask(*recording, "not json"), "forward");
    RecordedExchange any;
    EXPECT_FALSE(recording->paced(any));
    // the digest a replay of the same store computes
    auto cassette = replaying();
    EXPECT_EQ(recording->digest_of(chat(R"({"q":1})")), cassette->digest_of(chat(R"({ "q": 1 })")));
    EXPECT_EQ(recording->event_digest(core::EventKind::tool, "weather", R"({"city":"Paris"})"),
              cassette->event_digest(core::EventKind::tool, "weather", R"({"city":"Paris"})"));
}

TEST_F(AnswerSourceTest, TheCassetteServesEachDigestInRecordedOrderThenDiverges) {
    auto c = replaying();
    AnswerSource& source = *c;
    EXPECT_TRUE(source.replaying());
    EXPECT_EQ(ask(source, R"({"q":1})"), "first");
    EXPECT_EQ(ask(source, R"({"q": 1})"), "second");
    EXPECT_EQ(ask(source, R"({"q":1})"), "diverge #3")
        << "used up: the last of its queue is nearest";
    EXPECT_EQ(ask(source, R"({"q":2,"w":"b"})"), "diverge #2");
    ASSERT_EQ(c->divergences().size(), 2u);
    EXPECT_EQ(c->divergences()[1].diff[0].path, "$.w");
    EXPECT_EQ(ask(source, R"({"q":2,"w":"a"})"), "other");
    EXPECT_TRUE(c->unused().size() == 1u && c->unused()[0].starts_with("#4 tool"));
}

// Whether each of the two answers to {"q":1} (#1, then #3 whose client
// left) is served at its recorded timing under a policy.
std::string pacing(Cassette& c) {
    std::string body = R"({"q":1})";  // (a match request views its body)
    auto request = chat(body);
    std::string out;
    for (int i = 0; i < 2; ++i) {
        ExchangeAnswer a = c.answer(request, c.digest_of(request));
        if (a.action != Action::recorded) return "not served";
        out += "#" + std::to_string(a.recorded->seq) + (c.paced(*a.recorded) ? " paced" : " fast");
        if (i == 0) out += ", ";
    }
    return out;
}

TEST_F(AnswerSourceTest, AnAnswerWhoseClientGaveUpIsPacedByDefault) {
    auto automatic = replaying();
    EXPECT_EQ(pacing(*automatic), "#1 fast, #3 paced");
    ReplayPolicy fast;
    fast.pace = Pace::fast;
    EXPECT_EQ(pacing(*replaying(fast)), "#1 fast, #3 fast");
    ReplayPolicy recorded;
    recorded.pace = Pace::recorded;
    EXPECT_EQ(pacing(*replaying(recorded)), "#1 paced, #3 paced");
}

TEST_F(AnswerSourceTest, ReuseRepeatsTheLastAnswerOfAQueue) {
    ReplayPolicy policy;
    policy.reuse = true;
    auto c = replaying(policy);
    EXPECT_EQ(ask(*c, R"({"q":1})"), "first");
    EXPECT_EQ(ask(*c, R"({"q":1})"), "second");
    EXPECT_EQ(ask(*c, R"({"q":1})"), "second");
    EXPECT_TRUE(c->divergences().empty());
}

TEST_F(AnswerSourceTest, OnMissLiveForwardsWhatTheRecordingCannotAnswer) {
    ReplayPolicy policy;
    policy.on_miss_live = true;
    auto c = replaying(policy);
    EXPECT_EQ(ask(*c, R"({"q":1})"), "first");
    EXPECT_EQ(ask(*c, R"({"q":9})"), "live");
    EXPECT_TRUE(c->divergences().empty()) << "a live request is not a divergence";
}

TEST_F(AnswerSourceTest, UntilServesUpToItsEventAndForwardsTheRest) {
    ReplayPolicy policy;
    policy.until = 2;
    auto c = replaying(policy);
    EXPECT_EQ(ask(*c, R"({"q":1})"), "first");
    EXPECT_EQ(ask(*c, R"({"q":2,"w":"a"})"), "other");
    EXPECT_EQ(ask(*c, R"({"q":1})"), "live") << "#3 is after --until 2";
}

TEST_F(AnswerSourceTest, OverrideServesTheNewAnswerInThePlaceOfTheRecordedOne) {
    ReplayPolicy policy;
    policy.overrides[3] = "changed";
    policy.overrides[4] = R"({"t": 30})";
    auto c = replaying(policy);
    EXPECT_EQ(ask(*c, R"({"q":1})"), "first");
    EXPECT_EQ(ask(*c, R"({"q":1})"), "changed");
    EXPECT_EQ(call(*c, R"({"city":"Paris"})"), R"({"t":30})");
}

TEST_F(AnswerSourceTest, SdkCallsAreAnsweredRunLiveOrRefused) {
    auto c = replaying();
    EXPECT_EQ(call(*c, R"({"city":"Paris"})"), R"({"t":21})");
    EXPECT_EQ(
        call(*c, R"({"city":"Rome"})", true),
        "diverge: retrace replay diverged: tool weather: no recorded call has this input; nearest "
        "recorded call is #4; input.city: \"Paris\" -> \"Rome\"");
    // --live-tools runs them after a fork point, but only a call that opened
    // a span can report its real result
    ReplayPolicy policy;
    policy.live_tools = true;
    policy.until = 1;
    auto fork = replaying(policy);
    EXPECT_EQ(call(*fork, R"({"city":"Rome"})", true), "live");
    EXPECT_EQ(call(*fork, R"({"city":"Rome"})", false).substr(0, 9), "diverge: ");
}

}  // namespace
}  // namespace retrace::replay
