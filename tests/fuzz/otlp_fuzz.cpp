// OTLP protobuf bodies (interop/otlp_protobuf.cpp): what any program sends
// the recorder's /_retrace/v1/traces. Properties: decoding any bytes never
// crashes or recurses without bound; what decodes is valid JSON that
// encodes again, and that encoding decodes to the same message.
#include <cstdint>

#include "fuzz_support.hpp"
#include "retrace/interop/otlp_protobuf.hpp"

using namespace retrace;
using fuzz::require;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view body(reinterpret_cast<const char*>(data), size);
    auto decoded = interop::otlp_from_protobuf(body);
    if (!decoded) return 0;
    (void)decoded->dump();  // (strings are UTF-8: dump never throws)
    auto encoded = interop::otlp_to_protobuf(*decoded);
    require(static_cast<bool>(encoded), "a decoded message encodes again");
    auto again = interop::otlp_from_protobuf(*encoded);
    require(static_cast<bool>(again), "an encoded message decodes");
    require(*again == *decoded, "decode(encode(m)) == m");
    return 0;
}
