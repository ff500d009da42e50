// retrace for Node: record and replay what a program does besides calling
// models — tool calls, retrieval, clock reads, random draws, checkpoints,
// spans. No dependencies. Under `retrace record` the real functions run and
// their results are recorded; under `retrace replay` the recorded results
// come back and the real functions are not called; outside retrace every
// call is a plain pass-through. See docs/event-api.md.
//
//   import * as retrace from "retrace";
//   const getWeather = retrace.tool(async function getWeather({ city }) { ... });
//   await retrace.span("answer", async () => { ... });

import { AsyncLocalStorage } from "node:async_hooks";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";

const proxyUrl = process.env.RETRACE_PROXY_URL;
const envMode = process.env.RETRACE_MODE;
const MODE = proxyUrl && (envMode === "record" || envMode === "replay") ? envMode : null;
const RUN_ID = MODE ? process.env.RETRACE_RUN_ID ?? "" : "";
const TRACE_ID = MODE ? createHash("sha256").update(RUN_ID).digest("hex").slice(0, 32) : "";
const target = MODE ? new URL(proxyUrl) : null;
// (the recorder's URL carries the run's access token in its path)
const prefix = target ? target.pathname.replace(/\/+$/, "") : "";
const agent = MODE ? new http.Agent({ keepAlive: true, maxSockets: 4 }) : null;
const current = new AsyncLocalStorage();
let counter = 0;

/** The recorder refused a request or cannot be reached. */
export class RetraceError extends Error {
  constructor(message) {
    super(message);
    this.name = "RetraceError";
  }
}

/** During replay, the program asked for something the recording does not
 * hold (a changed input, or more calls than were recorded). */
export class Divergence extends RetraceError {
  constructor(message, divergence) {
    super(message);
    this.name = "Divergence";
    this.divergence = divergence ?? {};
  }
}

/** Stands in for a recorded exception whose class is not known here. */
export class ReplayedError extends Error {}

const errorClasses = new Map(
  [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError].map((c) => [
    c.name,
    c,
  ]),
);

/** Makes instances of cls replay as cls (by its name). */
export function registerError(cls) {
  errorClasses.set(cls.name, cls);
}

/** "record", "replay", or null outside retrace. */
export function mode() {
  return MODE;
}

/** The id of the run being written, or null. */
export function runId() {
  return RUN_ID || null;
}

function post(path, body) {
  return new Promise((resolve, reject) => {
    const data = Buffer.from(body);
    const req = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: prefix + path,
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": data.length },
      },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      },
    );
    req.on("error", (e) =>
      reject(new RetraceError(`cannot reach the retrace recorder at ${proxyUrl}: ${e.message}`)),
    );
    req.end(data);
  });
}

// Record mode: events are queued and posted in order, in batches.
const queue = [];
let sending = null;
let warned = false;

function warn(message) {
  if (!warned) {
    warned = true;
    process.stderr.write(`retrace: ${message}\n`);
  }
}

// The causal order: this process counts the events it has queued in a
// ledger file of its own ($RETRACE_ORDER_DIR), and tags each with its
// number; the recorder numbers a model request only after the events a
// file counts have arrived, so one sent after an event comes after it.
let ledger = null;
let ledgerFd = null;
let issued = 0;
const issuedBytes = Buffer.alloc(8);
if (MODE === "record" && process.env.RETRACE_ORDER_DIR) {
  const name = `${process.pid}-${process.hrtime.bigint()}`;
  try {
    ledgerFd = fs.openSync(path.join(process.env.RETRACE_ORDER_DIR, name), "wx", 0o600);
    ledger = name;
  } catch {
    // recorded in arrival order
  }
}

// Queues one event, stamped with the time (unix ns, as JSON integer text:
// beyond what a double holds exactly).
function enqueue(message, key) {
  if (ledger !== null) message = { ...message, ledger, issue: ++issued };
  queue.push(`{"${key}":${Date.now()}000000,${json(message, "an event").slice(1)}`);
  if (ledgerFd !== null) {
    // Counted before the call that issued it returns: before any request
    // the program sends after it.
    issuedBytes.writeBigUInt64LE(BigInt(issued));
    try {
      fs.writeSync(ledgerFd, issuedBytes, 0, 8, 0);
    } catch {
      // (the recorder is gone: events are not recorded either)
    }
  }
  if (!sending) sending = new Promise((resolve) => setImmediate(() => drain().then(resolve)));
}

async function drain() {
  while (queue.length) {
    const batch = queue.splice(0, queue.length);
    try {
      const { status, body } = await post("/_retrace/v1/events", `[${batch.join(",")}]`);
      if (status !== 200) warn(`the recorder refused ${batch.length} event(s): ${body}`);
      else for (const a of JSON.parse(body)) if (a.error) warn(a.error);
    } catch (e) {
      warn(e.message);
    }
  }
  sending = null;
}

/** Waits until every recorded event has reached the recorder. */
export async function flush() {
  while (sending) await sending;
}

if (MODE) process.on("beforeExit", () => void flush());

function json(value, what) {
  const text = JSON.stringify(value === undefined ? null : value);
  if (text === undefined) throw new TypeError(`retrace: ${what} must be JSON`);
  return text;
}

