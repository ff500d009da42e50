// The two trajectories of a diff, side by side: which step of run A goes
// with which of run B. Pure (no DOM), tested in Node.
//
// The steps and their keys are the server's (src/analysis/diff.cpp): every
// event but the process, concurrent siblings (same parent, overlapping by
// more than a millisecond) put in key order, a step's key its kind, name
// and request digest. The rows up to the first divergence are the
// server's matching prefix; the divergent pair is the server's
// (first_divergence a.seq / b.seq); after it, the rest is aligned by the
// longest common subsequence of keys, as align.cpp does.

import { toBig } from './format.js';

const CLOCK_GRAIN_NS = 1000000n;

export function stepsOf(events) {
  const evs = (events || []).filter((e) => e.kind !== 'process').slice().sort((a, b) => Number(a.seq) - Number(b.seq));
  const key = (e) => `${e.kind}\u001f${e.name ?? ''}\u001f${e.request ?? ''}`;
  let begin = 0;
  while (begin < evs.length) {
    let end = begin + 1;
    let groupEnd = toBig(evs[begin].end_ns) ?? 0n;
    while (end < evs.length && Number(evs[end].parent || 0) === Number(evs[begin].parent || 0) &&
           (toBig(evs[end].start_ns) ?? 0n) + CLOCK_GRAIN_NS < groupEnd) {
      const e = toBig(evs[end].end_ns) ?? 0n;
      if (e > groupEnd) groupEnd = e;
      end++;
    }
    if (end - begin > 1) {
      const group = evs.slice(begin, end).map((e, i) => [e, i]);
      group.sort((x, y) => (key(x[0]) < key(y[0]) ? -1 : key(x[0]) > key(y[0]) ? 1 : x[1] - y[1]));
      group.forEach(([e], i) => { evs[begin + i] = e; });
    }
    begin = end;
  }
  return evs.map((e) => ({ seq: Number(e.seq), kind: e.kind, name: e.name, key: key(e), event: e }));
}

// Pairs of indices [i, j] of a and b that go together (keys equal),
// as align.cpp: common prefix, common suffix, LCS of the middle.
export function lcsPairs(a, b) {
  const out = [];
  let prefix = 0;
  while (prefix < a.length && prefix < b.length && a[prefix] === b[prefix]) { out.push([prefix, prefix]); prefix++; }
  let suffix = 0;
  while (suffix < a.length - prefix && suffix < b.length - prefix && a[a.length - 1 - suffix] === b[b.length - 1 - suffix]) suffix++;
  const n = a.length - prefix - suffix, m = b.length - prefix - suffix;
  if (n > 0 && m > 0 && n * m <= 4000000) {
    const L = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        L[i][j] = a[prefix + i] === b[prefix + j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
      }
    }
    let i = 0, j = 0;
    while (i < n && j < m) {
      if (a[prefix + i] === b[prefix + j]) { out.push([prefix + i, prefix + j]); i++; j++; }
      else if (L[i + 1][j] >= L[i][j + 1]) i++;
      else j++;
    }
  }
  for (let k = suffix; k > 0; k--) out.push([a.length - k, b.length - k]);
  return out;
}

// Rows for display: {a: step|null, b: step|null, status}, status one of
// 'same' (in the matching prefix), 'divergent' (the first divergence),
// 'paired' (same request after it; the answer may differ), 'only-a',
// 'only-b'.
export function alignRuns(stepsA, stepsB, report) {
  const t = (report && report.trajectory) || {};
  const fd = t.first_divergence || null;
  const rows = [];
  const ia = fd && fd.a ? stepsA.findIndex((s) => s.seq === Number(fd.a.seq)) : -1;
  const ib = fd && fd.b ? stepsB.findIndex((s) => s.seq === Number(fd.b.seq)) : -1;
  const prefix = Math.max(0, Math.min(Number(t.matching_prefix) || 0, stepsA.length, stepsB.length));
  if (!fd) {
    // No divergence: every pair the server aligned was equal.
    pushAligned(rows, stepsA, stepsB, 0, 0, Infinity);
    return rows;
  }
  // Where the divergence sits in each run: its step, or (for a step only
  // the other run has) the next step after the prefix.
  const da = ia >= 0 ? ia : prefix;
  const db = ib >= 0 ? ib : prefix;
  const lead = Math.min(da, db);
  for (let k = 0; k < lead; k++) rows.push({ a: stepsA[k], b: stepsB[k], status: k < prefix ? 'same' : 'paired' });
  // Steps between the shared lead and the divergence (none, in reports
  // the server makes; kept so no step is ever dropped).
  for (let k = lead; k < da; k++) rows.push({ a: stepsA[k], b: null, status: 'only-a' });
  for (let k = lead; k < db; k++) rows.push({ a: null, b: stepsB[k], status: 'only-b' });
  rows.push({ a: ia >= 0 ? stepsA[ia] : null, b: ib >= 0 ? stepsB[ib] : null, status: 'divergent' });
  pushAligned(rows, stepsA, stepsB, ia >= 0 ? ia + 1 : da, ib >= 0 ? ib + 1 : db, 0);
  return rows;
}

// The rest of both runs, from a0 and b0, aligned by key; the first
// `same` rows counted as matching.
function pushAligned(rows, A, B, a0, b0, same) {
  const ka = A.slice(a0).map((s) => s.key), kb = B.slice(b0).map((s) => s.key);
  let i = 0, j = 0, k = 0;
  for (const [pi, pj] of lcsPairs(ka, kb)) {
    while (i < pi) rows.push({ a: A[a0 + i++], b: null, status: 'only-a' });
    while (j < pj) rows.push({ a: null, b: B[b0 + j++], status: 'only-b' });
    rows.push({ a: A[a0 + i++], b: B[b0 + j++], status: k++ < same ? 'same' : 'paired' });
  }
  while (i < ka.length) rows.push({ a: A[a0 + i++], b: null, status: 'only-a' });
  while (j < kb.length) rows.push({ a: null, b: B[b0 + j++], status: 'only-b' });
}
