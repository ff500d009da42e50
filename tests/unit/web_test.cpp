// retrace serve's decisions without sockets: the URL's query, the API's
// answers (the same as the CLI's --json), the live feed's events, and
// which addresses it serves on. (Over HTTP: tests/e2e/serve.sh; in a
// browser: web/tests/.)
#include <gtest/gtest.h>

#include "retrace/net/listen_address.hpp"
#include "retrace/query/runs.hpp"
#include "retrace/store/run_writer.hpp"
#include "retrace/web/api.hpp"
#include "retrace/web/assets.hpp"
#include "retrace/web/live.hpp"
#include "retrace/web/server.hpp"
#include "test_support.hpp"

namespace retrace::web {
namespace {

using core::Json;

TEST(WebQuery, EscapesAndPlusesAreDecodedAndBrokenEscapesRefused) {
    EXPECT_EQ(percent_decode("%41b+c%2Fd", true), "Ab c/d");
    EXPECT_EQ(percent_decode("a+b", false), "a+b");
    EXPECT_FALSE(percent_decode("%4", true));
    EXPECT_FALSE(percent_decode("%zz", true));
    EXPECT_FALSE(percent_decode("abc%", true));
    auto q = parse_query("name=support%20bot&limit=5&&flag&q=a%26b");
    ASSERT_TRUE(q);
    EXPECT_EQ(q->at("name"), "support bot");
    EXPECT_EQ(q->at("limit"), "5");
    EXPECT_EQ(q->at("flag"), "");
    EXPECT_EQ(q->at("q"), "a&b");
    EXPECT_FALSE(parse_query("a=%G1"));
}

TEST(WebAssets, ThePageAndItsScriptsAreEmbeddedWithTheirTypes) {
    const EmbeddedFile* index = find_asset("index.html");
    ASSERT_NE(index, nullptr);
    EXPECT_NE(index->bytes.find("/assets/app.js"), std::string_view::npos);
    ASSERT_NE(find_asset("app.js"), nullptr);
    EXPECT_EQ(find_asset("missing.js"), nullptr);
    EXPECT_EQ(find_asset(""), nullptr);  // (the table's empty last entry is no file)
    EXPECT_EQ(content_type_of("app.js"), "text/javascript; charset=utf-8");
    EXPECT_EQ(content_type_of("style.css"), "text/css; charset=utf-8");
    EXPECT_EQ(content_type_of("index.html"), "text/html; charset=utf-8");
}

TEST(WebServer, OnlyLoopbackIsServedUnlessAllowed) {
    EXPECT_TRUE(net::is_loopback("127.0.0.1"));
    EXPECT_TRUE(net::is_loopback("127.4.5.6"));
    EXPECT_TRUE(net::is_loopback("::1"));
    EXPECT_FALSE(net::is_loopback("0.0.0.0"));
    EXPECT_FALSE(net::is_loopback("10.0.0.1"));
    EXPECT_FALSE(net::is_loopback("localhost"));  // (not an address: refused below)

    test::TempDir dir;
    auto store = store::open_sqlite_store(dir.path() / "store", true).value();
    ServeOptions remote;
    remote.host = "0.0.0.0";
    auto refused = WebServer::start(remote, *store);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.status().code(), ErrorCode::invalid_input);
    EXPECT_NE(refused.status().message().find("--allow-remote"), std::string::npos);
    ServeOptions name;
    name.host = "localhost";
    EXPECT_EQ(WebServer::start(name, *store).status().code(), ErrorCode::invalid_input);

    ServeOptions loopback;  // the control: loopback is served, with a fresh token
    auto served = WebServer::start(loopback, *store);
    ASSERT_TRUE(served) << served.status().message();
    EXPECT_GT((*served)->port(), 0);
    EXPECT_EQ((*served)->token().size(), 32u);
    EXPECT_EQ((*served)->url(), "http://127.0.0.1:" + std::to_string((*served)->port()) +
                                    "/?token=" + (*served)->token());
    (*served)->stop();
}

class WebApiTest : public ::testing::Test {
  protected:
    void SetUp() override {
        m_store = store::open_sqlite_store(m_dir.path() / "store", true).value();
    }
    // A run started at second `second`, with tool events numbered seqs.
    std::string add_run(int second, const std::string& name, bool seal,
                        std::vector<long long> seqs = {1},
                        std::optional<std::string> replay_of = std::nullopt,
                        Json metadata = Json::object()) {
        store::RunRow row = test::incomplete_run();
        row.started_ns = 1700000000000000000LL + second * 1000000000LL;
        row.name = name;
        row.replay_of = replay_of;
        metadata["id"] = row.id;
        row.metadata = *core::canonicalize(metadata);
        auto writer = store::RunWriter::start(*m_store, row, {}).value();
        append(*writer, row, seqs);
        if (seal) {
            store::RunWriter::Seal s;
            s.metadata = metadata;
            s.outcome = Json::object();
            EXPECT_TRUE(writer->seal(s));
        } else {
            EXPECT_TRUE(writer->flush().is_ok());
            m_writers.push_back(std::move(writer));
        }
        return row.id;
    }
    static void append(store::RunWriter& writer, const store::RunRow& row,
                       const std::vector<long long>& seqs) {
        for (long long seq : seqs) {
            core::Event e;
            e.seq = seq;
            e.kind = core::EventKind::tool;
            e.name = "lookup";
            e.start_ns = row.started_ns + seq * 1000;
            e.end_ns = e.start_ns + 500;
            e.request = core::Digest::of("{\"q\":1}").to_string();
            e.response = core::Digest::of("\"<script>x</script>\"").to_string();
            EXPECT_TRUE(
                writer
                    .complete(e, {{e.request, "{\"q\":1}"}, {e.response, "\"<script>x</script>\""}})
                    .is_ok());
        }
    }
    Json get(const std::string& path, const std::string& query = "", int status = 200) {
        Reply r = Api(*m_store).get(path, parse_query(query).value());
        EXPECT_EQ(r.status, status) << path << "?" << query << ": " << r.body;
        EXPECT_EQ(r.content_type, "application/json");
        return Json::parse(r.body);
    }
    static std::vector<std::string> ids(const Json& list) {
        std::vector<std::string> out;
        for (const auto& r : list) out.push_back(r["id"].get<std::string>());
        return out;
    }

