#include "blob_codec.hpp"

#include <zstd.h>

namespace retrace::store {

namespace {

// One compression and one decompression context per thread, reused:
// creating a context costs more than compressing a small body.
struct Contexts {
    ZSTD_CCtx* c = ZSTD_createCCtx();
    ZSTD_DCtx* d = ZSTD_createDCtx();
    ~Contexts() {
        ZSTD_freeCCtx(c);
        ZSTD_freeDCtx(d);
    }
};

Contexts& contexts() {
    thread_local Contexts ctx;
    return ctx;
}

}  // namespace

std::string zstd_compress(std::string_view data, int level) {
    ZSTD_CCtx* cctx = contexts().c;
    ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
    std::string out(ZSTD_compressBound(data.size()), '\0');
    std::size_t n = ZSTD_compress2(cctx, out.data(), out.size(), data.data(), data.size());
    out.resize(ZSTD_isError(n) ? 0 : n);
    return out;
}

Result<std::string> zstd_decompress(std::string_view frame, std::size_t expected_size) {
    unsigned long long declared = ZSTD_getFrameContentSize(frame.data(), frame.size());
    if (declared == ZSTD_CONTENTSIZE_ERROR || declared == ZSTD_CONTENTSIZE_UNKNOWN ||
        declared != expected_size)
        return error(ErrorCode::corrupt, "not a valid zstd frame of the recorded size");
    std::string out(expected_size, '\0');
    std::size_t n =
        ZSTD_decompressDCtx(contexts().d, out.data(), out.size(), frame.data(), frame.size());
    if (ZSTD_isError(n) || n != expected_size)
        return error(ErrorCode::corrupt,
                     std::string("zstd: ") + (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short"));
    return out;
}

Result<std::string> decode_blob(const std::string& digest, std::string_view codec,
                                std::string_view data, std::size_t size) {
    if (codec == "raw") {
        if (data.size() != size)
            return error(ErrorCode::corrupt, "blob " + digest + " has the wrong size");
        return std::string(data);
    }
    if (codec != "zstd") return error(ErrorCode::corrupt, "blob " + digest + ": unknown codec");
    auto decoded = zstd_decompress(data, size);
    if (!decoded) return decoded.status().with_context("blob " + digest);
    return decoded;
}

}  // namespace retrace::store
