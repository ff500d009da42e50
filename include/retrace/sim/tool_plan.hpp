// When the sim's model calls tools, which ones, and how many per answer: the
// same rule on Chat Completions, Responses and Anthropic Messages
// (docs/sim.md, "Tools").
//
// The task is the text of the last user message. Split at the word "then",
// it is a plan of steps; a step's calls are the offered tools it names (by
// their exact names, as words), in the order named. Each answer makes the
// calls of the next step, all at once when parallel tool calls are allowed
// and one per answer when not; which step is next follows from the number
// of tool calls already made since the task was given. When every step is
// done the model answers in text. A task that names no tool but asks for a
// "tool" gets one call of a tool drawn from the seed, then text.
//
// tool_choice overrides: `none` never calls; a named tool is always the one
// call; `required` (Anthropic `any`) calls the next step's tools, or one
// drawn from the seed when the plan is done.
#pragma once

#include <string>
#include <vector>

#include "retrace/sim/generator.hpp"

namespace retrace::sim {

struct ToolChoice {
    enum class Mode { automatic, none, required, named } mode = Mode::automatic;
    std::string name;      // for `named`
    bool parallel = true;  // several calls in one answer allowed
};

struct ToolContext {
    std::string task;          // the last user message's text
    long long calls_made = 0;  // tool calls the assistant made since it
};

// The names of the tools to call in this answer, in order; empty: answer in
// text. `tools` is normalized ([{"name", "parameters"}]); `seed` picks the
// tool when the task names none.
std::vector<std::string> plan_tool_calls(const Json& tools, const ToolChoice& choice,
                                         const ToolContext& context, std::uint64_t seed);

// Whether `word` occurs in `text` as a whole word (not inside a longer
// name: letters, digits, `_` and `-` continue a word).
bool names_word(const std::string& text, const std::string& word);

}  // namespace retrace::sim
