#include "retrace/analysis/diff.hpp"

#include <gtest/gtest.h>

#include "retrace/store/run_writer.hpp"
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

}  // namespace
}  // namespace retrace::analysis
