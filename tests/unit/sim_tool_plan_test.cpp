// The sim's rule for tool calls: the task's steps (split at "then"), the
// tools each names, parallel or one by one, and what tool_choice overrides.
#include <gtest/gtest.h>

#include "retrace/sim/tool_plan.hpp"

namespace retrace::sim {
namespace {

using Names = std::vector<std::string>;

const Json k_tools = Json::parse(R"([{"name": "get_weather"}, {"name": "get_time"},
    {"name": "convert_units"}, {"name": "summarize"}])");

Names plan(const std::string& task, long long made, ToolChoice choice = {}) {
    return plan_tool_calls(k_tools, choice, {task, made}, 1);
}

TEST(SimToolPlan, AThreeRoundPlanThenText) {
    std::string task = "Use get_time and get_weather for Oslo, then convert_units, then summarize.";
    EXPECT_EQ(plan(task, 0), (Names{"get_time", "get_weather"})) << "in the order named";
    EXPECT_EQ(plan(task, 2), Names{"convert_units"});
    EXPECT_EQ(plan(task, 3), Names{"summarize"});
    EXPECT_EQ(plan(task, 4), Names{}) << "every step done: a text answer";
}

TEST(SimToolPlan, WithoutParallelCallsOneToolPerAnswer) {
    ToolChoice one;
    one.parallel = false;
    std::string task = "Use get_weather and get_time, then summarize.";
    EXPECT_EQ(plan(task, 0, one), Names{"get_weather"});
    EXPECT_EQ(plan(task, 1, one), Names{"get_time"});
    EXPECT_EQ(plan(task, 2, one), Names{"summarize"});
    EXPECT_EQ(plan(task, 3, one), Names{});
    EXPECT_EQ(plan(task, 1), Names{"get_time"}) << "the rest of a step half done";
}

TEST(SimToolPlan, NamesAreWholeWords) {
    EXPECT_EQ(plan("What is the get_weather_v2 of Oslo? No summarize_all.", 0), Names{});
    EXPECT_EQ(plan("Is it summarize-worthy? Call get_weather.", 0), Names{"get_weather"});
    EXPECT_EQ(plan("Hello there", 0), Names{}) << "control: no tool named or asked for";
    EXPECT_TRUE(names_word("call get_time now", "get_time"));
    EXPECT_FALSE(names_word("call get_timer now", "get_time"));
}

TEST(SimToolPlan, AskingForAToolCallsOneDrawnFromTheSeedOnce) {
    auto first = plan("Use a tool please.", 0);
    ASSERT_EQ(first.size(), 1u);
    EXPECT_EQ(plan("Use a tool please.", 0), first) << "the same seed, the same tool";
    EXPECT_EQ(plan("Use a tool please.", 1), Names{}) << "after its result: text";
}

TEST(SimToolPlan, ToolChoiceOverrides) {
    ToolChoice none;
    none.mode = ToolChoice::Mode::none;
    EXPECT_EQ(plan("Use get_weather.", 0, none), Names{});
    ToolChoice named;
    named.mode = ToolChoice::Mode::named;
    named.name = "summarize";
    EXPECT_EQ(plan("Use get_weather.", 0, named), Names{"summarize"});
    EXPECT_EQ(plan("Hello", 5, named), Names{"summarize"});
    ToolChoice required;
    required.mode = ToolChoice::Mode::required;
    EXPECT_EQ(plan("Use get_weather.", 0, required), Names{"get_weather"});
    EXPECT_EQ(plan("Use get_weather.", 1, required).size(), 1u) << "the plan done, still a call";
    EXPECT_EQ(plan_tool_calls(Json::array(), required, {"Use get_weather.", 0}, 1), Names{})
        << "no tools offered, nothing to call";
}

}  // namespace
}  // namespace retrace::sim
