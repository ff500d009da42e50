// The run session (run/session.hpp): one run from its start to its seal,
// the same for record, replay, the gateway and probe.
#include <gtest/gtest.h>

#include "retrace/core/clock.hpp"
#include "retrace/run/session.hpp"
#include "retrace/store/verify.hpp"
#include "retrace/trace/sdk_event.hpp"
#include "test_support.hpp"

namespace retrace::run {
namespace {

using core::Json;

class RunSessionTest : public ::testing::Test {
  protected:
    void SetUp() override {
        auto s = store::open_sqlite_store(m_dir.path() / "store", true);
        ASSERT_TRUE(s.is_ok()) << s.status().message();
        m_store = std::move(s).value();
    }
    std::unique_ptr<RunSession> start(Json conditions) {
        auto fresh = new_run(std::move(conditions), "session-test", std::nullopt);
        EXPECT_TRUE(fresh.is_ok());
        // (the session's writer owns its connection until the seal)
        auto connection = m_store->connect();
        EXPECT_TRUE(connection.is_ok());
        m_connections.push_back(std::move(connection).value());
        auto session =
            RunSession::start(*m_connections.back(), std::move(fresh).value(), {}, "secret");
        EXPECT_TRUE(session.is_ok()) << session.status().message();
        return std::move(session).value();
    }
    test::TempDir m_dir;
    std::unique_ptr<store::Store> m_store;
    std::vector<std::unique_ptr<store::Store>> m_connections;
};

TEST_F(RunSessionTest, ARunIsIncompleteUntilSealedThenVerifies) {
    auto session = start({{"code", {{"argv", {"prog"}}}}});
    std::string id = session->id();
    core::Event e;
    e.seq = session->next_seq();
    e.kind = core::EventKind::custom;
    e.name = "step";
    e.start_ns = e.end_ns = core::unix_now_ns();
    ASSERT_TRUE(session->complete(std::move(e), {}).is_ok());
    EXPECT_EQ(m_store->get_run(id)->value().state, "incomplete");

    RunSession::End end;
    end.conditions = {{"code", {{"argv", {"prog"}}}}};
    end.outcome.exit_code = 3;
    end.ended_ns = session->run().row.started_ns + 2'500'000'000;
    auto row = session->seal(std::move(end));
    ASSERT_TRUE(row.is_ok()) << row.status().message();
    EXPECT_EQ(row->exit_code, 3);
    Json metadata = Json::parse(row->metadata);
    EXPECT_EQ(metadata["duration_ms"], 2500);
    EXPECT_EQ(metadata["name"], "session-test");
    auto verified = store::verify_run(*m_store, id);
    ASSERT_TRUE(verified.is_ok());
    EXPECT_TRUE(verified->ok) << verified->problem;
    EXPECT_EQ(m_store->events(id)->size(), 1u);
}

TEST_F(RunSessionTest, SpansTheProgramNeverEndedAreClosedAsUnfinishedAtTheSeal) {
    auto session = start(Json::object());
    proxy::RunTarget target = session->target();
    core::Event span;
    span.seq = target.spans->seq_of("00f067aa0ba902b7");
    span.kind = core::EventKind::custom;  // a grouping span
    span.name = "agent";
    span.start_ns = core::unix_now_ns();
    trace::SdkEvent attrs;
    attrs.span = "00f067aa0ba902b7";
    attrs.group = true;
    span.attrs = attrs.to_attrs();
    ASSERT_TRUE(target.spans->open("00f067aa0ba902b7", span, {}));
    target.spans->seq_of("b7ad6b7169203331");  // named by a child only, never started

    RunSession::End end;
    end.ended_ns = core::unix_now_ns();
    ASSERT_TRUE(session->seal(end).is_ok());
    auto events = m_store->events(session->id());
    ASSERT_TRUE(events.is_ok());
    ASSERT_EQ(events->size(), 2u);
    for (const auto& row : *events) {
        auto sdk = trace::SdkEvent::from_attrs(row.event.attrs);
        EXPECT_TRUE(sdk.unfinished) << row.event.name;
        EXPECT_EQ(row.event.end_ns, end.ended_ns);
    }
    EXPECT_EQ((*events)[0].event.name, "agent");
    EXPECT_TRUE(trace::SdkEvent::from_attrs((*events)[0].event.attrs).group);
    EXPECT_EQ((*events)[1].event.name, "(span b7ad6b7169203331, never started)");
}

TEST_F(RunSessionTest, TheTrafficFactsAreMergedIntoTheConditionsOnlyWhenGiven) {
    auto with = start({{"code", Json::object()}});
    with->target().facts->declare_tool("search", {{"type", "object"}});
    RunSession::End end;
    end.conditions = {{"code", Json::object()}};
    auto sealed = with->seal(std::move(end));
    ASSERT_TRUE(sealed.is_ok());
    EXPECT_TRUE(Json::parse(sealed->conditions)["tools"].contains("search"));

    // The control: a probe's record keeps the conditions it started with.
    auto without = start({{"code", Json::object()}});
    without->target().facts->declare_tool("search", {{"type", "object"}});
    auto kept = without->seal({});
    ASSERT_TRUE(kept.is_ok());
    EXPECT_FALSE(Json::parse(kept->conditions).value("tools", Json::object()).contains("search"));
    EXPECT_EQ(kept->conditions_digest, without->run().row.conditions_digest);
}

}  // namespace
}  // namespace retrace::run