function newSpan() {
  counter += 1;
  return (
    (process.pid >>> 0).toString(16).padStart(8, "0") + (counter >>> 0).toString(16).padStart(8, "0")
  );
}

function errorOf(e) {
  const type = e?.constructor?.name ?? "Error";
  return { type, message: e instanceof Error ? e.message : String(e) };
}

function rebuild(error) {
  const cls = errorClasses.get(error.type);
  if (cls) {
    try {
      return new cls(error.message ?? "");
    } catch {
      // fall through
    }
  }
  const e = new ReplayedError(error.message ?? "");
  e.name = error.type;
  return e;
}

async function call(kind, name, input, thunk, extra = {}) {
  if (!MODE) return thunk();
  json(input, `the input of ${kind} ${name}`);
  const span = newSpan();
  const parent = current.getStore();
  const message = { kind, name, span, input: input ?? null, pid: process.pid, ...extra };
  if (parent) message.parent = parent;
  if (MODE === "replay") {
    await flush();
    const { status, body } = await post("/_retrace/v1/replay", json(message, "an event"));
    let answer;
    try {
      answer = JSON.parse(body);
    } catch {
      throw new RetraceError(`the recorder answered ${status}: ${body.toString().slice(0, 200)}`);
    }
    if (status === 409 && answer.error?.type === "retrace_divergence")
      throw new Divergence(answer.error.message, answer.divergence);
    if (status !== 200) throw new RetraceError(answer.error?.message ?? `status ${status}`);
    if (!answer.live) {
      if (answer.error) throw rebuild(answer.error);
      return answer.output;
    }
    return run(span, thunk, kind, name, true); // a fork with --live-tools
  }
  enqueue({ ...message, phase: "start" }, "start_ns");
  return run(span, thunk, kind, name, false);
}

async function run(span, thunk, kind, name, sync) {
  let result;
  try {
    result = await current.run(span, thunk);
  } catch (e) {
    enqueue({ phase: "end", span, error: errorOf(e) }, "end_ns");
    if (sync) await flush();
    throw e;
  }
  const output = JSON.parse(json(result, `the result of ${kind} ${name}`));
  enqueue({ phase: "end", span, output }, "end_ns");
  if (sync) await flush();
  return output; // as replay returns it: JSON types
}

/** Wraps fn (sync or async): each call is a tool event named after it (or
 * options.name), its arguments the input and its result the output. The
 * wrapper returns a promise. */
export function tool(fn, options = {}) {
  const name = options.name ?? fn.name;
  if (!name) throw new TypeError("retrace.tool: the function needs a name (or options.name)");
  if (!MODE) return async (...args) => fn(...args);
  const schema = options.schema ?? { name, parameters: fn.length };
  // One plain-object argument (the usual tool shape) is the input itself.
  const inputOf = (args) =>
    args.length === 1 && args[0] !== null && Object.getPrototypeOf(args[0]) === Object.prototype
      ? args[0]
      : { args };
  return (...args) => call("tool", name, inputOf(args), () => fn(...args), { schema });
}

/** Calls fn(args) as the tool event name. */
export function toolCall(name, fn, args = {}) {
  return call("tool", name, args, () => fn(args));
}

/** Calls fn(query) as the retrieval event name; options.source (JSON, e.g.
 * an index and its version) goes into the run's `data` conditions. */
export function retrieval(name, query, fn, options = {}) {
  const extra = options.source !== undefined ? { source: options.source } : {};
  return call("retrieval", name, { query }, () => fn(query), extra);
}

/** Date.now(), recorded and replayed. */
export function now() {
  return call("clock", "now", null, () => Date.now());
}

/** A float in [0, 1) from OS randomness, recorded and replayed (Node's
 * Math.random cannot be made to replay: docs/determinism.md). */
export function random() {
  return call("random", "random", null, () => randomBytes(6).readUIntBE(0, 6) / 2 ** 48);
}

/** Records state under name; on replay, a different state is a divergence. */
export async function checkpoint(name, state) {
  if (!MODE) return;
  await call("checkpoint", name, state, () => null);
}

/** Runs fn inside a span named name: the events it issues are its children. */
export async function span(name, fn) {
  if (!MODE) return fn();
  const id = newSpan();
  const message = { phase: "start", kind: "custom", name, span: id, group: true, pid: process.pid };
  const parent = current.getStore();
  if (parent) message.parent = parent;
  enqueue(message, "start_ns");
  await flush(); // delivered first, so a request sent inside without headers() finds it
  const end = { phase: "end", span: id };
  try {
    return await current.run(id, fn);
  } catch (e) {
    end.error = errorOf(e);
    throw e;
  } finally {
    enqueue(end, "end_ns");
    await flush();
  }
}

/** W3C trace context naming the current span, for a model request's
 * headers, so the recorded exchange becomes its child. Await flush() first
 * for it to be numbered after every event issued before it. */
export function headers() {
  const id = MODE ? current.getStore() : undefined;
  return id ? { traceparent: `00-${TRACE_ID}-${id}-01` } : {};
}
