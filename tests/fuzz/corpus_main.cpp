// The driver of a fuzz target outside the fuzz build: runs every file of
// the directories (or the files) it is given through LLVMFuzzerTestOneInput
// once, so the committed seeds and past findings are regression tests in
// every build. Fails when given no input at all.
//
// Like libFuzzer, whose timeout alarm is a SIGALRM that interrupts
// whatever call a thread is in, it keeps a SIGALRM going (every
// millisecond, without SA_RESTART), so a target that takes an
// interrupted call for a failure fails here too, not now and then.
#include <signal.h>
#include <sys/time.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);

namespace {

std::vector<std::filesystem::path> inputs_of(const std::filesystem::path& p) {
    std::vector<std::filesystem::path> out;
    if (std::filesystem::is_directory(p)) {
        for (const auto& e : std::filesystem::recursive_directory_iterator(p))
            if (e.is_regular_file()) out.push_back(e.path());
    } else if (std::filesystem::is_regular_file(p)) {
        out.push_back(p);
    }
    return out;
}

void interrupt_every_millisecond() {
    struct sigaction on_alarm {};
    on_alarm.sa_handler = [](int) {};
    sigemptyset(&on_alarm.sa_mask);
    on_alarm.sa_flags = 0;  // (no SA_RESTART: calls return EINTR, as under libFuzzer)
    sigaction(SIGALRM, &on_alarm, nullptr);
    itimerval every{{0, 1000}, {0, 1000}};
    setitimer(ITIMER_REAL, &every, nullptr);
}

}  // namespace

int main(int argc, char** argv) {
    interrupt_every_millisecond();
    if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
    std::size_t n = 0;
    for (int i = 1; i < argc; ++i) {
        auto files = inputs_of(argv[i]);
        std::sort(files.begin(), files.end());
        for (const auto& f : files) {
            std::ifstream in(f, std::ios::binary);
            std::string bytes((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
            std::fprintf(stderr, "%s (%zu bytes)\n", f.c_str(), bytes.size());
            LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                   bytes.size());
            ++n;
        }
    }
    if (n == 0) {
        std::fprintf(stderr, "no inputs found in the arguments\n");
        return 1;
    }
    std::fprintf(stderr, "%zu inputs ran\n", n);
    return 0;
}
