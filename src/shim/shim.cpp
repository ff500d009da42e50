// The determinism shim (LD_PRELOAD): records a process's wall-clock reads
// and OS randomness, and feeds them back on replay, so an unmodified program
// that seeds from the OS or stamps its prompts with the time replays
// identically. See docs/determinism.md.
//
// Intercepted: time, gettimeofday, clock_gettime with CLOCK_REALTIME*
// (monotonic clocks pass through untouched), getrandom, getentropy, and
// reads from /dev/urandom and /dev/random (opened with open, openat or
// fopen). Each process writes one stream
// of values to $RETRACE_SHIM_DIR; `record` stores it (compressed) with the
// run's process event, `replay` writes it back for the shim to read.
//
// Streams are named by the process's command line and its occurrence, so
// that the same process of a replay finds its own: "<cmdline hash>-<n>"
// (the run's own base URL in an argument is written as a placeholder).
// A stream starts with the process's command line (a header record). A
// record is a tag byte, then a payload: clock values as the zigzag varint
// of their difference from the previous one (small and compressible), bytes
// as a varint length then the bytes.
//
// A recording process writes its stream into a shared mapping of the file,
// not through a buffer: every value is in the file the moment it is handed
// out, so a process that ends without running its exit handlers (exec,
// _exit, a signal) loses none. The file starts with a prelude, the magic
// "RTSLIVE" and the length of the stream written so far, set after each
// complete value; the recorder reads that many bytes after it. Space is
// allocated before it is mapped (posix_fallocate), so a full disk stops
// the recording with a message instead of a SIGBUS in the program.
//
// Runs inside arbitrary programs, so: no C++ runtime beyond the language,
// no allocation on the hot path, no exceptions, never built with sanitizers.

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

namespace {

enum Tag : unsigned char {
    k_header = 'H',  // first: the process's command line, for reports
    k_clock = 'C',   // one CLOCK_REALTIME* reading, nanoseconds since the epoch
    k_random = 'R',  // bytes of OS randomness
};

enum Mode { off, recording, replaying };

using clock_gettime_fn = int (*)(clockid_t, struct timespec*);
using gettimeofday_fn = int (*)(struct timeval*, void*);
using time_fn = time_t (*)(time_t*);
using getrandom_fn = ssize_t (*)(void*, size_t, unsigned int);
using getentropy_fn = int (*)(void*, size_t);
using read_fn = ssize_t (*)(int, void*, size_t);
using open_fn = int (*)(const char*, int, ...);
using openat_fn = int (*)(int, const char*, int, ...);
using close_fn = int (*)(int);
using fopen_fn = FILE* (*)(const char*, const char*);

struct Real {
    clock_gettime_fn clock_gettime;
    gettimeofday_fn gettimeofday;
    time_fn time;
    getrandom_fn getrandom;
    getentropy_fn getentropy;
    read_fn read;
    open_fn open, open64;
    openat_fn openat, openat64;
    close_fn close;
    fopen_fn fopen, fopen64;
};

Real g_real;
Mode g_mode = off;
pthread_mutex_t g_mutex = PTHREAD_MUTEX_INITIALIZER;
pthread_once_t g_once = PTHREAD_ONCE_INIT;
int g_fd = -1;              // the stream file
char g_name[512];           // its path, for messages
unsigned char g_buf[8192];  // replay: input window
size_t g_len = 0, g_pos = 0;
// Record: the mapped file, its mapped size, and the stream bytes written.
struct Prelude {
    char magic[8];  // "RTSLIVE"
    uint64_t length;
};
constexpr size_t k_prelude = sizeof(Prelude);
constexpr size_t k_chunk = size_t{64} << 10;  // the first mapping; it doubles as needed
unsigned char* g_map = nullptr;
size_t g_mapped = 0, g_used = 0;
bool g_full = false;  // could not grow: nothing more is recorded
bool g_eof = false;
bool g_diverged = false;
int64_t g_last_clock = 0;
__thread int t_paused = 0;  // retrace_shim_pause(): SDK calls record their own results
constexpr int k_max_fd = 4096;
unsigned char g_random_fd[k_max_fd];  // fds open on /dev/urandom or /dev/random

template <class F>
F next_symbol(const char* name) {
    return reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}

void say(const char* fmt, ...) {
    char line[768];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > 0) {
        ssize_t ignored =
            write(2, line, static_cast<size_t>(n) < sizeof line ? n : sizeof line - 1);
        (void)ignored;
    }
}

