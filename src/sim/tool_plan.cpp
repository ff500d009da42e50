#include "retrace/sim/tool_plan.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

namespace retrace::sim {

namespace {

bool word_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}

// Where `word` first occurs as a whole word in text (case as given), or npos.
std::size_t find_word(const std::string& text, const std::string& word, bool fold_case) {
    if (word.empty()) return std::string::npos;
    auto same = [&](char a, char b) {
        return fold_case ? std::tolower(static_cast<unsigned char>(a)) ==
                               std::tolower(static_cast<unsigned char>(b))
                         : a == b;
    };
    for (std::size_t at = 0; at + word.size() <= text.size(); ++at) {
        if (at > 0 && word_char(text[at - 1])) continue;
        std::size_t end = at + word.size();
        if (end < text.size() && word_char(text[end])) continue;
        if (std::equal(word.begin(), word.end(), text.begin() + static_cast<long>(at), same))
            return at;
    }
    return std::string::npos;
}

// The task's steps: the parts between the word "then", each the tools it
// names in the order named; steps naming none are left out.
std::vector<std::vector<std::string>> steps_of(const std::string& task, const Json& tools) {
    std::vector<std::string> parts;
    std::string rest = task;
    for (std::size_t at; (at = find_word(rest, "then", true)) != std::string::npos;) {
        parts.push_back(rest.substr(0, at));
        rest = rest.substr(at + 4);
    }
    parts.push_back(rest);
    std::vector<std::vector<std::string>> steps;
    for (const auto& part : parts) {
        std::vector<std::pair<std::size_t, std::string>> named;
        for (const auto& t : tools) {
            std::string name = t.value("name", "");
            if (auto at = find_word(part, name, false); at != std::string::npos)
                named.emplace_back(at, name);
        }
        std::sort(named.begin(), named.end());
        std::vector<std::string> step;
        for (auto& [at, name] : named) step.push_back(std::move(name));
        if (!step.empty()) steps.push_back(std::move(step));
    }
    return steps;
}

}  // namespace

bool names_word(const std::string& text, const std::string& word) {
    return find_word(text, word, false) != std::string::npos;
}

std::vector<std::string> plan_tool_calls(const Json& tools, const ToolChoice& choice,
                                         const ToolContext& context, std::uint64_t seed) {
    using Mode = ToolChoice::Mode;
    if (!tools.is_array() || tools.empty() || choice.mode == Mode::none) return {};
    if (choice.mode == Mode::named) return {choice.name};
    auto drawn = [&] {
        Rng rng(seed);
        return std::vector<std::string>{tools[rng.below(tools.size())].value("name", "")};
    };
    auto steps = steps_of(context.task, tools);
    if (!choice.parallel) {  // one call per answer: each named tool a step of its own
        std::vector<std::vector<std::string>> single;
        for (const auto& step : steps)
            for (const auto& name : step) single.push_back({name});
        steps = std::move(single);
    }
    long long made = context.calls_made;
    for (const auto& step : steps) {
        auto size = static_cast<long long>(step.size());
        if (made >= size) {
            made -= size;
            continue;
        }
        return {step.begin() + made, step.end()};
    }
    if (choice.mode == Mode::required) return drawn();
    bool asks_for_a_tool = find_word(context.task, "tool", true) != std::string::npos ||
                           find_word(context.task, "tools", true) != std::string::npos;
    if (steps.empty() && asks_for_a_tool && context.calls_made == 0) return drawn();
    return {};
}

}  // namespace retrace::sim
