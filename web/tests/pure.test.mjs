// The page's pure modules (no DOM): parsing, formatting, the trace tree,
// the rows of a diff and statistics. Run: node --test web/tests/
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseJSON } from '../src/api.js';
import { fmtDuration, toBig, diffNs, shortDigest, parseSince } from '../src/format.js';
import { TraceModel, eventFlags } from '../src/trace_model.js';
import { rowsOf } from '../src/align.js';
import { wilson, ruleThreshold } from '../src/stats.js';
import { ticks } from '../src/timeline.js';

test('integers past 2^53 keep every digit, wherever they are', () => {
  const v = parseJSON('{"started_ns":1796681684970716708,"s":"a:12345678901234567,b","f":1.2345678901234567890,"small":9007199254740991,"arr":[ 18446744073709551615 ]}');
  assert.equal(v.started_ns, '1796681684970716708');
  assert.equal(v.s, 'a:12345678901234567,b');
  assert.equal(typeof v.f, 'number');
  assert.equal(v.small, 9007199254740991);
  assert.deepEqual(v.arr, ['18446744073709551615']);
});

test('timestamps as numbers, strings or BigInt subtract exactly', () => {
  assert.equal(diffNs('1796681686192055753', '1796681685028852110'), 1163203643);
  assert.equal(toBig(null), null);
  assert.equal(toBig(12.4), 12n);
  assert.equal(diffNs(null, '1'), null);
});

test('durations read like the CLI', () => {
  assert.equal(fmtDuration(952e6), '952ms');
  assert.equal(fmtDuration(3.6e6), '3.6ms');
  assert.equal(fmtDuration(41e3), '41µs');
  assert.equal(fmtDuration(1.2227e9), '1.2s');
  assert.equal(fmtDuration(125e9), '2m 05s');
  assert.equal(fmtDuration(null), '—');
  assert.equal(shortDigest('sha256:34a9ae59a9d7358f68c0'), '34a9ae59a9d7');
});

test('since is read as the server reads it', () => {
  const now = Date.UTC(2026, 11, 7);
  assert.equal(parseSince('2h', now), now - 7200e3);
  assert.equal(parseSince('2026-11-22', now), Date.UTC(2026, 10, 22));
  assert.equal(parseSince('soon', now), null);
});

const sample = (name) => parseJSON(readFileSync(new URL(`../tests/fixtures/${name}`, import.meta.url), 'utf8'));

test('tree order puts children under their parent, missing parents at the top', () => {
  const ev = (seq, parent, s, e) => ({ seq, parent, kind: 'tool', name: 't' + seq, start_ns: String(1000n + BigInt(s)), end_ns: String(1000n + BigInt(e)) });
  const m = new TraceModel({ started_ns: 1000 }, [ev(1, 0, 0, 100), ev(2, 5, 10, 20), ev(3, 1, 5, 50), ev(4, 99, 1, 2), ev(5, 1, 8, 30)]);
  assert.deepEqual(m.rows.map((e) => e.seq), [1, 3, 5, 2, 4]);
  assert.deepEqual(m.rows.map((e) => e.depth), [0, 1, 1, 2, 0]);
  m.toggle(1);
  assert.deepEqual(m.rows.map((e) => e.seq), [1, 4]);
  assert.equal(m.reveal(2), 3);
  assert.equal(m.span, 100);
  assert.equal(m.add(ev(1, 0, 0, 1)), false, 'a seq already known is ignored (live)');
});

test('a parent loop still shows every event once', () => {
  const ev = (seq, parent) => ({ seq, parent, kind: 'custom', name: 'x', start_ns: '1', end_ns: '2' });
  const m = new TraceModel({}, [ev(1, 2), ev(2, 1)]);
  assert.equal(m.rows.length, 2);
});

test('the sample run: times from the run start, stream flagged by nothing', () => {
  const run = sample('show_support.json');
  const m = new TraceModel(run, run.events);
  const stream = m.bySeq.get(3);
  assert.equal(stream.off1 - stream.off0, 3786894);
  assert.ok(stream.off0 > 0);
  assert.deepEqual(eventFlags(stream), []);
});

