// The read-only JSON API and its server-sent events.
//
// Timestamps in ns since the epoch are 64-bit integers, past what a
// JavaScript number holds exactly: the server may send them as strings
// (events' start_ns) or as bare numbers (runs' started_ns). parseJSON
// turns every bare integer past 2^53 into the string of its digits before
// JSON.parse can round it; format.js reads numbers and strings alike.
// (A reviver with source access would do the same at four times the cost
// on a 10,000-event run.)

export class ApiError extends Error {
  constructor(status, type, message) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.type = type || 'http';
  }
}

// A bare integer of 16 digits or more after : , or [ (where JSON puts
// values). The quick pattern does not know whether it is inside a string;
// if it was, the quotes it adds end that string before a digit, which is
// never valid JSON, so JSON.parse throws and the careful pattern (which
// steps over strings, at three times the cost) does it again.
const BIG_QUICK = /([:,[]\s*)(-?\d{16,})(?=\s*[,\]}])/g;
const BIG_CAREFUL = /"[^"\\]*(?:\\.[^"\\]*)*"|(?<![\d.eE+-])(-?\d{16,})(?=\s*[,\]}]|\s*$)/g;

const unsafe = (digits) => !Number.isSafeInteger(Number(digits));

export function parseJSON(text) {
  if (!/\d{16}/.test(text)) return JSON.parse(text);
  const quick = text.replace(BIG_QUICK, (m, before, digits) => (unsafe(digits) ? `${before}"${digits}"` : m));
  try {
    return JSON.parse(quick);
  } catch {
    return JSON.parse(text.replace(BIG_CAREFUL, (m, digits) => (digits !== undefined && unsafe(digits) ? `"${digits}"` : m)));
  }
}

// JSON text for copy buttons: pretty, and tolerant of a BigInt (which
// JSON.stringify refuses) by writing its digits.
export function stringifyJSON(value, indent = 2) {
  const text = JSON.stringify(value, (k, v) => (typeof v === 'bigint' ? v.toString() : v), indent);
  return text === undefined ? String(value) : text;
}

// The access token (app.js takes it from the page's URL), kept per origin.
const TOKEN_KEY = 'retrace_token';
export function rememberToken(token) {
  try { localStorage.setItem(TOKEN_KEY, token); } catch { memoryToken = token; }
}
let memoryToken = '';
function token() {
  try { return localStorage.getItem(TOKEN_KEY) || memoryToken; } catch { return memoryToken; }
}
// (EventSource cannot send a header: the token goes in its URL)
function withToken(path) {
  return path + (path.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(token());
}

export async function getJSON(path, { signal } = {}) {
  let res;
  try {
    res = await fetch(path, { headers: { accept: 'application/json', 'x-retrace-token': token() }, credentials: 'same-origin', signal });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', 'cannot reach the retrace server (' + err.message + ')');
  }
  const text = await res.text();
  let data = null;
  try { data = text ? parseJSON(text) : null; } catch { data = null; }
  if (!res.ok) {
    const e = data && data.error;
    throw new ApiError(res.status, e && e.type, (e && e.message) || `${res.status} ${res.statusText}`);
  }
  if (data === null && text) throw new ApiError(res.status, 'parse', 'the server answered something that is not JSON');
  return data;
}

// Builds /api/v1/... with a query string from an object (empty values left out).
export function apiPath(path, query) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query || {})) if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return '/api/v1' + path + (qs ? '?' + qs : '');
}

export const enc = encodeURIComponent;

// A server-sent event stream: handlers[name](data) per `event: name`, and
// status(state) as it connects ('connecting', 'live', 'reconnecting',
// 'offline', 'error'). EventSource reconnects by itself after a dropped
// connection; when it gives up (the server answered an error) we try
// again later, so a restarted server is picked up without a reload. A
// stream the server ends on purpose (`event: end` after a watched run is
// sealed) must be closed by its handler, or it would be opened again.
// Returns close().
export function openLive(path, handlers, status = () => {}) {
  let es = null;
  let timer = null;
  let closed = false;
  let delay = 1000;
  const connect = () => {
    if (closed) return;
    status('connecting');
    es = new EventSource(withToken(path));
    es.onopen = () => { delay = 1000; status('live'); };
    es.onerror = (ev) => {
      if (closed) return;
      // `event: error` from the server (it could not read the store) is a
      // message, not a lost connection.
      if (typeof MessageEvent !== 'undefined' && ev instanceof MessageEvent) { status('error'); return; }
      if (es.readyState === EventSource.CLOSED) {
        status('offline');
        es = null;
        timer = setTimeout(connect, delay);
        delay = Math.min(delay * 2, 30000);
      } else {
        status('reconnecting');
      }
    };
    for (const [name, fn] of Object.entries(handlers)) {
      es.addEventListener(name, (msg) => {
        let data;
        try { data = parseJSON(msg.data); } catch { return; }  // a torn message: skip it
        fn(data);
      });
    }
  };
  connect();
  return () => {
    closed = true;
    clearTimeout(timer);
    if (es) es.close();
    status('off');
  };
}
