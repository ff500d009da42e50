// A JSON value that validates against a JSON Schema, drawn from a seeded
// random source: what the sim answers for structured outputs
// (`response_format: json_schema`, Responses `text.format`) and for tool
// arguments.
//
// Covers what the providers' structured-output modes accept and what zod,
// pydantic and the SDKs emit: `type` (one or several), `enum`, `const`,
// `properties` / `required` / `additionalProperties`, `items` /
// `prefixItems` / `minItems` / `maxItems` / `uniqueItems`, `anyOf` /
// `oneOf` / `allOf`, `$ref` into `$defs` / `definitions` (recursion is cut
// off at a depth), string `minLength` / `maxLength` / `format` (date-time,
// date, time, email, uri, uuid, ipv4, ipv6, hostname), and numeric bounds
// (`minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`,
// `multipleOf`). Every property of an object is given, required or not. A
// `pattern` other than a format's own is not followed.
#pragma once

#include "retrace/sim/generator.hpp"

namespace retrace::sim {

// The value for `schema`; `$ref`s resolve against the same schema (its root).
Json value_for_schema(const Json& schema, Rng& rng);

}  // namespace retrace::sim
