// What the store creates is readable by its owner only: every prompt and
// answer is in it. Directories are made 0700 and files 0600 whatever the
// umask allows; SQLite gives its -wal and -shm files the database's mode.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include "retrace/core/result.hpp"

namespace retrace::store {

// Creates dir's missing parents as the umask says and dir itself 0700. A
// directory that already exists is left as it is (it is the user's).
inline Status make_private_directory(const std::filesystem::path& dir) {
    std::error_code ec;
    if (std::filesystem::is_directory(dir, ec)) return Status::ok();
    if (dir.has_parent_path()) std::filesystem::create_directories(dir.parent_path(), ec);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        return error(ErrorCode::io, "cannot create " + dir.string() + ": " + std::strerror(errno));
    return Status::ok();
}

// Creates an empty file 0600 unless it exists (another process may have
// created it a moment ago: that is fine).
inline Status make_private_file(const std::filesystem::path& file) {
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        ::close(fd);
        return Status::ok();
    }
    if (errno == EEXIST) return Status::ok();
    return error(ErrorCode::io, "cannot create " + file.string() + ": " + std::strerror(errno));
}

}  // namespace retrace::store
