// The shim's stream format read back (trace/shim_stream.hpp), and what
// diff makes of two runs' clock and randomness (analysis/shim_inputs.hpp).
#include <gtest/gtest.h>

#include "retrace/analysis/shim_inputs.hpp"
#include "retrace/core/digest.hpp"
#include "retrace/store/sqlite.hpp"
#include "retrace/store/store.hpp"
#include "retrace/trace/shim_stream.hpp"
#include "test_support.hpp"

namespace retrace {
namespace {

using core::Json;

// A stream as the shim writes it: the header, clock readings (zigzag
// varints of their differences) and draws.
std::string varint(unsigned long long v) {
    std::string out;
    for (; v >= 0x80; v >>= 7) out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    out.push_back(static_cast<char>(v));
    return out;
}
std::string stream(const std::string& command, const std::vector<long long>& clock,
                   const std::vector<std::string>& draws) {
    std::string out = trace::shim_header(command);
    long long last = 0;
    for (long long ns : clock) {
        long long d = ns - last;
        last = ns;
        out += 'C' + varint((static_cast<unsigned long long>(d) << 1) ^
                            static_cast<unsigned long long>(d >> 63));
    }
    for (const auto& bytes : draws) out += 'R' + varint(bytes.size()) + bytes;
    return out;
}

TEST(ShimStream, ReadsTheHeaderTheClockAndTheDraws) {
    std::string data =
        stream("python3 app.py", {1700000000123456789, 1700000000000000000}, {"abcd"});
    auto v = trace::read_shim_stream(data);
    EXPECT_EQ(v.command, "python3 app.py");
    EXPECT_EQ(v.clock, (std::vector<long long>{1700000000123456789, 1700000000000000000}))
        << "a reading earlier than the one before (a clock set back) is a negative difference";
    EXPECT_EQ(v.draws, (std::vector<std::string>{"abcd"}));
    EXPECT_TRUE(v.complete);
    EXPECT_EQ(trace::read_shim_header(data).values_at,
              1 + 1 + std::string("python3 app.py").size());
    // Cut in the middle of a draw: what came before is kept.
    auto cut = trace::read_shim_stream(data.substr(0, data.size() - 2));
    EXPECT_EQ(cut.clock.size(), 2u);
    EXPECT_TRUE(cut.draws.empty());
    EXPECT_FALSE(cut.complete);
    // No header: the values start at once.
    auto bare = trace::read_shim_stream("C" + varint(4));
    EXPECT_EQ(bare.command, "");
    EXPECT_EQ(bare.clock, (std::vector<long long>{2}));
}

class ShimInputsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        auto s = store::open_sqlite_store(m_dir.path() / "store", true);
        ASSERT_TRUE(s) << s.status().message();
        m_store = std::move(s).value();
        store::RunRow row = test::incomplete_run();
        ASSERT_TRUE(m_store->insert_run(row, {}));
        m_run = row.id;
    }
    // The process event's determinism attribute for one stream.
    Json attribute(const std::string& data) {
        std::string digest = core::Digest::of(data).to_string();
        EXPECT_TRUE(m_store->append(m_run, {}, {{digest, data}}));
        return Json::array({{{"stream", "1f2e-1"},
                             {"command", "python3 app.py"},
                             {"blob", digest},
                             {"bytes", data.size()}}});
    }
    test::TempDir m_dir;
    std::unique_ptr<store::Store> m_store;
    std::string m_run;
};

constexpr long long k_s = 1'000'000'000;

TEST_F(ShimInputsTest, AnIntervalThatTookLongerInOneRunIsTheWallClock) {
    long long t = 1700000000 * k_s;
    auto a = attribute(stream("python3 app.py", {t, t + k_s / 10, t + 8 * k_s / 10}, {"ab", "cd"}));
    auto b = attribute(stream("python3 app.py",
                              {t + 5 * k_s, t + 5 * k_s + k_s / 10, t + 5 * k_s + 24 * k_s / 10},
                              {"xy", "cd"}));
    auto said = analysis::shim_inputs_differ(*m_store, a, b);
    ASSERT_TRUE(said);
    EXPECT_EQ(*said,
              "the wall clock the program read: process `python3 app.py` read it 3 times in a "
              "and 3 in b; between its readings #2 and #3, 0.70 s passed in a and 2.30 s in b");
}

TEST_F(ShimInputsTest, OtherwiseTheFirstDrawThatDiffered) {
    long long t = 1700000000 * k_s;
    // (the clock moved on, and its intervals differ by less than the bound)
    auto a = attribute(stream("python3 app.py", {t, t + k_s / 10}, {"same", "ab"}));
    auto b =
        attribute(stream("python3 app.py", {t + 9 * k_s, t + 9 * k_s + k_s / 5}, {"same", "xy"}));
    auto said = analysis::shim_inputs_differ(*m_store, a, b);
    ASSERT_TRUE(said);
    EXPECT_EQ(*said,
              "the OS randomness the program drew: process `python3 app.py` drew 2 times in a "
              "and 2 in b, and its draw #2 (2 bytes) differed");
}

TEST_F(ShimInputsTest, TheSameValuesOrNoStreamsSayNothing) {
    long long t = 1700000000 * k_s;
    auto a = attribute(stream("python3 app.py", {t, t + k_s}, {"ab"}));
    EXPECT_FALSE(analysis::shim_inputs_differ(*m_store, a, a)) << "a replay against its recording";
    EXPECT_FALSE(analysis::shim_inputs_differ(*m_store, a, Json()))
        << "a run not recorded under --deterministic";
}

}  // namespace
}  // namespace retrace
