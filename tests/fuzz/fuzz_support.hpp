// What the fuzz targets share: the check that ends a run with a finding,
// and a store to write runs to (in a test::TempDir, tests/unit/test_support.hpp).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string_view>

#include "retrace/core/result.hpp"
#include "retrace/store/run_writer.hpp"
#include "retrace/store/store.hpp"
#include "test_support.hpp"

namespace retrace::fuzz {

// A property that must hold for every input; a failure is a finding (the
// fuzzer keeps the input, the corpus driver fails).
inline void require(bool holds, std::string_view what) {
    if (holds) return;
    std::fprintf(stderr, "fuzz property broken: %.*s\n", static_cast<int>(what.size()),
                 what.data());
    std::abort();
}

// The same for an operation that must succeed; its error is printed.
inline void require_ok(const Status& status, std::string_view what) {
    if (status.is_ok()) return;
    std::fprintf(stderr, "%s\n", status.message().c_str());
    require(false, what);
}
template <typename R>
void require_ok(const R& result, std::string_view what) {
    if (result.is_ok()) return;
    std::fprintf(stderr, "%s\n", result.status().message().c_str());
    require(false, what);
}

// A new SQLite store in dir; a failure ends the fuzzer.
inline std::unique_ptr<store::Store> open_store(const std::filesystem::path& dir) {
    auto s = store::open_sqlite_store(dir, true);
    require_ok(s, "cannot open the scratch store");
    return std::move(s).value();
}

// A writer of a new incomplete run in store.
inline std::unique_ptr<store::RunWriter> start_run(store::Store& store) {
    auto writer = store::RunWriter::start(store, test::incomplete_run(), {});
    require_ok(writer, "cannot start a run in the scratch store");
    return std::move(writer).value();
}

}  // namespace retrace::fuzz
