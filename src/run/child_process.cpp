#include "retrace/run/child_process.hpp"
#include "retrace/core/clock.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>

namespace retrace::run {

namespace {

// How long the output of a child that has exited is still read while
// processes it left behind hold its pipes open.
constexpr long long k_output_grace_ns = 2'000'000'000;
// How often a child whose output is still open is checked for its exit.
constexpr int k_reap_poll_ms = 200;

// The children running now (a probe runs several at once), each in a slot
// the signal handler reads; 0 is a free slot. Lock-free atomics: safe to
// read in a handler.
constexpr std::size_t k_slots = 512;
std::array<std::atomic<pid_t>, k_slots> g_children{};
std::atomic<int> g_termination{0};  // the first SIGINT/SIGTERM/SIGHUP received
static_assert(std::atomic<pid_t>::is_always_lock_free && std::atomic<int>::is_always_lock_free);

void forward_signal(int sig, siginfo_t* info, void*) {
    int none = 0;
    g_termination.compare_exchange_strong(none, sig);
    // Terminal-generated signals (si_code > 0, SI_KERNEL) already reach the
    // children through their process group; only forward those sent with kill().
    if (!info || info->si_code > 0) return;
    for (auto& slot : g_children)
        if (pid_t pid = slot.load(); pid > 0) kill(pid, sig);
}

// The handler is installed while any child runs, and the previous one put
// back when the last ends.
std::mutex g_handler_mutex;
int g_running = 0;
struct sigaction g_old_int {
}, g_old_term{}, g_old_hup{};

void child_started() {
    std::lock_guard lock(g_handler_mutex);
    if (g_running++ > 0) return;
    struct sigaction sa {};
    sa.sa_sigaction = forward_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &g_old_int);
    sigaction(SIGTERM, &sa, &g_old_term);
    sigaction(SIGHUP, &sa, &g_old_hup);
}

void child_ended() {
    std::lock_guard lock(g_handler_mutex);
    if (--g_running > 0) return;
    sigaction(SIGINT, &g_old_int, nullptr);
    sigaction(SIGTERM, &g_old_term, nullptr);
    sigaction(SIGHUP, &g_old_hup, nullptr);
}

// Puts pid in a free slot; returns the slot, or nullptr when all are taken
// (then signals are not forwarded to it; it still dies with us).
std::atomic<pid_t>* enlist(pid_t pid) {
    for (auto& slot : g_children) {
        pid_t free = 0;
        if (slot.compare_exchange_strong(free, pid)) return &slot;
    }
    return nullptr;
}

void write_all(int fd, const char* data, std::size_t size) {
    while (size > 0) {
        ssize_t n = write(fd, data, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // our own stdout closed: keep capturing regardless
        data += n;
        size -= static_cast<std::size_t>(n);
    }
}

// A NULL-terminated array of pointers into strings, for execve. Built before
// fork(): the child of a process with threads may call only async-signal-safe
// functions until it execs, and allocating is not one (another thread may
// have held the allocator's lock at the fork, forever locked in the child;
// ASan builds hung there).
std::vector<char*> c_strings(const std::vector<std::string>& strings) {
    std::vector<char*> out;
    out.reserve(strings.size() + 1);
    for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
    out.push_back(nullptr);
    return out;
}

// Runs in the child, with every signal blocked (see run_child). It reports
// on report_fd, as ints: -errno when the layout could not be fixed (and it
// goes on), errno when exec failed.
[[noreturn]] void exec_child(char* const* argv, char* const* envp, int out_fd, int err_fd,
                             int report_fd, pid_t parent, const sigset_t& mask, bool fixed_layout) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (fixed_layout) {
        int current = personality(0xffffffff);
        if (current == -1 ||
            personality(static_cast<unsigned long>(current) | ADDR_NO_RANDOMIZE) == -1) {
            int refused = -errno;
            (void)!write(report_fd, &refused, sizeof refused);
        }
    }
    if (getppid() != parent) _exit(125);  // the parent died before prctl took effect
    // The parent's handlers until exec would forward a signal to its other
    // children; SIGPIPE and SIGXFSZ are ignored by retrace (src/main.cpp)
    // and must not be by the program.
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGXFSZ}) sigaction(sig, &dfl, nullptr);
    pthread_sigmask(SIG_SETMASK, &mask, nullptr);
    dup2(out_fd, STDOUT_FILENO);
    dup2(err_fd, STDERR_FILENO);
    execvpe(argv[0], argv, envp);
    int err = errno;
    (void)!write(report_fd, &err, sizeof err);
    _exit(127);
}

}  // namespace

