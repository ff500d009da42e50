#include "retrace/core/temp_dir.hpp"

#include <cstdlib>

namespace retrace::core {

std::filesystem::path temp_dir() {
    if (const char* dir = std::getenv("TMPDIR"); dir && *dir) {
        std::error_code ec;
        if (std::filesystem::is_directory(dir, ec)) return dir;
    }
    return "/tmp";
}

}  // namespace retrace::core