    test::TempDir m_dir;
    std::unique_ptr<store::Store> m_store;
    std::vector<std::unique_ptr<store::RunWriter>> m_writers;
};

TEST_F(WebApiTest, TheRunsListFiltersAndPagesAsTheCommandLineDoes) {
    std::string a = add_run(1, "agent", true);
    std::string b = add_run(2, "agent", true, {1}, a);
    std::string c =
        add_run(3, "probe-x", true, {1}, std::nullopt, Json{{"probe", {{"role", "registration"}}}});
    std::string d = add_run(4, "other", false);
    EXPECT_EQ(ids(get("/runs")), (std::vector<std::string>{d, c, b, a}));
    EXPECT_EQ(ids(get("/runs", "name=agent")), (std::vector<std::string>{b, a}));
    EXPECT_EQ(ids(get("/runs", "state=incomplete")), (std::vector<std::string>{d}));
    EXPECT_EQ(ids(get("/runs", "kind=replay")), (std::vector<std::string>{b}));
    EXPECT_EQ(ids(get("/runs", "kind=probe")), (std::vector<std::string>{c}));
    EXPECT_EQ(ids(get("/runs", "kind=record")), (std::vector<std::string>{d, a}));
    EXPECT_EQ(ids(get("/runs", "q=prob")), (std::vector<std::string>{c}));
    EXPECT_EQ(get("/runs", "since=36500d").size(), 4u);  // (the control: a long way back)
    EXPECT_EQ(ids(get("/runs", "q=" + a.substr(10, 8))), (std::vector<std::string>{a}));
    // Pages: two, then the two older than the last one shown.
    EXPECT_EQ(ids(get("/runs", "limit=2")), (std::vector<std::string>{d, c}));
    EXPECT_EQ(ids(get("/runs", "limit=2&before=" + c)), (std::vector<std::string>{b, a}));
    EXPECT_EQ(ids(get("/runs", "limit=2&before=" + a)), std::vector<std::string>{});
    Json first = get("/runs", "limit=1")[0];
    EXPECT_EQ(first["kind"], "record");
    EXPECT_EQ(first["state"], "incomplete");
    EXPECT_EQ(get("/runs", "kind=replay")[0]["replay_of"], a);
    EXPECT_EQ(get("/runs", "kind=probe")[0]["kind"], "probe");
    // The same question on the command line's side gives the same answer.
    query::RunQuery same;
    same.name = "agent";
    EXPECT_EQ(get("/runs", "name=agent"), query::list_runs_json(*m_store, same, 0).value());

    for (const char* bad :
         {"limit=0", "limit=x", "limit=100001", "state=done", "kind=bogus", "since=yesterday",
          "since=1x5m", "since=106752d", "since=99999999999999999999d"})
        EXPECT_EQ(get("/runs", bad, 400)["error"]["type"], "retrace_web_error") << bad;
    EXPECT_EQ(get("/runs", "before=NOSUCHRUN", 404)["error"]["type"], "retrace_web_error");
}

TEST_F(WebApiTest, ARunAndItsEventsAreTheShowAnswers) {
    std::string a = add_run(1, "agent", true, {1, 2});
    auto row = m_store->get_run(a).value().value();
    EXPECT_EQ(get("/runs/" + a), query::run_full_json(*m_store, row));
    EXPECT_EQ(get("/runs/agent")["id"], a);  // (any run reference)
    Json event = get("/runs/" + a + "/events/2");
    EXPECT_EQ(event,
              query::event_detail_json(*m_store, query::find_event(*m_store, row, 2).value()));
    EXPECT_EQ(event["output"], "<script>x</script>");  // (data, as stored)
    EXPECT_EQ(get("/runs/" + a + "/events/3", "", 404)["error"]["type"], "retrace_web_error");
    get("/runs/" + a + "/events/x", "", 400);
    get("/runs/" + a + "/events/99999999999999999999", "", 400);
    get("/runs/NOSUCHRUN", "", 404);
    get("/nothing", "", 404);
    get("/runs/" + a + "/other", "", 404);
}

TEST_F(WebApiTest, ADiffIsTheDiffCommandsReport) {
    std::string a = add_run(1, "agent", true, {1, 2});
    std::string b = add_run(2, "agent", true, {1});
    Json diff = get("/diff/" + a + "/" + b);
    EXPECT_EQ(diff["a"], a);
    EXPECT_EQ(diff["b"], b);
    EXPECT_EQ(diff["trajectory"]["a_steps"], 2);
    EXPECT_EQ(diff["trajectory"]["b_steps"], 1);
    EXPECT_NE(diff["verdict"], "identical");
    EXPECT_EQ(get("/diff/" + a + "/" + a)["verdict"], "identical");  // the control
    get("/diff/" + a + "/NOSUCHRUN", "", 404);
}

TEST_F(WebApiTest, AProbeWithoutAResultSaysSo) {
    std::string p =
        add_run(1, "flaky", true, {1}, std::nullopt, Json{{"probe", {{"role", "registration"}}}});
    std::string plain = add_run(2, "agent", true);
    Json list = get("/probes");
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0]["probe"], p);
    EXPECT_TRUE(list[0]["verdict"].is_null());
    Json probe = get("/probes/" + p);
    EXPECT_EQ(probe["probe"], p);
    EXPECT_TRUE(probe["result"].is_null());
    get("/probes/" + plain, "", 404);  // not a probe
}

