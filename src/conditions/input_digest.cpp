// Content digests of files and directory trees (see docs/identity.md).
//
// A tree is identified in three passes: walk it (one fstatat per file, on
// all cores), hash the files the stat cache cannot vouch for (on all
// cores), then fold the sorted entries into tree digests bottom-up.
#include "retrace/conditions/input_digest.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <semaphore>
#include <thread>
#include <vector>

#include "retrace/core/clock.hpp"
#include "retrace/core/hasher.hpp"

namespace retrace::conditions {

namespace {

namespace fs = std::filesystem;
using core::Digest;

// Large reads keep the per-call cost small next to hashing (SHA-256 runs at
// ~1.7 GB/s, so 1 MiB is ~0.6 ms of hashing per system call).
constexpr std::size_t k_read_size = 1 << 20;
// From this size on a file is read on a thread of its own when a core is
// free; below it the thread costs more than the copying it hides.
constexpr std::uint64_t k_pipeline_min_size = 64 << 20;
// A file modified this close to the moment it was hashed may change again
// within the same timestamp tick without changing its stat data, so its
// digest is not cached (git's racy rule). 2 s covers FAT's 2 s timestamps.
constexpr std::int64_t k_racy_window_ns = 2'000'000'000;

Status io_error(std::string_view path, int err) {
    return error(ErrorCode::io, std::string(path) + ": " + std::strerror(err));
}

StatKey key_of(const struct stat& st) {
    return StatKey{static_cast<std::uint64_t>(st.st_size),
                   st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec,
                   st.st_ctim.tv_sec * 1'000'000'000LL + st.st_ctim.tv_nsec,
                   static_cast<std::uint64_t>(st.st_ino), static_cast<std::uint64_t>(st.st_dev)};
}

// Runs fn on n threads, this one included.
template <typename Fn>
void on_threads(std::size_t n, Fn fn) {
    std::vector<std::jthread> pool;
    for (std::size_t i = 1; i < n; ++i) pool.emplace_back(fn);
    fn();
}

// Cached: glibc answers hardware_concurrency() by reading a sysfs file.
std::size_t cores() {
    static const std::size_t n = std::max(1u, std::thread::hardware_concurrency());
    return n;
}

ssize_t read_some(int fd, char* buf, std::size_t size) {
    ssize_t n;
    do n = read(fd, buf, size);
    while (n < 0 && errno == EINTR);
    return n;
}

// Reads on a second thread while this one hashes, so copying out of the
// page cache overlaps SHA-256 instead of adding to it (~8% on one big file).
// Only worth a thread when a core would otherwise be idle. Returns an errno.
int hash_pipelined(int fd, core::Sha256& h) {
    // 256 KiB slots beat 1 MiB ones by ~3%: a slot just filled by the reader
    // is still in a cache level both cores share when it is hashed.
    constexpr std::size_t k_slot_size = 256 << 10, k_slots = 8;
    auto buf = std::make_unique_for_overwrite<char[]>(k_slots * k_slot_size);
    std::array<ssize_t, k_slots> filled{};  // bytes; 0 at the end, -errno on failure
    std::counting_semaphore<k_slots> free_slots(k_slots), full_slots(0);
    std::jthread reader([&] {
        for (std::size_t i = 0;; i = (i + 1) % k_slots) {
            free_slots.acquire();
            ssize_t n = read_some(fd, buf.get() + i * k_slot_size, k_slot_size);
            filled[i] = n < 0 ? -errno : n;
            full_slots.release();
            if (n <= 0) return;
        }
    });
    ssize_t n = 0;
    for (std::size_t i = 0;; i = (i + 1) % k_slots) {
        full_slots.acquire();
        if ((n = filled[i]) <= 0) break;
        h.update(buf.get() + i * k_slot_size, static_cast<std::size_t>(n));
        free_slots.release();
    }
    return n < 0 ? static_cast<int>(-n) : 0;
}

// buf holds k_read_size bytes; size is what stat said. spare_core: no other
// file is being hashed, so a big file may use a reader thread.
Result<Digest> hash_file(const std::string& path, char* buf, std::uint64_t size, bool spare_core) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return io_error(path, errno);
    // Larger read-ahead from disk; for small files a wasted system call.
    if (size >= k_read_size) posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    core::Sha256 h;
    int err = 0;
    if (spare_core && size >= k_pipeline_min_size) {
        err = hash_pipelined(fd, h);
    } else {
        ssize_t n;
        while ((n = read_some(fd, buf, k_read_size)) > 0)
            h.update(buf, static_cast<std::size_t>(n));
        if (n < 0) err = errno;
    }
    close(fd);
    if (err) return io_error(path, err);
    return h.finish();
}

enum class Kind : std::uint8_t { file, exec, dir, symlink };
constexpr std::string_view k_kind_names[] = {"file", "exec", "dir", "symlink"};

struct Dir;

struct Entry {
    std::string name;
    Kind kind = Kind::file;
    Dir* dir = nullptr;  // kind dir
    StatKey key;         // kind file and exec
    Digest digest;       // all but dirs, whose digests fold() computes
};

struct Dir {
    std::string path;  // absolute; ends in '/' only if it is "/"
    std::vector<Entry> entries;
    std::string prefix() const { return path.ends_with('/') ? path : path + '/'; }
};

// A regular file found by the walk, to be looked up or hashed.
struct File {
    Dir* dir;
    std::size_t index;
    Entry& entry() const { return dir->entries[index]; }
    std::string path() const {
        std::string p;
        p.reserve(dir->path.size() + 1 + entry().name.size());
        p += dir->path;
        if (!p.ends_with('/')) p += '/';
        return p += entry().name;
    }
};

// The first of the errors of several threads.
struct FirstError {
    std::mutex mutex;
    Status status;
    void set(const Status& s) {
        std::lock_guard lock(mutex);
        if (status.is_ok()) status = s;
    }
};

Result<std::string> read_link(int dir_fd, const char* name, const std::string& path) {
    for (std::size_t size = 256;; size *= 2) {
        std::string target(size, '\0');
        ssize_t n = readlinkat(dir_fd, name, target.data(), size);
        if (n < 0) return io_error(path, errno);
        if (static_cast<std::size_t>(n) < size)
            return target.substr(0, static_cast<std::size_t>(n));
    }
}

// Reads one directory into dir.entries, sorted by name bytes: a stat key per
// regular file, the target of each symlink (recorded, never followed: a
// tree's identity must not depend on what lies outside it), and a new Dir
// per subdirectory, which is returned in subdirs to be walked later.
Status list_dir(Dir& dir, std::deque<Dir>& all, std::mutex& all_mutex, std::vector<Dir*>& subdirs) {
    // O_NOFOLLOW: a directory replaced by a symlink since it was listed
    // must not lead the walk out of the tree.
    int fd = open(dir.path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR* d = fd < 0 ? nullptr : fdopendir(fd);
    if (!d) {
        Status s = io_error(dir.path, errno);
        if (fd >= 0) close(fd);
        return s;
    }
    std::string prefix = dir.prefix();
    Status status;
    while (dirent* ent = readdir(d)) {
        const char* name = ent->d_name;
        if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0))) continue;
        Entry& e = dir.entries.emplace_back();
        e.name = name;
        unsigned char type = ent->d_type;  // saves a stat per directory and symlink
        struct stat st {};
        if (type == DT_REG || type == DT_UNKNOWN) {
            if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
                status = io_error(prefix + name, errno);
                break;
            }
            type = S_ISREG(st.st_mode)   ? DT_REG
                   : S_ISDIR(st.st_mode) ? DT_DIR
                   : S_ISLNK(st.st_mode) ? DT_LNK
                                         : DT_UNKNOWN;
        }
        if (type == DT_REG) {
            e.kind = (st.st_mode & S_IXUSR) ? Kind::exec : Kind::file;
            e.key = key_of(st);
        } else if (type == DT_DIR) {
            e.kind = Kind::dir;
        } else if (type == DT_LNK) {
            e.kind = Kind::symlink;
            auto target = read_link(dirfd(d), name, prefix + name);
            if (!target) {
                status = target.status();
                break;
            }
            e.digest = core::TaggedHasher("retrace.symlink/1").field("target", *target).digest();
        } else {
            status =
                error(ErrorCode::io, prefix + name + ": not a regular file, directory or symlink");
            break;
        }
    }
    closedir(d);
    if (!status.is_ok()) return status;
    // std::string compares as unsigned char, i.e. by bytes.
    std::sort(dir.entries.begin(), dir.entries.end(),
              [](const Entry& a, const Entry& b) { return a.name < b.name; });
    for (Entry& e : dir.entries) {
        if (e.kind != Kind::dir) continue;
        std::lock_guard lock(all_mutex);
        subdirs.push_back(e.dir = &all.emplace_back(Dir{prefix + e.name, {}}));
    }
    return status;
}