// Record: makes room for n more stream bytes; called locked. False (said
// once) when the file cannot grow.
bool reserve(size_t n) {
    if (g_full) return false;
    size_t need = k_prelude + g_used + n;
    if (g_map && need <= g_mapped) return true;
    size_t size = g_mapped ? g_mapped : k_chunk;
    while (size < need) size *= 2;
    int err = posix_fallocate(g_fd, 0, static_cast<off_t>(size));
    void* map = MAP_FAILED;
    if (err == 0)
        map = g_map ? mremap(g_map, g_mapped, size, MREMAP_MAYMOVE)
                    : mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, g_fd, 0);
    if (map == MAP_FAILED) {
        g_full = true;
        say("retrace: determinism shim: cannot grow %s to %zu bytes (%s); this process's "
            "values from here on are not recorded\n",
            g_name, size, strerror(err ? err : errno));
        return false;
    }
    g_map = static_cast<unsigned char*>(map);
    g_mapped = size;
    return true;
}

// Record: the values written so far are the stream; called locked, after
// each complete value.
void commit() {
    __atomic_store_n(&reinterpret_cast<Prelude*>(g_map)->length, g_used, __ATOMIC_RELEASE);
}

void put_byte(unsigned char b) {
    g_map[k_prelude + g_used++] = b;
}

// Record: the mapping is the parent's (after fork) or no longer needed.
void unmap() {
    if (g_map) munmap(g_map, g_mapped);
    g_map = nullptr;
    g_mapped = g_used = 0;
    g_full = false;
}

uint64_t fnv1a(const unsigned char* p, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

// The process's command line (/proc/self/cmdline, arguments separated by
// NUL) as the same process of another run has it: retrace's base URL for
// the run, which holds a port and an access token of this run alone (curl
// given "$OPENAI_BASE_URL/chat/completions"), is written as
// ${RETRACE_PROXY_URL}. Returns its length in out.
constexpr char k_url_placeholder[] = "${RETRACE_PROXY_URL}";
size_t command_line(unsigned char* out, size_t cap) {
    unsigned char raw[4096];
    size_t len = 0;
    int fd = g_real.open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n;
        while (len < sizeof raw && (n = g_real.read(fd, raw + len, sizeof raw - len)) > 0)
            len += static_cast<size_t>(n);
        g_real.close(fd);
    }
    const char* url = getenv("RETRACE_PROXY_URL");
    size_t url_len = url ? strlen(url) : 0;
    size_t at = 0;
    for (size_t i = 0; i < len && at < cap;) {
        if (url_len > 0 && len - i >= url_len && memcmp(raw + i, url, url_len) == 0) {
            size_t k = sizeof k_url_placeholder - 1;
            if (k > cap - at) k = cap - at;
            memcpy(out + at, k_url_placeholder, k);
            at += k;
            i += url_len;
        } else {
            out[at++] = raw[i++];
        }
    }
    return at;
}

