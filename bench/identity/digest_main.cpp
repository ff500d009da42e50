// Times retrace's content digest of one path, optionally with a stat cache:
//   retrace_bench_identity PATH [CACHE_FILE]
// Prints "<seconds> <digest> <files> <bytes>".
#include <chrono>
#include <cstdio>

#include "retrace/conditions/input_digest.hpp"

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s PATH [CACHE_FILE]\n", argv[0]);
        return 2;
    }
    auto start = std::chrono::steady_clock::now();
    std::unique_ptr<retrace::conditions::StatCache> cache;
    if (argc > 2) cache = retrace::conditions::open_stat_cache(argv[2]);
    auto d = retrace::conditions::digest_path(argv[1], cache.get());
    if (cache) cache->flush();
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!d) {
        std::fprintf(stderr, "%s\n", d.status().message().c_str());
        return 1;
    }
    std::printf("%.6f %s %llu %llu\n", secs, d->digest.to_string().c_str(),
                static_cast<unsigned long long>(d->files),
                static_cast<unsigned long long>(d->bytes));
    return 0;
}
