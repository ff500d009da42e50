#include "retrace/capture/input_digest.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "retrace/core/hasher.hpp"

namespace retrace::capture {

namespace {

namespace fs = std::filesystem;
using core::Digest;

constexpr std::size_t k_read_size = 1 << 20;

StatKey key_of(const struct stat& st) {
    return StatKey{static_cast<std::uint64_t>(st.st_size),
                   st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec,
                   st.st_ctim.tv_sec * 1'000'000'000LL + st.st_ctim.tv_nsec,
                   static_cast<std::uint64_t>(st.st_ino), static_cast<std::uint64_t>(st.st_dev)};
}

Result<Digest> hash_file(const fs::path& path, std::vector<char>& buf) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return error(ErrorCode::io, path.string() + ": " + std::strerror(errno));
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    core::Sha256 h;
    for (;;) {
        ssize_t n = read(fd, buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int err = errno;
            close(fd);
            return error(ErrorCode::io, path.string() + ": " + std::strerror(err));
        }
        if (n == 0) break;
        h.update(buf.data(), static_cast<std::size_t>(n));
    }
    close(fd);
    return h.finish();
}

// One node of a directory tree; files are hashed after the walk, in parallel.
struct Node {
    std::string name;
    std::string kind;  // file, exec, dir, symlink
    fs::path path;
    StatKey key;
    Digest digest;
    std::vector<Node> children;
};

// Walks with directory file descriptors (fstatat relative to the open
// directory), so each stat costs one name lookup, not a whole path walk.
Status walk(Node& dir, int dir_fd, std::vector<Node*>& files,
            std::vector<Node*>* subdirs = nullptr) {
    DIR* d = fdopendir(dir_fd);
    if (!d) {
        close(dir_fd);
        return error(ErrorCode::io, dir.path.string() + ": " + std::strerror(errno));
    }
    std::string prefix = dir.path.string() + "/";
    Status status;
    while (dirent* ent = readdir(d)) {
        std::string_view name = ent->d_name;
        if (name == "." || name == "..") continue;
        Node child;
        child.name = name;
        child.path = prefix + child.name;
        struct stat st {};
        if (fstatat(dirfd(d), ent->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            status = error(ErrorCode::io, child.path.string() + ": " + std::strerror(errno));
            break;
        }
        if (S_ISDIR(st.st_mode)) {
            child.kind = "dir";
        } else if (S_ISREG(st.st_mode)) {
            child.kind = (st.st_mode & S_IXUSR) ? "exec" : "file";
            child.key = key_of(st);
        } else if (S_ISLNK(st.st_mode)) {
            child.kind = "symlink";
            std::string target(static_cast<std::size_t>(st.st_size) + 1, '\0');
            ssize_t n = readlinkat(dirfd(d), ent->d_name, target.data(), target.size());
            if (n < 0) {
                status = error(ErrorCode::io, child.path.string() + ": " + std::strerror(errno));
                break;
            }
            target.resize(static_cast<std::size_t>(n));
            child.digest = core::TaggedHasher("retrace.symlink/1").field("target", target).digest();
        } else {
            status =
                error(ErrorCode::io, child.path.string() + ": not a file, directory or symlink");
            break;
        }
        dir.children.push_back(std::move(child));
    }
    if (!status.is_ok()) {
        closedir(d);
        return status;
    }
    std::sort(dir.children.begin(), dir.children.end(),
              [](const Node& a, const Node& b) { return a.name < b.name; });
    for (auto& c : dir.children) {
        if (c.kind == "dir" && subdirs) {
            subdirs->push_back(&c);  // walked later, in parallel
        } else if (c.kind == "dir") {
            int fd = openat(dirfd(d), c.name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (fd < 0) {
                status = error(ErrorCode::io, c.path.string() + ": " + std::strerror(errno));
                break;
            }
            status = walk(c, fd, files);
            if (!status.is_ok()) break;
        }
        if (c.kind == "file" || c.kind == "exec") files.push_back(&c);
    }
    closedir(d);
    return status;
}

// Walks the top directory, then its subdirectories on all cores: on a tree
// of many small files the stat calls are most of the cost.
Status walk_tree(Node& root, std::vector<Node*>& files) {
    int fd = open(root.path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return error(ErrorCode::io, root.path.string() + ": " + std::strerror(errno));
    std::vector<Node*> subdirs;
    RETRACE_TRY(walk(root, fd, files, &subdirs));
    std::atomic<std::size_t> next{0};
    std::mutex mutex;
    Status first_error;
    auto worker = [&] {
        std::vector<Node*> mine;
        for (std::size_t i; (i = next++) < subdirs.size();) {
            Node& dir = *subdirs[i];
            int dfd = open(dir.path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            Status s = dfd < 0
                           ? error(ErrorCode::io, dir.path.string() + ": " + std::strerror(errno))
                           : walk(dir, dfd, mine);
            if (!s.is_ok()) {
                std::lock_guard lock(mutex);
                if (first_error.is_ok()) first_error = s;
            }
        }
        std::lock_guard lock(mutex);
        files.insert(files.end(), mine.begin(), mine.end());
    };
    std::size_t threads =
        std::min<std::size_t>(std::max(1u, std::thread::hardware_concurrency()), subdirs.size());
    std::vector<std::thread> pool;
    for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
    return first_error;
}

Digest tree_digest(Node& dir) {
    core::TaggedHasher h("retrace.tree/1");
    for (auto& c : dir.children) {
        if (c.kind == "dir") c.digest = tree_digest(c);
        h.field("entry", c.kind + " " + c.name + " " + c.digest.to_string());
    }
    return h.digest();
}

Status hash_files(std::vector<Node*> files, StatCache* cache) {
    // Cache hits first, on this thread: an unchanged tree then needs no
    // worker threads and no locking between them.
    if (cache) {
        std::erase_if(files, [&](Node* f) {
            auto hit = cache->lookup(f->path, f->key);
            if (hit) f->digest = *hit;
            return hit.has_value();
        });
    }
    std::atomic<std::size_t> next{0};
    std::mutex error_mutex;
    Status first_error;
    auto worker = [&] {
        std::vector<char> buf(k_read_size);
        for (std::size_t i; (i = next++) < files.size();) {
            Node& f = *files[i];
            auto d = hash_file(f.path, buf);
            if (!d) {
                std::lock_guard lock(error_mutex);
                if (first_error.is_ok()) first_error = d.status();
                continue;
            }
            f.digest = *d;
            if (cache) cache->store(f.path, f.key, f.digest);
        }
    };
    std::size_t threads = std::max(1u, std::thread::hardware_concurrency());
    threads = std::min(threads, std::max<std::size_t>(1, files.size() / 16));
    std::vector<std::thread> pool;
    for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
    return first_error;
}

}  // namespace

Result<InputDigest> digest_path(const fs::path& input, StatCache* cache) {
    std::error_code ec;
    fs::path path = fs::absolute(input, ec);
    struct stat st {};
    if (stat(path.c_str(), &st) != 0)  // a symlink given by the user is followed
        return error(ErrorCode::io, input.string() + ": " + std::strerror(errno));
    InputDigest out;
    if (S_ISREG(st.st_mode)) {
        out.kind = "file";
        out.files = 1;
        out.bytes = static_cast<std::uint64_t>(st.st_size);
        StatKey key = key_of(st);
        fs::path canonical = fs::weakly_canonical(path, ec);
        if (cache)
            if (auto hit = cache->lookup(canonical, key)) {
                out.digest = *hit;
                return out;
            }
        std::vector<char> buf(k_read_size);
        RETRACE_ASSIGN(out.digest, hash_file(path, buf));
        if (cache) cache->store(canonical, key, out.digest);
        return out;
    }
    if (!S_ISDIR(st.st_mode))
        return error(ErrorCode::io, input.string() + ": not a file or directory");
    Node root;
    root.path = fs::weakly_canonical(path, ec);
    root.kind = "dir";
    std::vector<Node*> files;
    RETRACE_TRY(walk_tree(root, files));
    RETRACE_TRY(hash_files(files, cache));
    out.kind = "dir";
    out.digest = tree_digest(root);
    out.files = files.size();
    for (const Node* f : files) out.bytes += f->key.size;
    return out;
}

}  // namespace retrace::capture