// The stream's name: a hash of the command line and the first free
// occurrence number, claimed with O_EXCL so concurrent processes never share.
bool open_stream(const char* dir, bool replay) {
    unsigned char cmdline[4096];
    size_t len = command_line(cmdline, sizeof cmdline);
    uint64_t h = fnv1a(cmdline, len);
    for (int n = 1; n < 100000; ++n) {
        char claim[512];
        snprintf(claim, sizeof claim, "%s/%016llx-%d.%s", dir, static_cast<unsigned long long>(h),
                 n, replay ? "claim" : "rts");
        int c = g_real.open(claim, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);  // RDWR: mapped
        if (c < 0) continue;
        snprintf(g_name, sizeof g_name, "%s/%016llx-%d.rts", dir,
                 static_cast<unsigned long long>(h), n);
        if (!replay) {
            g_fd = c;
            if (!reserve(0)) return false;
            memcpy(reinterpret_cast<Prelude*>(g_map)->magic, "RTSLIVE", 8);
            return true;
        }
        g_real.close(c);
        g_fd = g_real.open(g_name, O_RDONLY | O_CLOEXEC);
        if (g_fd < 0) g_eof = true;  // a process that was not recorded: every value diverges
        return true;
    }
    return false;
}

void put_varint(uint64_t v);
int get_byte();
bool get_varint(uint64_t& v);

// Record: writes the header; replay: skips it.
void begin_stream(bool replay) {
    if (replay) {
        uint64_t n = 0;
        if (get_byte() == k_header && get_varint(n))
            for (uint64_t i = 0; i < n; ++i) (void)get_byte();
        else
            g_pos = 0;  // no header: read from the start
        return;
    }
    unsigned char cmdline[256];
    size_t len = command_line(cmdline, sizeof cmdline);
    while (len > 0 && cmdline[len - 1] == 0) --len;
    for (size_t i = 0; i < len; ++i)
        if (cmdline[i] == 0) cmdline[i] = ' ';
    if (!reserve(len + 16)) return;
    put_byte(k_header);
    put_varint(len);
    memcpy(g_map + k_prelude + g_used, cmdline, len);
    g_used += len;
    commit();
}

void init() {
    g_real.clock_gettime = next_symbol<clock_gettime_fn>("clock_gettime");
    g_real.gettimeofday = next_symbol<gettimeofday_fn>("gettimeofday");
    g_real.time = next_symbol<time_fn>("time");
    g_real.getrandom = next_symbol<getrandom_fn>("getrandom");
    g_real.getentropy = next_symbol<getentropy_fn>("getentropy");
    g_real.read = next_symbol<read_fn>("read");
    g_real.open = next_symbol<open_fn>("open");
    g_real.open64 = next_symbol<open_fn>("open64");
    g_real.openat = next_symbol<openat_fn>("openat");
    g_real.openat64 = next_symbol<openat_fn>("openat64");
    g_real.close = next_symbol<close_fn>("close");
    g_real.fopen = next_symbol<fopen_fn>("fopen");
    g_real.fopen64 = next_symbol<fopen_fn>("fopen64");
    const char* mode = getenv("RETRACE_SHIM_MODE");
    const char* dir = getenv("RETRACE_SHIM_DIR");
    if (!mode || !dir || !g_real.read || !g_real.open || !g_real.close) return;
    bool replay = strcmp(mode, "replay") == 0;
    if (!replay && strcmp(mode, "record") != 0) return;
    if (!open_stream(dir, replay)) {
        say("retrace: determinism shim: cannot open a stream in %s\n", dir);
        return;
    }
    begin_stream(replay);
    g_mode = replay ? replaying : recording;
}

inline Mode mode() {
    pthread_once(&g_once, init);
    return t_paused ? off : g_mode;
}

void put_varint(uint64_t v) {
    while (v >= 0x80) {
        put_byte(static_cast<unsigned char>(v | 0x80));
        v >>= 7;
    }
    put_byte(static_cast<unsigned char>(v));
}

// Record: appends one value; called locked.
void put(Tag tag, int64_t clock, const void* bytes, size_t n) {
    // A tag and a varint of at most ten bytes, then the bytes.
    if (!reserve(11 + (tag == k_clock ? 0 : n))) return;
    put_byte(tag);
    if (tag == k_clock) {
        int64_t d = clock - g_last_clock;
        g_last_clock = clock;
        put_varint((static_cast<uint64_t>(d) << 1) ^ static_cast<uint64_t>(d >> 63));
    } else {
        put_varint(n);
        memcpy(g_map + k_prelude + g_used, bytes, n);
        g_used += n;
    }
    commit();
}

