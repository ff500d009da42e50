// OTLP's two encodings of a trace export (ExportTraceServiceRequest, from
// opentelemetry-proto's collector/trace/v1): the protobuf wire format and
// its JSON mapping (OTLP/HTTP JSON: field names in lowerCamelCase, trace and
// span ids as hex, 64-bit integers as decimal strings, enums as integers).
// retrace builds and reads the JSON form; this converts between the two,
// both ways, with one table of the messages' fields (otlp_protobuf.cpp).
#pragma once

#include <string>
#include <string_view>

#include "retrace/core/canonical_json.hpp"
#include "retrace/core/result.hpp"

namespace retrace::interop {

// The protobuf bytes of a request in OTLP's JSON form. invalid_input for a
// value of the wrong type, naming the field; unknown fields are refused too.
Result<std::string> otlp_to_protobuf(const core::Json& request);
// The JSON form of protobuf bytes. invalid_input, naming the byte offset,
// for bytes that are not an ExportTraceServiceRequest; unknown fields are
// skipped as protobuf readers do.
Result<core::Json> otlp_from_protobuf(std::string_view bytes);

// What the OTLP/HTTP server answers in protobuf: a google.rpc.Status for a
// refused export, an ExportTraceServiceResponse (with its partial_success
// when spans were rejected) for an accepted one.
std::string rpc_status_protobuf(int code, std::string_view message);
std::string otlp_response_protobuf(long long rejected_spans, std::string_view error_message);

}  // namespace retrace::interop
