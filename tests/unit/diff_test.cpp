#include "retrace/analysis/diff.hpp"

#include <gtest/gtest.h>

#include "retrace/store/run_writer.hpp"
#include "retrace/trace/exchange.hpp"
#include "test_support.hpp"

namespace retrace::analysis {
namespace {

using core::Json;
using Pairs = std::vector<std::pair<std::size_t, std::size_t>>;

std::vector<std::string> keys(const std::string& letters) {
    std::vector<std::string> out;
    for (char c : letters) out.emplace_back(1, c);
    return out;
}

TEST(Align, EqualSequencesPairEveryStep) {
    EXPECT_EQ(align(keys("abc"), keys("abc")), (Pairs{{0, 0}, {1, 1}, {2, 2}}));
    EXPECT_TRUE(align({}, {}).empty());
}

TEST(Align, AnInsertedRetryAndAMissingStepAreTolerated) {
    // b retried step c once: a c c d
    EXPECT_EQ(align(keys("abcd"), keys("abccd")), (Pairs{{0, 0}, {1, 1}, {2, 2}, {3, 4}}));
    EXPECT_EQ(align(keys("abxcd"), keys("abcd")), (Pairs{{0, 0}, {1, 1}, {3, 2}, {4, 3}}));
}

TEST(Align, AReplacedStepInTheMiddleReAligns) {
    EXPECT_EQ(align(keys("abXde"), keys("abYde")), (Pairs{{0, 0}, {1, 1}, {3, 3}, {4, 4}}));
    EXPECT_TRUE(align(keys("xyz"), keys("uvw")).empty());
}

TEST(Align, LongRunsDifferingInTheMiddleStayCheap) {
    std::vector<std::string> a, b;
    for (int i = 0; i < 100000; ++i) {
        std::string key = "k";  // (appended: GCC 12 warns on "k" + to_string here)
        key += std::to_string(i);
        a.push_back(key);
        b.push_back(i == 50000 ? "other" : key);
    }
    auto pairs = align(a, b);
    EXPECT_EQ(pairs.size(), 99999u);
    EXPECT_EQ(pairs[50000], (std::pair<std::size_t, std::size_t>{50001, 50001}));
}

class DiffTest : public ::testing::Test {
  protected:
    void SetUp() override {
        auto s = store::open_sqlite_store(m_dir.path() / "store", true);
        ASSERT_TRUE(s) << s.status().message();
        m_store = std::move(s).value();
    }
    // A sealed run of tool events (name, output), each [start, end) in ms.
    std::string record(const std::vector<std::tuple<std::string, std::string, int, int>>& steps) {
        store::RunRow row = test::incomplete_run();
        auto writer = store::RunWriter::start(*m_store, row, {}).value();
        for (const auto& [name, output, start, end] : steps) {
            core::Event e;
            e.seq = writer->next_seq();
            e.kind = core::EventKind::tool;
            e.name = name;
            e.start_ns = row.started_ns + start * 1000000LL;
            e.end_ns = row.started_ns + end * 1000000LL;
            e.request = core::Digest::of("null").to_string();
            e.response = core::Digest::of(output).to_string();
            EXPECT_TRUE(writer->complete(e, {{e.request, "null"}, {e.response, output}}).is_ok());
        }
        store::RunWriter::Seal seal;
        seal.metadata = Json::object();
        seal.outcome = Json::object();
        EXPECT_TRUE(writer->seal(seal));
        return row.id;
    }
    test::TempDir m_dir;
    std::unique_ptr<store::Store> m_store;
};

TEST_F(DiffTest, ConcurrentSiblingsIssuedInAnotherOrderAreTheSame) {
    // Three parallel tool calls, overlapping in time, issued in another order.
    auto a = record({{"x", "1", 0, 10}, {"y", "2", 1, 10}, {"z", "3", 2, 10}, {"w", "4", 20, 21}});
    auto b = record({{"z", "3", 0, 10}, {"x", "1", 1, 10}, {"y", "2", 2, 10}, {"w", "4", 20, 21}});
    auto r = diff_runs(*m_store, a, b);
    ASSERT_TRUE(r) << r.status().message();
    EXPECT_EQ(r->verdict, "identical");
    EXPECT_EQ(r->matched, 4u);
    // The control: the same order change without overlap is a divergence.
    auto c = record({{"x", "1", 0, 1}, {"y", "2", 2, 3}, {"z", "3", 4, 5}, {"w", "4", 20, 21}});
    auto d = record({{"z", "3", 0, 1}, {"x", "1", 2, 3}, {"y", "2", 4, 5}, {"w", "4", 20, 21}});
    EXPECT_NE(diff_runs(*m_store, c, d)->verdict, "identical");
}

TEST_F(DiffTest, ATrailingExtraStepIsTheFirstDivergence) {
    auto a = record({{"x", "1", 0, 1}});
    auto b = record({{"x", "1", 0, 1}, {"y", "2", 2, 3}});
    auto r = diff_runs(*m_store, a, b);
    ASSERT_TRUE(r);
    ASSERT_TRUE(r->first);
    EXPECT_FALSE(r->first->a);
    EXPECT_EQ(r->first->b->name, "y");
    EXPECT_EQ(r->matching_prefix, 1u);
}

// The side-by-side rows the page draws: every step of both runs once, in
// order, paired where aligned, alone where only one run has it.
TEST_F(DiffTest, TheAlignedStepsListEveryStepOfBothInOrder) {
    auto a = record({{"x", "1", 0, 1}, {"gone", "0", 2, 3}, {"z", "3", 4, 5}});
    auto b = record({{"x", "1", 0, 1}, {"z", "9", 4, 5}, {"new", "2", 6, 7}});
    auto r = diff_runs(*m_store, a, b);
    ASSERT_TRUE(r);
    auto rows = r->to_json()["trajectory"]["steps"];
    EXPECT_EQ(rows, Json::parse(R"([{"a":1,"b":1,"equal":true},{"a":2,"b":null,"equal":false},
                                    {"a":3,"b":2,"equal":false},{"a":null,"b":3,"equal":false}])"));
    auto same = diff_runs(*m_store, a, a);  // the control: all paired, all equal
    ASSERT_TRUE(same);
    EXPECT_EQ(same->steps.size(), 3u);
    for (const auto& s : same->steps) EXPECT_TRUE(s.equal && s.a == s.b);
}

// A run that stopped after a tool answered differently (its code could not
// handle the answer) never sent the model request the other run sent: its
// traffic-observed models and prompts sections are empty. The tool is the
// cause, the sections its consequence (was: conditions differ: models,
// prompts). Found by the fidelity suite's state_tool scenario.
TEST_F(DiffTest, ARunThatStoppedAfterAToolAnsweredDifferentlyIsInputsDiffer) {
    auto run = [&](const std::string& output, bool calls_model) {
        Json conditions = Json::object();
        if (calls_model) {
            conditions["models"] = {{"openai", {{"gpt-4o", {{"temperature", {0}}}}}}};
            conditions["prompts"] = {{"openai", {core::Digest::of("system").to_string()}}};
        }
        store::RunRow row = test::incomplete_run();
        row.conditions = *core::canonicalize(conditions);
        row.conditions_digest = core::identify_conditions(conditions)->digest.to_string();
        auto writer = store::RunWriter::start(*m_store, row, {}).value();
        core::Event tool;
        tool.seq = writer->next_seq();
        tool.kind = core::EventKind::tool;
        tool.name = "reserve_seat";
        tool.start_ns = row.started_ns;
        tool.end_ns = row.started_ns + 1000000;
        tool.request = core::Digest::of("{}").to_string();
        tool.response = core::Digest::of(output).to_string();
        EXPECT_TRUE(
            writer->complete(tool, {{tool.request, "{}"}, {tool.response, output}}).is_ok());
        if (calls_model) {
            core::Event llm;
            llm.seq = writer->next_seq();
            llm.kind = core::EventKind::llm;
            llm.name = "POST /chat/completions";
            llm.start_ns = row.started_ns + 2000000;
            llm.end_ns = row.started_ns + 3000000;
            std::string body = R"({"model":"gpt-4o","temperature":0})";
            llm.request = core::Digest::of(body).to_string();
            llm.response = core::Digest::of("{}").to_string();
            EXPECT_TRUE(writer->complete(llm, {{llm.request, body}, {llm.response, "{}"}}).is_ok());
        }
        store::RunWriter::Seal seal;
        seal.metadata = Json::object();
        seal.outcome = Json::object();
        EXPECT_TRUE(writer->seal(seal));
        return row.id;
    };
    auto a = run(R"({"seat":12,"status":"confirmed"})", true);
    auto b = run(R"({"position":1,"status":"waitlisted"})", false);
    auto r = diff_runs(*m_store, a, b);
    ASSERT_TRUE(r) << r.status().message();
    EXPECT_EQ(r->verdict, "inputs differ");
    EXPECT_NE(r->explanation.find(
                  "#1 tool reserve_seat returned differently ($.position: (absent) -> 1)"),
              std::string::npos)
        << r->explanation;
    EXPECT_NE(r->explanation.find("only a went on to #2 llm POST /chat/completions, b stopped "
                                  "first: the models and prompts differ as a consequence"),
              std::string::npos)
        << r->explanation;
    EXPECT_NE(r->explanation.find("the models and prompts differ as a consequence"),
              std::string::npos)
        << r->explanation;
    // The control: the same tool answer with a changed prompt in both runs
    // is a changed condition.
    auto c = run(R"({"seat":12,"status":"confirmed"})", true);
    auto d = run(R"({"seat":12,"status":"confirmed"})", false);
    EXPECT_EQ(diff_runs(*m_store, c, d)->verdict, "conditions differ");
}

// A sampled answer the program built its next request's tool schema from
// (a choice enumerated from it): the tools section differs only downstream
// of the first answer that differed, so the answer is the cause (was:
// conditions differ: tools). Found by the fidelity suite's agent_compound.
TEST_F(DiffTest, AToolSchemaBuiltFromADifferentAnswerIsItsConsequence) {
    auto run = [&](const std::string& answer, const std::string& schema) {
        Json conditions = {{"tools", {{"book_flight", {core::Digest::of(schema).to_string()}}}}};
        store::RunRow row = test::incomplete_run();
        row.conditions = *core::canonicalize(conditions);
        row.conditions_digest = core::identify_conditions(conditions)->digest.to_string();
        auto writer = store::RunWriter::start(*m_store, row, {}).value();
        std::vector<std::pair<std::string, std::string>> steps = {
            {R"({"model":"gpt-4o","temperature":0.4})", answer},
            {R"({"model":"gpt-4o","tools":[)" + schema + "]}", R"({"ok":true})"}};
        int at = 0;
        for (const auto& [body, response] : steps) {
            core::Event e;
            e.seq = writer->next_seq();
            e.kind = core::EventKind::llm;
            e.name = "POST /chat/completions";
            e.start_ns = row.started_ns + (at++) * 2000000LL;
            e.end_ns = e.start_ns + 1000000;
            e.request = core::Digest::of(body).to_string();
            e.response = core::Digest::of(response).to_string();
            EXPECT_TRUE(writer->complete(e, {{e.request, body}, {e.response, response}}).is_ok());
        }
        store::RunWriter::Seal seal;
        seal.metadata = Json::object();
        seal.outcome = Json::object();
        EXPECT_TRUE(writer->seal(seal));
        return row.id;
    };
    auto answer = [](const std::string& origin) {
        return R"({"choices":[{"message":{"role":"assistant","content":")" + origin + R"("}}]})";
    };
    auto a = run(answer("CDG"), R"({"enum":["TP441"]})");
    auto b = run(answer("BVA"), R"({"enum":[]})");
    auto r = diff_runs(*m_store, a, b);
    ASSERT_TRUE(r) << r.status().message();
    EXPECT_EQ(r->verdict, "same conditions, outputs diverged") << r->explanation;
    EXPECT_NE(r->explanation.find("#1 llm POST /chat/completions: temperature 0.4 without a seed"),
              std::string::npos)
        << r->explanation;
    EXPECT_NE(r->explanation.find("; the tools differ as a consequence (sent only after it)"),
              std::string::npos)
        << r->explanation;
}

// A request the program itself gave up on (its timeout fired, it aborted)
// is not the provider failing it: one run's client left, the other's got
// its answer. The control: no answer with no client leaving is a fault.
TEST_F(DiffTest, ARequestTheProgramGaveUpOnIsNoProviderFault) {
    auto run = [&](int status, bool client_left) {
        store::RunRow row = test::incomplete_run();
        auto writer = store::RunWriter::start(*m_store, row, {}).value();
        core::Event llm;
        llm.seq = writer->next_seq();
        llm.kind = core::EventKind::llm;
        llm.name = "POST /chat/completions";
        llm.start_ns = row.started_ns;
        llm.end_ns = row.started_ns + 1000000;
        trace::Exchange x;
        x.route = "openai";
        x.method = "POST";
        x.path = "/chat/completions";
        x.status = status;
        if (client_left) x.client_cancelled = trace::ClientCancel{300000, 0};
        llm.attrs = x.to_attrs();
        std::string body = R"({"model":"gpt-4o","temperature":0})";
        std::string answer = status == 200 ? R"({"choices":[]})" : "";
        llm.request = core::Digest::of(body).to_string();
        llm.response = core::Digest::of(answer).to_string();
        EXPECT_TRUE(writer->complete(llm, {{llm.request, body}, {llm.response, answer}}).is_ok());
        store::RunWriter::Seal seal;
        seal.metadata = Json::object();
        seal.outcome = Json::object();
        EXPECT_TRUE(writer->seal(seal));
        return row.id;
    };
    auto answered = run(200, false);
    auto r = diff_runs(*m_store, answered, run(0, true));
    ASSERT_TRUE(r) << r.status().message();
    EXPECT_NE(r->verdict, "provider fault") << r->explanation;
    EXPECT_NE(r->verdict, "identical");
    EXPECT_EQ(diff_runs(*m_store, answered, run(0, false))->verdict, "provider fault");
}

}  // namespace
}  // namespace retrace::analysis