// Replay: the next input byte, or -1 at the end of the stream; called locked.
int get_byte() {
    if (g_pos == g_len) {
        if (g_eof || g_fd < 0) return -1;
        ssize_t n = g_real.read(g_fd, g_buf, sizeof g_buf);
        if (n <= 0) {
            g_eof = true;
            return -1;
        }
        g_len = static_cast<size_t>(n);
        g_pos = 0;
    }
    return g_buf[g_pos++];
}

bool get_varint(uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        int b = get_byte();
        if (b < 0) return false;
        v |= static_cast<uint64_t>(b & 0x7f) << shift;
        if (!(b & 0x80)) return true;
    }
    return false;
}

// A replayed program asked for a value the recording does not hold (more
// values, or another kind or size): said once, marked for `replay` to
// report, and from then on the real values are used.
void diverge(const char* what) {
    if (g_diverged) return;
    g_diverged = true;
    char marker[600];
    snprintf(marker, sizeof marker, "%s.diverged", g_name);
    int fd = g_real.open(marker, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd >= 0) {
        ssize_t ignored = write(fd, what, strlen(what));
        (void)ignored;
        g_real.close(fd);
    }
    say("retrace: determinism shim: %s; the replay has diverged (real values from here on)\n",
        what);
}

// Replay: the next recorded value, which must be of this kind (and, for
// bytes, this size). False (after diverge) when it is not there.
bool take(Tag tag, int64_t& clock, void* bytes, size_t n) {
    if (g_diverged) return false;
    int t = get_byte();
    if (t < 0) {
        diverge(tag == k_clock ? "the program read the clock more often than when recorded"
                               : "the program asked for more random bytes than when recorded");
        return false;
    }
    if (t != tag) {
        diverge(tag == k_clock
                    ? "the program read the clock where it drew random bytes when recorded"
                    : "the program drew random bytes where it read the clock when recorded");
        return false;
    }
    uint64_t v;
    if (!get_varint(v)) {
        diverge("the recorded stream is cut short");
        return false;
    }
    if (tag == k_clock) {
        int64_t d = static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
        g_last_clock += d;
        clock = g_last_clock;
        return true;
    }
    if (v != n) {
        char what[160];
        snprintf(what, sizeof what,
                 "the program asked for %zu random bytes where %llu were recorded", n,
                 static_cast<unsigned long long>(v));
        diverge(what);
        return false;
    }
    auto* p = static_cast<unsigned char*>(bytes);
    for (size_t i = 0; i < n; ++i) {
        int b = get_byte();
        if (b < 0) {
            diverge("the recorded stream is cut short");
            return false;
        }
        p[i] = static_cast<unsigned char>(b);
    }
    return true;
}

bool is_realtime(clockid_t id) {
    return id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE
#ifdef CLOCK_REALTIME_ALARM
           || id == CLOCK_REALTIME_ALARM
#endif
        ;
}

// One wall-clock reading in nanoseconds, recorded or replayed.
int64_t wall_clock(int64_t real_ns) {
    Mode m = mode();
    if (m == off) return real_ns;
    pthread_mutex_lock(&g_mutex);
    int64_t v = real_ns;
    if (m == recording)
        put(k_clock, real_ns, nullptr, 0);
    else if (!take(k_clock, v, nullptr, 0))
        v = real_ns;
    pthread_mutex_unlock(&g_mutex);
    return v;
}

// n bytes of randomness the real call has put in buf, recorded or replaced.
void randomness(void* buf, size_t n) {
    Mode m = mode();
    if (m == off || n == 0) return;
    pthread_mutex_lock(&g_mutex);
    int64_t unused = 0;
    if (m == recording)
        put(k_random, 0, buf, n);
    else
        (void)take(k_random, unused, buf, n);
    pthread_mutex_unlock(&g_mutex);
}

