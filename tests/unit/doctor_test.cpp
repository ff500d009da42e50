#include "retrace/analysis/doctor.hpp"

#include <gtest/gtest.h>

#include "retrace/store/run_writer.hpp"
#include "retrace/trace/process.hpp"
#include "test_support.hpp"

namespace retrace::analysis {
namespace {

using core::Json;

class DoctorTest : public ::testing::Test {
  protected:
    void SetUp() override {
        auto s = store::open_sqlite_store(m_dir.path() / "store", true);
        ASSERT_TRUE(s) << s.status().message();
        m_store = std::move(s).value();
    }
    // A sealed run of one process event.
    std::string record(const trace::ProcessRecord& process) {
        store::RunRow row = test::incomplete_run();
        auto writer = store::RunWriter::start(*m_store, row, {}).value();
        core::Event e =
            process.to_event(writer->next_seq(), "node", row.started_ns, row.started_ns + 1000000);
        EXPECT_TRUE(writer->complete(e, {}).is_ok());
        store::RunWriter::Seal seal;
        seal.metadata = Json::object();
        seal.outcome = Json::object();
        EXPECT_TRUE(writer->seal(seal));
        return row.id;
    }
    std::vector<std::string> messages(const std::string& run) {
        auto report = doctor_run(*m_store, run);
        EXPECT_TRUE(report) << report.status().message();
        std::vector<std::string> out;
        for (const auto& f : report->findings) out.push_back(f.check + ": " + f.message);
        return out;
    }
    static bool any_has(const std::vector<std::string>& lines, const std::string& text) {
        for (const auto& l : lines)
            if (l.find(text) != std::string::npos) return true;
        return false;
    }
    test::TempDir m_dir;
    std::unique_ptr<store::Store> m_store;
};

TEST_F(DoctorTest, NamesWhatTheShimCouldNotMakeDeterministic) {
    trace::ProcessRecord p;
    p.argv = {"node", "agent.mjs"};
    p.exit_code = 0;
    p.determinism = Json::array();
    p.layout = "randomized: Operation not permitted";
    auto found = messages(record(p));
    EXPECT_TRUE(any_has(found,
                        "the address-space layout could not be fixed (Operation not "
                        "permitted): Node's Math.random"));
    EXPECT_TRUE(any_has(found, "no process read the clock or OS randomness"));

    // The control: a fixed layout and a recorded stream.
    p.layout = "fixed";
    p.determinism =
        Json::array({{{"stream", "0123456789abcdef-1"}, {"command", "node agent.mjs"}}});
    found = messages(record(p));
    EXPECT_FALSE(any_has(found, "address-space layout"));
    EXPECT_FALSE(any_has(found, "no process read the clock"));
    EXPECT_FALSE(any_has(found, "were not recorded"));
}

}  // namespace
}  // namespace retrace::analysis
