// Times, durations, digests and numbers as the page shows them.
// Nanosecond timestamps since the epoch are past 2^53: they arrive as
// strings or (see api.js) BigInt, and every calculation on them goes
// through toBig so none is rounded.

export function toBig(v) {
  if (v === null || v === undefined || v === '') return null;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? BigInt(Math.round(v)) : null;
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return BigInt(v.trim());
  return null;
}

// A difference of two timestamps, in ns, as a plain number (small enough).
export function diffNs(a, b) {
  const x = toBig(a), y = toBig(b);
  return x === null || y === null ? null : Number(x - y);
}

export function toNumber(v) {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

// 952ms, 1.22s, 3.6ms, 41µs, 2m 05s: short, with about three digits.
export function fmtDuration(ns) {
  const n = toNumber(ns);
  if (n === null) return '—';
  const a = Math.abs(n), sign = n < 0 ? '-' : '';
  if (a < 1e3) return sign + Math.round(a) + 'ns';
  if (a < 1e6) return sign + trim(a / 1e3) + 'µs';
  if (a < 1e9) return sign + trim(a / 1e6) + 'ms';
  if (a < 60e9) return sign + trim(a / 1e9) + 's';
  const s = Math.round(a / 1e9);
  if (s < 3600) return sign + Math.floor(s / 60) + 'm ' + String(s % 60).padStart(2, '0') + 's';
  return sign + Math.floor(s / 3600) + 'h ' + String(Math.floor(s / 60) % 60).padStart(2, '0') + 'm';
}

function trim(x) {
  return x < 10 ? x.toFixed(x < 1 ? 2 : 1).replace(/\.?0+$/, '') || '0' : String(Math.round(x));
}

function pad(n) { return String(n).padStart(2, '0'); }

// Local wall-clock time, to the second: 2026-12-07 22:14:44.
export function fmtTime(ns) {
  const b = toBig(ns);
  if (b === null) return '—';
  const d = new Date(Number(b / 1000000n));
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

// The exact instant, for a tooltip: ISO UTC with the full ns.
export function fmtTimeExact(ns) {
  const b = toBig(ns);
  if (b === null) return '';
  const ms = b / 1000000n;
  const iso = new Date(Number(ms)).toISOString().replace(/\.\d+Z$/, '');
  const frac = String(b % 1000000000n).padStart(9, '0');
  return `${iso}.${frac}Z UTC`;
}

export function fmtAgo(ns, nowMs = Date.now()) {
  const b = toBig(ns);
  if (b === null) return '';
  const s = Math.round((nowMs - Number(b / 1000000n)) / 1000);
  if (s < 0) return 'just now';
  if (s < 60) return s + 's ago';
  if (s < 3600) return Math.floor(s / 60) + 'm ago';
  if (s < 86400) return Math.floor(s / 3600) + 'h ago';
  return Math.floor(s / 86400) + 'd ago';
}

// sha256:34a9ae59a9d7... -> 34a9ae59a9d7 (what the CLI prints).
export function shortDigest(d, n = 12) {
  if (!d || typeof d !== 'string') return '—';
  const i = d.indexOf(':');
  return (i >= 0 ? d.slice(i + 1) : d).slice(0, n);
}

export function shortId(id) {
  return typeof id === 'string' && id.length > 12 ? id.slice(0, 6) + '…' + id.slice(-4) : String(id ?? '—');
}

export function fmtInt(n) {
  const v = toNumber(n);
  return v === null ? '—' : v.toLocaleString('en-US');
}

export function fmtBytes(n) {
  const v = toNumber(n);
  if (v === null) return '—';
  if (v < 1024) return v + ' B';
  if (v < 1024 * 1024) return (v / 1024).toFixed(1) + ' KiB';
  if (v < 1024 ** 3) return (v / 1024 / 1024).toFixed(1) + ' MiB';
  return (v / 1024 ** 3).toFixed(2) + ' GiB';
}

export function fmtRate(x, digits = 3) {
  const v = toNumber(x);
  return v === null ? '—' : v.toFixed(digits);
}

// "2h", "7d", "30m", "2026-11-22", "2026-11-22T10:00:00" -> ms since the
// epoch, as the server reads `since` (null for what it would refuse).
export function parseSince(text, nowMs = Date.now()) {
  const t = (text || '').trim();
  if (!t) return null;
  const rel = /^(\d+)([smhdw])$/.exec(t);
  if (rel) {
    const unit = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[rel[2]];
    return nowMs - Number(rel[1]) * unit * 1000;
  }
  if (/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2})?$/.test(t)) {
    const ms = Date.parse(t.length === 10 ? t + 'T00:00:00Z' : t + 'Z');
    return Number.isNaN(ms) ? null : ms;
  }
  return null;
}
