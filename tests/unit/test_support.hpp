// Helpers shared by unit tests: a temporary directory removed at the end.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "retrace/core/identity.hpp"
#include "retrace/core/run_id.hpp"
#include "retrace/store/store.hpp"

namespace retrace::test {

class TempDir {
  public:
    TempDir() {
        std::string tmpl =
            (std::filesystem::temp_directory_path() / "retrace-test-XXXXXX").string();
        m_path = mkdtemp(tmpl.data());
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(m_path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return m_path; }

  private:
    std::filesystem::path m_path;
};

inline void write_file(const std::filesystem::path& p, const std::string& content) {
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
}

inline std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

// A run row as `record` inserts it at the start: incomplete, no conditions.
inline store::RunRow incomplete_run() {
    core::Json conditions = core::Json::object();
    store::RunRow row;
    row.id = core::RunId::generate().str();
    row.state = "incomplete";
    row.started_ns = 1700000000000000000;
    row.conditions = *core::canonicalize(conditions);
    row.conditions_digest = core::identify_conditions(conditions)->digest.to_string();
    row.metadata = *core::canonicalize(core::Json{{"id", row.id}});
    return row;
}

}  // namespace retrace::test
