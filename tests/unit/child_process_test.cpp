#include "retrace/run/child_process.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using retrace::run::run_child;

namespace {

std::vector<std::string> path_env() {
    return {"PATH=/usr/bin:/bin"};
}

// Allocates and frees from ever new call stacks (the bits of path choose
// between two functions at each level), so that the allocator's locks and,
// under ASan, those of its store of allocation stacks are taken over and
// over while another thread forks.
[[gnu::noinline]] std::size_t churn_b(unsigned path, int depth, std::size_t size);
[[gnu::noinline]] std::size_t churn_a(unsigned path, int depth, std::size_t size) {
    if (depth == 0) {
        std::vector<std::unique_ptr<char[]>> blocks;
        for (int i = 0; i < 16; ++i) blocks.push_back(std::make_unique<char[]>(size + i * 64));
        return blocks.size();
    }
    auto next = path & 1 ? churn_b : churn_a;
    return next(path >> 1, depth - 1, size) + 1;
}
std::size_t churn_b(unsigned path, int depth, std::size_t size) {
    if (depth == 0) return churn_a(path, 0, size * 2);
    auto next = path & 1 ? churn_a : churn_b;
    return next(path >> 1, depth - 1, size) + 1;
}

}  // namespace

TEST(ChildProcess, CapturesOutputAndExitCode) {
    auto child = run_child({"sh", "-c", "echo out; echo err >&2; exit 3"}, path_env(), false);
    ASSERT_TRUE(child.is_ok()) << child.status().message();
    EXPECT_EQ(child->stdout_data, "out\n");
    EXPECT_EQ(child->stderr_data, "err\n");
    EXPECT_EQ(child->exit_code, 3);
    EXPECT_EQ(child->signal, 0);
}

TEST(ChildProcess, ReportsACommandThatDoesNotExist) {
    auto child = run_child({"retrace-no-such-command"}, path_env(), false);
    ASSERT_FALSE(child.is_ok());
    EXPECT_EQ(child.status().code(), retrace::ErrorCode::not_found);
    EXPECT_NE(child.status().message().find("cannot run 'retrace-no-such-command'"),
              std::string::npos);
}

// The child of a process with threads must not allocate before it execs: a
// lock another thread held at the fork stays locked in the child forever.
// Under ASan this hung a recording now and then (a writer thread was busy);
// here two threads allocate all the time while children are started.
TEST(ChildProcess, StartsWhileOtherThreadsAllocate) {
    std::atomic<bool> stop{false};
    std::vector<std::jthread> threads;
    for (int t = 0; t < 2; ++t)
        threads.emplace_back([&stop, t] {
            for (unsigned path = 0; !stop.load(std::memory_order_relaxed); ++path)
                churn_a(path * 2 + static_cast<unsigned>(t), 24, 16 + path % 4096);
        });
    int ran = 0;
    for (int i = 0; i < 300; ++i) {
        auto child = run_child({"true"}, path_env(), false);
        ASSERT_TRUE(child.is_ok()) << child.status().message();
        ran += child->exit_code == 0;
    }
    stop = true;
    EXPECT_EQ(ran, 300);
}

TEST(ChildProcess, AFixedLayoutTurnsOffAddressRandomizationForTheChildAlone) {
    // /proc/self/personality in hex: ADDR_NO_RANDOMIZE is 0x0040000.
    auto fixed = run_child({"cat", "/proc/self/personality"}, path_env(), false, true);
    ASSERT_TRUE(fixed) << fixed.status().message();
    EXPECT_EQ(std::stoul(fixed->stdout_data, nullptr, 16) & 0x0040000u, 0x0040000u);
    EXPECT_EQ(fixed->layout_error, "");
    // The control: without it the child's layout is randomized as usual,
    // and the parent's own personality was never changed.
    auto plain = run_child({"cat", "/proc/self/personality"}, path_env(), false);
    ASSERT_TRUE(plain) << plain.status().message();
    EXPECT_EQ(std::stoul(plain->stdout_data, nullptr, 16) & 0x0040000u, 0u);
}