// Walks the tree below root on all cores: workers take directories from a
// shared queue and add the subdirectories they find, so the walk spreads
// over the cores whatever the shape of the tree (except one huge flat
// directory). On a tree of many small files the stat calls are most of the
// cost. Returns the regular files in walk order.
Result<std::vector<File>> walk_tree(Dir& root, std::deque<Dir>& all) {
    std::mutex mutex;  // guards all of the below and `all`
    std::condition_variable cv;
    std::vector<Dir*> pending{&root}, done;
    std::size_t active = 0;
    Status first_error;
    on_threads(cores(), [&] {
        std::vector<Dir*> found;
        std::unique_lock lock(mutex);
        for (;;) {
            cv.wait(lock, [&] { return !pending.empty() || active == 0; });
            if (pending.empty() || !first_error.is_ok()) break;
            Dir* dir = pending.back();
            pending.pop_back();
            ++active;
            lock.unlock();
            found.clear();
            Status s = list_dir(*dir, all, mutex, found);
            lock.lock();
            --active;
            if (!s.is_ok() && first_error.is_ok()) first_error = s;
            pending.insert(pending.end(), found.begin(), found.end());
            done.push_back(dir);
            cv.notify_all();
        }
        cv.notify_all();
    });
    if (!first_error.is_ok()) return first_error;
    std::vector<File> files;
    for (Dir* dir : done)
        for (std::size_t i = 0; i < dir->entries.size(); ++i)
            if (dir->entries[i].kind <= Kind::exec) files.push_back(File{dir, i});
    return files;
}