bool is_random_device(const char* path) {
    return path && (strcmp(path, "/dev/urandom") == 0 || strcmp(path, "/dev/random") == 0);
}

void track(int fd, const char* path) {
    if (fd >= 0 && fd < k_max_fd) g_random_fd[fd] = is_random_device(path) ? 1 : 0;
}

// Held across fork, so that the child never sees a value half-written.
void before_fork() {
    pthread_mutex_lock(&g_mutex);
}
void after_fork_parent() {
    pthread_mutex_unlock(&g_mutex);
}
// A forked child is a process of its own: it gets a stream of its own.
void after_fork_child() {
    pthread_mutex_unlock(&g_mutex);
    if (g_mode == off) return;
    unmap();
    if (g_fd >= 0) g_real.close(g_fd);
    g_fd = -1;
    g_len = g_pos = 0;
    g_eof = g_diverged = false;
    g_last_clock = 0;
    const char* dir = getenv("RETRACE_SHIM_DIR");
    Mode m = g_mode;
    g_mode = off;
    if (dir && open_stream(dir, m == replaying)) {
        begin_stream(m == replaying);
        g_mode = m;
    }
}

__attribute__((constructor)) void start() {
    pthread_once(&g_once, init);
    if (g_mode == off) return;
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

}  // namespace

// The mode argument open() and openat() take only with O_CREAT or O_TMPFILE
// (as glibc reads it).
#define RETRACE_SHIM_MODE_ARG(flags, m)                          \
    if (((flags)&O_CREAT) || ((flags)&O_TMPFILE) == O_TMPFILE) { \
        va_list ap;                                              \
        va_start(ap, flags);                                     \
        m = static_cast<mode_t>(va_arg(ap, int));                \
        va_end(ap);                                              \
    }

namespace {

// A random device opened with fopen: stdio reads through glibc's internal
// read, which cannot be interposed, so the stream is one of our own
// (fopencookie) whose reads are recorded and replayed like read(2)'s.
ssize_t random_cookie_read(void* cookie, char* buf, size_t n) {
    int fd = static_cast<int>(reinterpret_cast<intptr_t>(cookie));
    ssize_t got = g_real.read(fd, buf, n);
    if (got > 0) randomness(buf, static_cast<size_t>(got));
    return got;
}

int random_cookie_close(void* cookie) {
    return g_real.close(static_cast<int>(reinterpret_cast<intptr_t>(cookie)));
}

FILE* open_random_device(fopen_fn real, const char* path, const char* how) {
    if (!real) return nullptr;
    // Only a plain read-only open, by a process that records or replays.
    if (mode() == off || !is_random_device(path) || !how || how[0] != 'r' || strchr(how, '+'))
        return real(path, how);
    int fd = g_real.open(path, O_RDONLY | (strchr(how, 'e') ? O_CLOEXEC : 0));
    if (fd < 0) return nullptr;
    cookie_io_functions_t io{random_cookie_read, nullptr, nullptr, random_cookie_close};
    FILE* f = fopencookie(reinterpret_cast<void*>(static_cast<intptr_t>(fd)), "r", io);
    if (!f) g_real.close(fd);
    return f;
}

}  // namespace

