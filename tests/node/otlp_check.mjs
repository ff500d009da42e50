// Checks a run's OTLP export with the OpenTelemetry project's own generated
// protobuf code (otlp-proto-schema: @opentelemetry/otlp-transformer's
// protobufjs static module of opentelemetry-proto), not retrace's:
//   node otlp_check.mjs EXPORT.json EXPORT.pb
// The protobuf body must decode as an ExportTraceServiceRequest and verify;
// its spans, converted to OTLP JSON's forms (trace and span ids as hex,
// 64-bit integers as decimal strings), must equal the JSON export's, field
// for field; the official encoder's bytes of the decoded message must
// decode to the same message and equal its bytes of the JSON export.
// Prints one JSON line of facts; exits 1 naming the first difference.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";

const require = createRequire(import.meta.url);
const root = require("otlp-proto-schema/build/src/generated/root.js");
const Request = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

const die = (why) => {
  console.error(`otlp_check: ${why}`);
  process.exit(1);
};
// Canonical text of a value: keys sorted, so field order does not count.
const canon = (v) =>
  Array.isArray(v) ? `[${v.map(canon).join(",")}]`
  : v && typeof v === "object"
    ? `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canon(v[k])}`).join(",")}}`
    : JSON.stringify(v);
// The ids of every span, converted in place by f (OTLP JSON's hex <-> base64).
const ID_FIELDS = ["traceId", "spanId", "parentSpanId"];
const mapIds = (request, f) => {
  for (const rs of request.resourceSpans ?? [])
    for (const ss of rs.scopeSpans ?? [])
      for (const span of ss.spans ?? [])
        for (const k of ID_FIELDS) if (k in span) span[k] = f(span[k]);
  return request;
};
const toHex = (b64) => Buffer.from(b64, "base64").toString("hex");
const toB64 = (hex) => Buffer.from(hex, "hex").toString("base64");
const spansOf = (request) => request.resourceSpans[0].scopeSpans[0].spans;
const asObject = (message) =>
  Request.toObject(message, { longs: String, enums: Number, bytes: String });

const [jsonFile, pbFile] = process.argv.slice(2);
if (!pbFile) die("usage: node otlp_check.mjs EXPORT.json EXPORT.pb");
const json = JSON.parse(readFileSync(jsonFile, "utf8"));
const bytes = readFileSync(pbFile);

let message;
try {
  message = Request.decode(bytes);
} catch (e) {
  die(`${pbFile} does not decode as an ExportTraceServiceRequest: ${e.message}`);
}
const invalid = Request.verify(message);
if (invalid) die(`the decoded message does not verify: ${invalid}`);
// The wire's ids have OTLP's sizes: 16 bytes of trace, 8 of span.
for (const span of spansOf(message)) {
  if (span.traceId.length !== 16) die(`span ${span.name}: a trace id of ${span.traceId.length} bytes`);
  if (span.spanId.length !== 8) die(`span ${span.name}: a span id of ${span.spanId.length} bytes`);
  if (span.parentSpanId?.length && span.parentSpanId.length !== 8)
    die(`span ${span.name}: a parent span id of ${span.parentSpanId.length} bytes`);
}

// Span for span: the protobuf's, in OTLP JSON's forms, against the JSON export's.
const decoded = mapIds(asObject(message), toHex);
const want = spansOf(json), got = spansOf(decoded);
if (got.length !== want.length) die(`${got.length} spans in the protobuf, ${want.length} in the JSON`);
want.forEach((w, i) => {
  if (canon(got[i]) !== canon(w))
    die(`span ${i} (${w.name}) differs:\n  json:     ${canon(w)}\n  protobuf: ${canon(got[i])}`);
});
if (canon(decoded) !== canon(json)) die("the resource or scope differs between protobuf and JSON");

// The round trip through the official encoder, and the JSON through it.
const again = Buffer.from(Request.encode(message).finish());
if (canon(mapIds(asObject(Request.decode(again)), toHex)) !== canon(json))
  die("the re-encoded message decodes to another message");
const fromJson = Request.fromObject(mapIds(structuredClone(json), toB64));
const jsonBytes = Buffer.from(Request.encode(fromJson).finish());
if (!jsonBytes.equals(again)) die("the official encoding of the JSON export differs from the protobuf's");

console.log(JSON.stringify({
  spans: got.length,
  attributes: got.reduce((n, s) => n + (s.attributes?.length ?? 0), 0),
  resource_attributes: decoded.resourceSpans[0].resource.attributes.length,
  bytes: bytes.length,
  reencoded_bytes: again.length,
  same_bytes: again.equals(bytes),
}));