int termination_signal() {
    return g_termination.load();
}

Result<ChildResult> run_child(const std::vector<std::string>& argv,
                              const std::vector<std::string>& env, bool pass_through,
                              bool fixed_layout) {
    if (argv.empty()) return error(ErrorCode::invalid_input, "no command given");
    int out[2], err[2], report[2];
    if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC) || pipe2(report, O_CLOEXEC))
        return error(ErrorCode::io, std::string("pipe: ") + std::strerror(errno));

    std::vector<char*> c_argv = c_strings(argv), c_env = c_strings(env);
    child_started();
    ChildResult result;
    result.start_ns = core::unix_now_ns();
    pid_t parent = getpid();
    // Signals stay blocked in this thread until the child has put back the
    // default handlers and the parent has listed the child for forwarding.
    sigset_t all, mask;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &mask);
    pid_t pid = fork();
    if (pid == 0)
        exec_child(c_argv.data(), c_env.data(), out[1], err[1], report[1], parent, mask,
                   fixed_layout);
    std::atomic<pid_t>* slot = pid > 0 ? enlist(pid) : nullptr;
    pthread_sigmask(SIG_SETMASK, &mask, nullptr);
    if (pid < 0) {
        int fork_errno = errno;
        for (int fd : {out[0], out[1], err[0], err[1], report[0], report[1]}) close(fd);
        child_ended();
        return error(ErrorCode::io, std::string("fork: ") + std::strerror(fork_errno));
    }
    close(out[1]);
    close(err[1]);
    close(report[1]);

    int exec_errno = 0;
    bool exec_failed = false;
    for (int report_value = 0;
         read(report[0], &report_value, sizeof report_value) == sizeof report_value;) {
        if (report_value < 0) {
            result.layout_error = std::strerror(-report_value);
        } else {
            exec_errno = report_value;
            exec_failed = true;
        }
    }
    close(report[0]);

    pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    std::string* sinks[2] = {&result.stdout_data, &result.stderr_data};
    int open_fds = 2;
    char buf[65536];
    int status = 0;
    bool reaped = false;
    long long reaped_ns = 0;
    while (open_fds > 0) {
        // The output ends when the child and whatever inherited its pipes
        // have closed them; a process it left behind (a server started
        // with `&`) keeps them open, so once the child has exited its
        // output is read for a grace only.
        if (!reaped) {
            pid_t got = waitpid(pid, &status, WNOHANG);
            if (got == pid) {
                if (slot) slot->store(0);  // (the pid is free for reuse now)
                reaped = true;
                reaped_ns = core::unix_now_ns();
            }
        }
        if (reaped && core::unix_now_ns() - reaped_ns > k_output_grace_ns) break;
        int n = poll(fds, 2, reaped ? 50 : k_reap_poll_ms);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            ssize_t got = read(fds[i].fd, buf, sizeof buf);
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;
                --open_fds;
                continue;
            }
            if (pass_through)
                write_all(i == 0 ? STDOUT_FILENO : STDERR_FILENO, buf,
                          static_cast<std::size_t>(got));
            sinks[i]->append(buf, static_cast<std::size_t>(got));
        }
    }
    for (auto& f : fds)
        if (f.fd >= 0) close(f.fd);
    while (!reaped && waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (slot) slot->store(0);
    child_ended();
    result.end_ns = reaped ? reaped_ns : core::unix_now_ns();

    if (exec_failed) {
        std::string what = "cannot run '" + argv[0] + "': " + std::strerror(exec_errno);
        return error(exec_errno == ENOENT ? ErrorCode::not_found : ErrorCode::io, what);
    }
    if (WIFEXITED(status)) {
        result.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        result.signal = WTERMSIG(status);
        result.exit_code = 128 + result.signal;
    }
    return result;
}

}  // namespace retrace::run
