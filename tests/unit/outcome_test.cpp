// A run's outcome (core/outcome.hpp): the stored JSON of each kind of run
// has exactly the keys docs/identity.md names, and reads back as written.
#include "retrace/core/outcome.hpp"

#include <gtest/gtest.h>

namespace retrace::core {
namespace {

TEST(RunOutcome, ACommandsOutcomeHasTheDocumentedKeys) {
    RunOutcome o;
    o.exit_code = 3;
    o.signal = 0;
    o.stdout_digest = "sha256:" + std::string(64, 'a');
    o.stderr_digest = "sha256:" + std::string(64, 'b');
    o.outputs.emplace();
    EXPECT_EQ(*canonicalize(o.to_json()),
              R"({"exit_code":3,"outputs":{},"signal":0,"stderr":"sha256:)" + std::string(64, 'b') +
                  R"(","stdout":"sha256:)" + std::string(64, 'a') + R"("})");
    (*o.outputs)["out/report.txt"] = "sha256:" + std::string(64, 'c');
    o.missing_outputs = {"out/missing.txt"};
    RunOutcome back = RunOutcome::from_json(*parse_json_strict(*canonicalize(o.to_json())));
    EXPECT_EQ(back.to_json(), o.to_json());
    EXPECT_EQ(back.exit_code, 3);
    EXPECT_EQ(back.outputs->at("out/report.txt"), "sha256:" + std::string(64, 'c'));
}

TEST(RunOutcome, AGatewayRunHasItsExchangesAndAProbeRecordNothing) {
    RunOutcome gateway;
    gateway.exchanges = 12;
    EXPECT_EQ(*canonicalize(gateway.to_json()), R"({"exchanges":12})");
    EXPECT_EQ(*canonicalize(RunOutcome{}.to_json()), "{}");
    EXPECT_FALSE(RunOutcome::from_json(Json::object()).exit_code);
}

TEST(RunOutcome, MistypedPartsStayUnset) {
    auto o = RunOutcome::from_json(
        Json{{"exit_code", "3"}, {"stdout", 7}, {"outputs", {{"a", 1}, {"b", "sha256:x"}}}});
    EXPECT_FALSE(o.exit_code);
    EXPECT_FALSE(o.stdout_digest);
    ASSERT_TRUE(o.outputs);
    EXPECT_EQ(o.outputs->size(), 1u);
    EXPECT_FALSE(RunOutcome::from_json(Json::array()).outputs);
}

}  // namespace
}  // namespace retrace::core