// Fills in every file's digest: from the cache where it vouches for the stat
// key, else by reading the file. A digest is stored in the cache only if
// its file was last modified well before started_ns (the racy rule).
Status hash_files(const std::vector<File>& files, StatCache* cache, std::int64_t started_ns) {
    std::vector<const File*> todo;
    // Lookups on this thread, before any worker starts: re-identifying an
    // unchanged tree then needs no threads and no locking.
    for (const File& f : files) {
        auto hit = cache ? cache->lookup(f.path(), f.entry().key) : std::nullopt;
        if (hit)
            f.entry().digest = *hit;
        else
            todo.push_back(&f);
    }
    // Largest first, so that a big file does not start last and run alone.
    std::stable_sort(todo.begin(), todo.end(), [](const File* a, const File* b) {
        return a->entry().key.size > b->entry().key.size;
    });
    if (todo.empty()) return Status::ok();
    const std::size_t threads = std::min(cores(), todo.size());
    std::atomic<std::size_t> next{0};
    FirstError first_error;
    const bool spare_core = threads < cores();
    on_threads(threads, [&] {
        // Not zeroed: hashing small files touches only the first pages.
        auto buf = std::make_unique_for_overwrite<char[]>(k_read_size);
        for (std::size_t i; (i = next++) < todo.size();) {
            Entry& e = todo[i]->entry();
            std::string path = todo[i]->path();
            auto d = hash_file(path, buf.get(), e.key.size, spare_core);
            if (!d) {
                first_error.set(d.status());
                next = todo.size();  // stops the others early
                return;
            }
            e.digest = *d;
            if (cache && e.key.mtime_ns + k_racy_window_ns < started_ns)
                cache->store(path, e.key, e.digest);
        }
    });
    return first_error.status;
}

// Folds each directory's sorted entries into its digest, children first.
Digest fold(const Dir& dir) {
    core::TaggedHasher h("retrace.tree/1");
    for (const Entry& e : dir.entries) {
        Digest d = e.kind == Kind::dir ? fold(*e.dir) : e.digest;
        h.field("entry", std::string(k_kind_names[static_cast<int>(e.kind)]) + ' ' + e.name + ' ' +
                             d.to_string());
    }
    return h.digest();
}

}  // namespace

Result<InputDigest> digest_path(const fs::path& input, StatCache* cache) {
    // Taken before any stat, for the racy rule.
    const std::int64_t started_ns = core::unix_now_ns();
    std::error_code ec;
    fs::path path = fs::absolute(input, ec);
    struct stat st {};
    if (ec || stat(path.c_str(), &st) != 0)  // a symlink given by the user is followed
        return io_error(input.string(), ec ? ec.value() : errno);
    fs::path canonical = fs::weakly_canonical(path, ec);  // the cache's key
    if (ec) return io_error(input.string(), ec.value());
    InputDigest out;
    if (S_ISREG(st.st_mode)) {
        out.kind = "file";
        out.files = 1;
        out.bytes = static_cast<std::uint64_t>(st.st_size);
        StatKey key = key_of(st);
        if (auto hit = cache ? cache->lookup(canonical, key) : std::nullopt) {
            out.digest = *hit;
            return out;
        }
        auto buf = std::make_unique_for_overwrite<char[]>(k_read_size);
        RETRACE_ASSIGN(out.digest, hash_file(canonical.native(), buf.get(), key.size, cores() > 1));
        if (cache && key.mtime_ns + k_racy_window_ns < started_ns)
            cache->store(canonical, key, out.digest);
        return out;
    }
    if (!S_ISDIR(st.st_mode))
        return error(ErrorCode::io, input.string() + ": not a regular file or directory");
    std::deque<Dir> dirs;  // a deque: entries point at their subdirectories
    Dir& root = dirs.emplace_back(Dir{canonical.native(), {}});
    RETRACE_ASSIGN(std::vector<File> files, walk_tree(root, dirs));
    RETRACE_TRY(hash_files(files, cache, started_ns));
    out.kind = "dir";
    out.digest = fold(root);
    out.files = files.size();
    for (const File& f : files) out.bytes += f.entry().key.size;
    return out;
}

}  // namespace retrace::conditions
