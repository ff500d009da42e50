// An environment for a child: a base environment with some variables set
// or unset. Holds the strings the envp array points into.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace retrace::run {

class EnvironmentBlock {
  public:
    // changes: name -> value, or nullopt to unset it.
    EnvironmentBlock(char** base,
                     const std::map<std::string, std::optional<std::string>>& changes) {
        for (char** e = base; e && *e; ++e) {
            std::string kv(*e);
            if (!changes.count(kv.substr(0, kv.find('=')))) m_strings.push_back(std::move(kv));
        }
        for (const auto& [name, value] : changes)
            if (value) m_strings.push_back(name + "=" + *value);
        for (auto& kv : m_strings) m_pointers.push_back(kv.data());
        m_pointers.push_back(nullptr);
    }
    EnvironmentBlock(const EnvironmentBlock&) = delete;
    EnvironmentBlock& operator=(const EnvironmentBlock&) = delete;
    char** envp() { return m_pointers.data(); }

  private:
    std::vector<std::string> m_strings;
    std::vector<char*> m_pointers;
};

}  // namespace retrace::run