test('the diff rows are the server\'s, the first divergence marked once', () => {
  const ev = (seq) => ({ seq, kind: 'llm', name: 'POST /chat/completions' });
  const report = { trajectory: {
    first_divergence: { a: { seq: 3 }, b: { seq: 3 } },
    steps: [{ a: 2, b: 2, equal: true }, { a: 3, b: 3, equal: false }, { a: 4, b: null, equal: false },
            { a: 5, b: 4, equal: false }, { a: null, b: 5, equal: false }] } };
  const rows = rowsOf(report, [2, 3, 4, 5].map(ev), [2, 3, 4, 5].map(ev));
  assert.deepEqual(rows.map((r) => [r.a && r.a.seq, r.b && r.b.seq, r.status]),
    [[2, 2, 'same'], [3, 3, 'divergent'], [4, null, 'only-a'], [5, 4, 'paired'], [null, 5, 'only-b']]);
  assert.equal(rows[0].a.event.kind, 'llm');
  const gap = rowsOf({ trajectory: { first_divergence: { a: { seq: 3 }, b: null },
    steps: [{ a: 2, b: 2, equal: true }, { a: 3, b: null, equal: false }] } }, [ev(2), ev(3)], [ev(2)]);
  assert.deepEqual(gap.map((r) => r.status), ['same', 'divergent']);
  assert.deepEqual(rowsOf({ trajectory: {} }, [], []), []);  // an older report: no rows
  // A request that changed: the alignment lists a's and b's steps apart,
  // the divergence names both: one divergent row where a's was.
  const changed = rowsOf({ trajectory: { first_divergence: { a: { seq: 3 }, b: { seq: 3 } },
    steps: [{ a: 2, b: 2, equal: true }, { a: 3, b: null, equal: false }, { a: null, b: 3, equal: false },
            { a: 4, b: 4, equal: true }] } }, [2, 3, 4].map(ev), [2, 3, 4].map(ev));
  assert.deepEqual(changed.map((r) => [r.a && r.a.seq, r.b && r.b.seq, r.status]),
    [[2, 2, 'same'], [3, 3, 'divergent'], [4, 4, 'same']]);
});

test('the sample diff marks its first step divergent', () => {
  const diff = sample('diff_diverged.json');
  diff.trajectory.steps = [{ a: 2, b: 2, equal: false }, { a: 3, b: null, equal: false }];
  const run = sample('show_support.json');
  const rows = rowsOf(diff, run.events, run.events.slice(0, 2));
  assert.equal(rows[0].status, 'divergent');
  assert.equal(rows[0].a.seq, 2);
  assert.equal(rows[1].status, 'only-a');
});

test('Wilson interval as the probe computes it', () => {
  const [lo, hi] = wilson(4, 20);
  assert.ok(Math.abs(lo - 0.08065766257979808) < 1e-12);
  assert.ok(Math.abs(hi - 0.41601743225189364) < 1e-12);
  assert.deepEqual(wilson(0, 0), [0, 1]);
  assert.deepEqual(ruleThreshold('pass_rate >= 0.9'), { at: 0.09999999999999998, text: 'pass_rate >= 0.9' });
  assert.equal(ruleThreshold('pass@5 >= 0.9'), null);
});

test('axis ticks are round numbers', () => {
  assert.deepEqual(ticks(0, 1e9, 450), [0, 2e8, 4e8, 6e8, 8e8, 1e9]);
  assert.deepEqual(ticks(0, 600e9, 400), [0, 300e9, 600e9]);
});

test('no module builds markup from strings (the security rule)', async () => {
  const { readdirSync } = await import('node:fs');
  const dir = new URL('../src/', import.meta.url);
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.js'))) {
    const text = readFileSync(new URL(f, dir), 'utf8');
    for (const bad of ['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write', 'DOMParser', 'createContextualFragment', 'eval(', 'new Function']) {
      assert.ok(!text.includes(bad), `${f} uses ${bad}`);
    }
  }
});
