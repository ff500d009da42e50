// Pack import (store/pack.cpp, store/pack_stream.cpp): archives come from
// other machines. An input is a flag byte, then either (bit 0 clear) an
// archive's content, which this target closes with its "end" record and
// frames as `pack` does so the fuzzer reaches the records' meaning, or
// (bit 0 set) a whole archive file as given. Properties: read_pack never
// crashes; an archive it refuses leaves the target store as it was; every
// run it imports verifies there.
#include <zstd.h>

#include <cstdint>
#include <fstream>

#include "fuzz_support.hpp"
#include "retrace/core/digest.hpp"
#include "retrace/store/pack.hpp"
#include "retrace/store/verify.hpp"

using namespace retrace;
using fuzz::require;

namespace {

std::string frame_of(std::string content) {
    auto end = core::Digest::of(content).to_string();
    content += "end " + std::to_string(end.size()) + "\n" + end + "\n";
    ZSTD_CCtx* cctx = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 1);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
    std::string frame(ZSTD_compressBound(content.size()), '\0');
    std::size_t n =
        ZSTD_compress2(cctx, frame.data(), frame.size(), content.data(), content.size());
    ZSTD_freeCCtx(cctx);
    require(!ZSTD_isError(n), "zstd compresses");
    frame.resize(n);
    return "retrace-pack/1\n" + std::to_string(content.size()) + "\n" + frame;
}

std::size_t run_count(store::Store& s) {
    auto runs = s.list_runs({});
    fuzz::require_ok(runs, "the target store lists its runs");
    return runs->size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static test::TempDir dir;
    static std::unique_ptr<store::Store> target = fuzz::open_store(dir.path() / "store");
    if (size == 0) return 0;
    std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
    std::string archive = data[0] & 1 ? bytes : frame_of(bytes);
    auto file = dir.path() / "input.pack";
    {
        std::ofstream out(file, std::ios::binary | std::ios::trunc);
        out << archive;
    }

    std::size_t before = run_count(*target);
    store::PackLimits limits;
    limits.max_content = std::size_t{64} << 20;
    auto summary = store::read_pack(
        file, [&]() -> Result<store::Store*> { return target.get(); }, limits);
    if (!summary) {
        require(run_count(*target) == before, "a refused archive leaves the store unchanged");
        return 0;
    }
    auto runs = target->list_runs({});
    fuzz::require_ok(runs, "the target store lists its runs");
    for (const auto& r : *runs) {
        auto v = store::verify_run(*target, r.id);
        require(v.is_ok() && v->ok, "every imported run verifies in the store");
    }
    return 0;
}
