// Redaction (core/redact.cpp): every body, header, argument and output a
// run stores passes through it. Properties: no known secret survives in
// any of the forms it is known by (raw, JSON-escaped, URL-encoded);
// contains_secret says exactly whether redact changes the text; the name
// rules and query redaction take any bytes.
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "retrace/core/redact.hpp"

using namespace retrace;
using fuzz::require;

namespace {

// Secrets whose every form starts and ends with bytes "[REDACTED]" does not
// hold, so none can be spelled by a replacement and the text beside it.
const char* const k_secret = "Q\"uote\\back/\xc3\xa9-s3cr3t";
const char* const k_forms[] = {
    "Q\"uote\\back/\xc3\xa9-s3cr3t",
    "Q\\\"uote\\\\back/\\u00e9-s3cr3t",
    "Q%22uote%5Cback%2F%C3%A9-s3cr3t",
    "hunter2-pw-42",
};

const core::Redactor& redactor() {
    static const core::Redactor r = [] {
        core::Redactor x;
        x.add_secret(k_secret);
        x.add_secret("hunter2-pw-42");
        require(x.add_pattern("acct-[0-9]{6}").is_ok(), "the pattern compiles");
        return x;
    }();
    return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto& r = redactor();

    std::string out = r.redact(text);
    for (const char* form : k_forms)
        require(out.find(form) == std::string::npos, "a known secret survives redaction");
    require(r.contains_secret(text) == (out != text),
            "contains_secret says whether redact changes the text");

    (void)core::redact_query(text);
    (void)core::is_secret_name(text);
    (void)core::is_secret_param(text);
    (void)core::is_secret_header(text);
    return 0;
}
