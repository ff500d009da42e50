#include "retrace/core/temp_dir.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

namespace retrace::core {
namespace {

// Sets an environment variable for the test's length.
class ScopedEnv {
  public:
    ScopedEnv(const char* name, const char* value) : m_name(name) {
        if (const char* old = std::getenv(name)) m_old = old;
        if (value)
            setenv(name, value, 1);
        else
            unsetenv(name);
    }
    ~ScopedEnv() {
        if (m_old)
            setenv(m_name, m_old->c_str(), 1);
        else
            unsetenv(m_name);
    }

  private:
    const char* m_name;
    std::optional<std::string> m_old;
};

TEST(TempDir, ATemperatureInTempIsNotADirectory) {
    // std::filesystem::temp_directory_path threw on this (record under
    // TEMP=0.8 died with an internal error).
    ScopedEnv temp("TEMP", "0.8"), tmpdir("TMPDIR", nullptr);
    EXPECT_EQ(temp_dir(), "/tmp");
}

TEST(TempDir, TmpdirIsUsedWhenItNamesADirectory) {
    ScopedEnv set("TMPDIR", "/");
    EXPECT_EQ(temp_dir(), "/");
    ScopedEnv missing("TMPDIR", "/nonexistent-retrace-dir");
    EXPECT_EQ(temp_dir(), "/tmp");
}

}  // namespace
}  // namespace retrace::core