// The events of a feed's text, as (name, data) pairs.
std::vector<std::pair<std::string, Json>> events_of(const std::string& sse) {
    std::vector<std::pair<std::string, Json>> out;
    for (std::size_t at = 0; (at = sse.find("event: ", at)) != std::string::npos;) {
        auto eol = sse.find('\n', at);
        std::string name = sse.substr(at + 7, eol - at - 7);
        auto data = sse.find("data: ", eol);
        auto end = sse.find("\n\n", data);
        out.emplace_back(name, Json::parse(sse.substr(data + 6, end - data - 6)));
        at = end;
    }
    return out;
}

TEST_F(WebApiTest, TheLiveFeedSendsNewRunsAndAWatchedRunsEventsOnce) {
    std::string old = add_run(1, "old", true);
    LiveFeed runs(*m_store, std::nullopt);
    EXPECT_EQ(runs.poll().value(), "");  // what the page loaded is not sent again
    EXPECT_EQ(runs.poll().value(), "");

    std::string live = add_run(2, "live", false, {1, 3});  // #2 still running
    auto seen = events_of(runs.poll().value());
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].first, "run");
    EXPECT_EQ(seen[0].second["id"], live);
    EXPECT_EQ(seen[0].second["state"], "incomplete");
    EXPECT_EQ(runs.poll().value(), "");

    LiveFeed watch(*m_store, live);
    auto first = events_of(watch.poll().value());
    ASSERT_EQ(first.size(), 2u);  // what it has so far
    EXPECT_EQ(first[0].second["seq"], 1);
    EXPECT_EQ(first[1].second["seq"], 3);
    EXPECT_EQ(watch.poll().value(), "");
    // #2 completes after #3 (events complete out of order), then #4.
    auto row = m_store->get_run(live).value().value();
    append(*m_writers.back(), row, {2});
    EXPECT_TRUE(m_writers.back()->flush().is_ok());
    auto second = events_of(watch.poll().value());
    ASSERT_EQ(second.size(), 1u);
    EXPECT_EQ(second[0].second["seq"], 2);
    append(*m_writers.back(), row, {4});
    store::RunWriter::Seal s;
    s.metadata = Json::object();
    s.outcome = Json::object();
    ASSERT_TRUE(m_writers.back()->seal(s));
    auto last = events_of(watch.poll().value());
    ASSERT_EQ(last.size(), 3u);
    EXPECT_EQ(last[0].first, "run");  // sealed now
    EXPECT_EQ(last[0].second["state"], "sealed");
    EXPECT_EQ(last[1].second["seq"], 4);
    EXPECT_EQ(last[2].first, "end");
    EXPECT_TRUE(watch.ended());

    auto sealed = events_of(runs.poll().value());  // the list's feed saw the seal too
    ASSERT_EQ(sealed.size(), 1u);
    EXPECT_EQ(sealed[0].second["id"], live);
    EXPECT_EQ(sealed[0].second["state"], "sealed");
    (void)old;
}

}  // namespace
}  // namespace retrace::web