extern "C" {

__attribute__((visibility("default"))) FILE* fopen(const char* path, const char* how) {
    pthread_once(&g_once, init);
    return open_random_device(g_real.fopen, path, how);
}

__attribute__((visibility("default"))) FILE* fopen64(const char* path, const char* how) {
    pthread_once(&g_once, init);
    return open_random_device(g_real.fopen64 ? g_real.fopen64 : g_real.fopen, path, how);
}

// Calls made while paused on a thread pass through: the SDKs pause around a
// tool they record, whose result is replayed without running it.
__attribute__((visibility("default"))) void retrace_shim_pause(int delta) {
    t_paused += delta;
}

__attribute__((visibility("default"))) int clock_gettime(clockid_t id, struct timespec* ts) {
    pthread_once(&g_once, init);
    int rc = g_real.clock_gettime(id, ts);
    if (rc != 0 || !is_realtime(id)) return rc;
    int64_t v = wall_clock(static_cast<int64_t>(ts->tv_sec) * 1000000000 + ts->tv_nsec);
    ts->tv_sec = v / 1000000000;
    ts->tv_nsec = v % 1000000000;
    return rc;
}

__attribute__((visibility("default"))) int gettimeofday(struct timeval* tv, void* tz) {
    pthread_once(&g_once, init);
    int rc = g_real.gettimeofday(tv, tz);
    if (rc != 0) return rc;
    int64_t v = wall_clock((static_cast<int64_t>(tv->tv_sec) * 1000000 + tv->tv_usec) * 1000);
    tv->tv_sec = v / 1000000000;
    tv->tv_usec = (v % 1000000000) / 1000;
    return rc;
}

__attribute__((visibility("default"))) time_t time(time_t* out) {
    pthread_once(&g_once, init);
    time_t t = g_real.time(nullptr);
    t = static_cast<time_t>(wall_clock(static_cast<int64_t>(t) * 1000000000) / 1000000000);
    if (out) *out = t;
    return t;
}

__attribute__((visibility("default"))) ssize_t getrandom(void* buf, size_t n, unsigned int flags) {
    pthread_once(&g_once, init);
    ssize_t got = g_real.getrandom(buf, n, flags);
    if (got > 0) randomness(buf, static_cast<size_t>(got));
    return got;
}

__attribute__((visibility("default"))) int getentropy(void* buf, size_t n) {
    pthread_once(&g_once, init);
    int rc = g_real.getentropy(buf, n);
    if (rc == 0) randomness(buf, n);
    return rc;
}

__attribute__((visibility("default"))) int open(const char* path, int flags, ...) {
    pthread_once(&g_once, init);
    mode_t m = 0;
    RETRACE_SHIM_MODE_ARG(flags, m);
    int fd = g_real.open(path, flags, m);
    track(fd, path);
    return fd;
}

__attribute__((visibility("default"))) int open64(const char* path, int flags, ...) {
    pthread_once(&g_once, init);
    mode_t m = 0;
    RETRACE_SHIM_MODE_ARG(flags, m);
    int fd = (g_real.open64 ? g_real.open64 : g_real.open)(path, flags, m);
    track(fd, path);
    return fd;
}

__attribute__((visibility("default"))) int openat(int dir, const char* path, int flags, ...) {
    pthread_once(&g_once, init);
    mode_t m = 0;
    RETRACE_SHIM_MODE_ARG(flags, m);
    int fd = g_real.openat(dir, path, flags, m);
    track(fd, path);
    return fd;
}

__attribute__((visibility("default"))) int openat64(int dir, const char* path, int flags, ...) {
    pthread_once(&g_once, init);
    mode_t m = 0;
    RETRACE_SHIM_MODE_ARG(flags, m);
    int fd = (g_real.openat64 ? g_real.openat64 : g_real.openat)(dir, path, flags, m);
    track(fd, path);
    return fd;
}

__attribute__((visibility("default"))) ssize_t read(int fd, void* buf, size_t n) {
    pthread_once(&g_once, init);
    ssize_t got = g_real.read(fd, buf, n);
    if (got > 0 && fd >= 0 && fd < k_max_fd && g_random_fd[fd])
        randomness(buf, static_cast<size_t>(got));
    return got;
}

__attribute__((visibility("default"))) int close(int fd) {
    pthread_once(&g_once, init);
    if (fd >= 0 && fd < k_max_fd) g_random_fd[fd] = 0;
    return g_real.close(fd);
}

}  // extern "C"
