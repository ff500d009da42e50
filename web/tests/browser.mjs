// The page of `retrace serve` in a real browser: Debian's Chromium, headless,
// driven by playwright-core (tests/node). What a person would see (rows,
// bars and where they sit, text), checked against what the CLI's --json
// says about the same store (tests/e2e/web_page.sh records it and writes
// the facts file). One browser for every check; each check opens its own
// tab in one context, which holds the cookie the tokened URL set.
//   node web/tests/browser.mjs URL FACTS_JSON
// SCREENSHOT_DIR: where runs.png, run.png, diff.png, probe.png and xss.png
// go (default: the facts file's directory); docs/images/web for the docs.
import { createRequire } from 'node:module';
import { spawn } from 'node:child_process';
import { readFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';

const require = createRequire(new URL('../../tests/node/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const [url, factsPath] = process.argv.slice(2);
if (!url || !factsPath) throw new Error('usage: node browser.mjs URL FACTS_JSON');
const facts = JSON.parse(readFileSync(factsPath, 'utf8'));
const base = new URL(url).origin;
const shots = process.env.SCREENSHOT_DIR || path.dirname(path.resolve(factsPath));
mkdirSync(shots, { recursive: true });
const WAIT = 10000;  // ms: the longest any condition is waited for

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
context.setDefaultTimeout(WAIT);
// Every tab records what must never happen: a CSP violation, a dialog.
await context.addInitScript(() => {
  window.__csp = [];
  document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
});

// A tab whose console errors, uncaught exceptions and dialogs are kept.
async function openTab() {
  const page = await context.newPage();
  page.problems = [];
  page.on('console', (m) => { if (m.type() === 'error') page.problems.push(`console error: ${m.text()}`); });
  page.on('pageerror', (e) => page.problems.push(`uncaught: ${e.message}`));
  page.on('dialog', (d) => { page.problems.push(`dialog: ${d.type()} ${d.message()}`); d.dismiss().catch(() => {}); });
  return page;
}

async function clean(page) {
  const csp = await page.evaluate(() => window.__csp);
  assert.deepEqual([...page.problems, ...csp], [], 'errors, dialogs or CSP violations in the page');
  assert.equal(await page.evaluate(() => window.__pwned), undefined, 'window.__pwned was set');
}

// Waits until fn (run in the page) returns a truthy value; on timeout says
// what it last returned instead of just "timed out".
async function until(page, what, fn, arg, timeout = WAIT) {
  try {
    return await (await page.waitForFunction(fn, arg, { timeout, polling: 50 })).jsonValue();
  } catch (err) {
    if (!/Timeout/i.test(err.message)) throw err;
    const last = await page.evaluate(fn, arg).catch((e) => `(${e.message})`);
    throw new Error(`timed out after ${timeout} ms waiting for ${what}${last === null ? '' : `; last: ${JSON.stringify(last)}`}`);
  }
}

const rowIds = () => [...document.querySelectorAll('[data-testid=run-row]')].map((r) => r.dataset.runId);
async function expectRows(page, ids, what) {
  await until(page, `${what}: rows ${JSON.stringify(ids)}`, (want) => {
    const got = [...document.querySelectorAll('[data-testid=run-row]')].map((r) => r.dataset.runId);
    return JSON.stringify(got) === JSON.stringify(want) || null;
  }, ids).catch(async (err) => {
    throw new Error(`${err.message}; rows now ${JSON.stringify(await page.evaluate(rowIds))}`);
  });
}

const shot = (page, name) => page.screenshot({ path: path.join(shots, name) });
const big = (x) => BigInt(x);

// --- the checks -----------------------------------------------------------

const checks = [];
const check = (name, fn) => checks.push({ name, fn });

check('without the token: 403 and no page', async () => {
  const stranger = await browser.newContext();
  try {
    const page = await stranger.newPage();
    const res = await page.goto(base + '/');
    assert.equal(res.status(), 403);
    assert.match(await page.locator('body').innerText(), /access token/);
    assert.equal(await page.locator('header.top, [data-testid=runs-table]').count(), 0, 'the app drew in a refused page');
    assert.equal((await page.goto(`${base}/?token=${'0'.repeat(32)}`)).status(), 403, 'another token');
    assert.equal((await page.goto(`${base}/api/v1/runs`)).status(), 403, 'the API');
    assert.equal((await page.goto(`${base}/runs/${facts.agent.id}`)).status(), 403, 'a run page');
  } finally {
    await stranger.close();
  }
});

check('runs: every run, newest first; filters narrow to exactly the CLI\'s rows', async () => {
  const page = await openTab();
  await page.goto(url);  // with ?token=: sets the cookie, then drops the token from the address bar
  assert.equal(new URL(page.url()).searchParams.has('token'), false, 'the token is still in the address bar');
  const all = facts.filters[0];
  assert.equal(all.what, 'none');
  assert.equal(all.ids.length, facts.runs.length);
  await expectRows(page, all.ids, 'the control (no filter)');
  const started = facts.runs.map((r) => big(r.started_ns));
  assert.ok(started.every((t, i) => i === 0 || t <= started[i - 1]), 'the CLI lists newest first');
  // Names as shown: the run's name, or "(unnamed)" for a replay.
  const names = await page.locator('[data-testid=run-row] td.name > a').allInnerTexts();
  assert.deepEqual(names, facts.runs.map((r) => r.name || '(unnamed)'));
  assert.equal(await page.locator('.list-foot').innerText(), `${facts.runs.length} runs`);
  const incomplete = facts.runs.filter((r) => r.state === 'incomplete').map((r) => r.id);
  for (const id of incomplete) assert.equal(await page.locator(`[data-run-id="${id}"] .badge`).first().innerText(), 'incomplete');

  const controls = { name: '[data-testid=filter-name]', q: '[data-testid=search]', state: '[data-testid=filter-state]', kind: '[data-testid=filter-kind]' };
  for (const f of facts.filters.slice(1)) {
    for (const [k, v] of Object.entries(f.set)) {
      if (k === 'state' || k === 'kind') await page.selectOption(controls[k], v);
      else await page.fill(controls[k], v);
    }
    assert.ok(f.ids.length < facts.runs.length, `${f.what} narrows nothing`);
    // (no rows is also what the list shows while it loads: wait for its word)
    if (!f.ids.length) assert.equal(await page.locator('.notice:visible').innerText(), 'No run matches these filters.');
    await expectRows(page, f.ids, f.what);
    const q = new URL(page.url()).searchParams;
    for (const [k, v] of Object.entries(f.set)) assert.equal(q.get(k), v, `the address says ${k}`);
    for (const k of Object.keys(f.set)) {
      if (k === 'state' || k === 'kind') await page.selectOption(controls[k], '');
      else await page.fill(controls[k], '');
    }
    await expectRows(page, all.ids, `back from ${f.what}`);
  }
  await until(page, 'the token counts', () => [...document.querySelectorAll('td.tokens')].every((td) => td.textContent !== '…') || null);
  await page.evaluate(() => document.activeElement.blur());  // (no focus ring in the picture)
  await shot(page, 'runs.png');
  await clean(page);
  await page.close();
});

check('run: a tree row and a timeline bar per event, bars placed by start time; the stream in full', async () => {
  const run = facts.agent.show;
  const page = await openTab();
  await page.goto(`${base}/runs/${run.id}`);
  const seqs = run.events.map((e) => e.seq);
  await until(page, `${seqs.length} tree rows`, (n) => document.querySelectorAll('[data-testid=tree-row]').length === n || null, seqs.length);
  const treeSeqs = (await page.locator('[data-testid=tree-row]').evaluateAll((rs) => rs.map((r) => Number(r.dataset.seq)))).sort((a, b) => a - b);
  assert.deepEqual(treeSeqs, seqs, 'tree rows');
  // Rows top to bottom in tree order (every event here is a root: by number).
  const rowY = await page.locator('[data-testid=tree-row]').evaluateAll((rs) => rs.map((r) => [Number(r.dataset.seq), r.getBoundingClientRect().top]));
  assert.deepEqual(rowY.sort((a, b) => a[1] - b[1]).map(([s]) => s), seqs, 'rows top to bottom');
  for (const e of run.events) {
    assert.equal(await page.locator(`[data-testid=tree-row][data-seq="${e.seq}"] .kind`).innerText(), e.kind);
  }

  // The bars: one per event, each at its start on the run's axis.
  const bars = await page.locator('[data-testid=timeline-bar]').evaluateAll((bs) => bs.map((b) => [Number(b.dataset.seq), b.getBoundingClientRect().left]));
  assert.deepEqual(bars.map(([s]) => s).sort((a, b) => a - b), seqs, 'timeline bars');
  const track = await page.locator('.axis-track').boundingBox();
  const md = run.metadata || {};
  let t0 = big(md.started_ns ?? run.started_ns), t1 = big(md.ended_ns ?? run.ended_ns);
  for (const e of run.events) {
    if (big(e.start_ns) < t0) t0 = big(e.start_ns);
    if (e.end_ns !== null && big(e.end_ns) > t1) t1 = big(e.end_ns);
  }
  const x = new Map(bars);
  const byStart = [...run.events].sort((a, b) => (big(a.start_ns) < big(b.start_ns) ? -1 : 1));
  byStart.forEach((e, i) => {
    const want = track.x + (Number(big(e.start_ns) - t0) / Number(t1 - t0)) * track.width;
    assert.ok(Math.abs(x.get(e.seq) - want) < 1.5, `bar #${e.seq} at x ${x.get(e.seq)}, its start is at x ${want}`);
    if (i) assert.ok(x.get(e.seq) >= x.get(byStart[i - 1].seq) - 0.5, `bar #${e.seq} left of #${byStart[i - 1].seq}, which started earlier`);
  });
  const xs = byStart.map((e) => x.get(e.seq));
  assert.ok(xs[xs.length - 1] - xs[0] > track.width / 4, 'the bars are spread along the axis');

  // The streamed exchange: its assembled text and every frame.
  const s = facts.agent.stream;
  await page.locator(`[data-testid=tree-row][data-seq="${s.seq}"]`).click();
  const detail = page.locator(`[data-testid=event-detail][data-seq="${s.seq}"]`);
  await detail.locator('[data-testid=stream-frames]').waitFor();
  assert.equal(new URL(page.url()).searchParams.get('event'), String(s.seq), 'the address names the event');
  assert.equal(s.detail.response.assembled.stream, true);
  assert.match(await detail.locator('[data-testid=stream-assembled]').innerText(), new RegExp(s.detail.response.assembled.text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  const frames = s.detail.response.frames;
  assert.ok(frames.length > 2, 'a stream of several frames');
  assert.equal(await detail.locator('[data-testid=stream-frames] tr.frame').count(), frames.length, 'frames listed');
  assert.equal(await page.locator(`[data-testid=timeline-bar][data-seq="${s.seq}"] [data-testid=stream-tick]`).count(), frames.length, 'frame ticks on the bar');
  assert.equal(await page.locator(`[data-testid=tree-row][data-seq="${s.seq}"]`).getAttribute('aria-selected'), 'true');
  await page.locator('.trace-layout').evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await shot(page, 'run.png');

  // The tool call round trip: the call the model made, by name and
  // arguments, as the answer that ends the conversation.
  const t = facts.agent.tool;
  await page.locator(`[data-testid=tree-row][data-seq="${t.seq}"]`).click();
  const answer = page.locator(`[data-testid=event-detail][data-seq="${t.seq}"] [data-testid=chat-message]`).last();
  await answer.locator('.tool-call').waitFor();
  assert.equal(await answer.getAttribute('data-role'), 'assistant');
  const callText = await answer.locator('.tool-call').innerText();
  assert.match(callText, new RegExp(t.name));
  for (const v of Object.values(JSON.parse(t.arguments))) assert.ok(callText.includes(String(v)), `argument ${v} not shown: ${callText}`);
  await clean(page);
  await page.close();
});

check('run of SDK events: kinds, nesting, a tool that raised', async () => {
  const run = facts.sdk.show;
  const page = await openTab();
  await page.goto(`${base}/runs/${run.id}`);
  await until(page, `${run.events.length} tree rows`, (n) => document.querySelectorAll('[data-testid=tree-row]').length === n || null, run.events.length);
  const bySeq = new Map(run.events.map((e) => [e.seq, e]));
  const depth = (e) => (e.parent && bySeq.has(e.parent) ? 1 + depth(bySeq.get(e.parent)) : 0);
  for (const e of run.events) {
    const row = page.locator(`[data-testid=tree-row][data-seq="${e.seq}"]`);
    assert.equal(await row.locator('.kind').innerText(), e.kind, `#${e.seq}'s kind`);
    assert.equal(await row.getAttribute('aria-level'), String(depth(e) + 1), `#${e.seq}'s depth`);
  }
  assert.ok(run.events.some((e) => depth(e) === 1 && e.kind === 'retrieval'), 'a retrieval inside the span');
  const raised = run.events.find((e) => e.attrs && e.attrs.error);
  await page.locator(`[data-testid=tree-row][data-seq="${raised.seq}"]`).click();
  const detail = page.locator(`[data-testid=event-detail][data-seq="${raised.seq}"]`);
  await detail.locator('.io').waitFor();
  // (the label is upper case on screen)
  assert.match(await detail.locator('.io').innerText(), new RegExp(`RAISED\\s+${raised.attrs.error.type}: ${raised.attrs.error.message}`));
  await clean(page);
  await page.close();
});

check('diff of the diverged replay: the right step marked, the verdict shown', async () => {
  const d = facts.diff;
  const fd = d.report.trajectory.first_divergence;
  const page = await openTab();
  await page.goto(`${base}/diff/${d.a}/${d.b}`);
  const verdict = page.locator('[data-testid=diff-verdict]');
  await verdict.waitFor();
  assert.equal(await verdict.getAttribute('data-verdict'), d.report.verdict);
  const text = await verdict.innerText();
  assert.ok(text.includes(d.report.verdict) && text.includes(d.report.explanation), `verdict card: ${text}`);
  const steps = page.locator('[data-testid=diff-step]');
  await steps.first().waitFor();
  const divergent = page.locator('[data-testid=diff-step].divergent');
  assert.equal(await divergent.count(), 1, 'one step marked as the first divergence');
  assert.equal(await divergent.getAttribute('data-a-seq'), String(fd.a.seq));
  assert.equal(await divergent.getAttribute('data-b-seq'), String(fd.b.seq));
  const classes = await steps.evaluateAll((rs) => rs.map((r) => (r.classList.contains('divergent') ? 'divergent' : r.classList.contains('same') ? 'same' : 'other')));
  const prefix = d.report.trajectory.matching_prefix;
  assert.ok(prefix > 0, 'the replay matched before it diverged');
  assert.deepEqual(classes.slice(0, prefix + 1), [...Array(prefix).fill('same'), 'divergent'], 'the matching steps, then the divergent one');
  const why = await page.locator('.divergence-detail').innerText();
  for (const r of fd.request_diff) assert.ok(why.includes(r.path) && why.includes(r.a) && why.includes(r.b), `request difference ${r.path} not shown: ${why}`);
  await shot(page, 'diff.png');
  await clean(page);
  await page.close();
});

check('probe: K, the interval where the API puts it', async () => {
  const p = facts.probe.show;
  const page = await openTab();
  await page.goto(`${base}/probes`);
  await page.locator('[data-testid=probes-table]').waitFor();
  assert.deepEqual(await page.locator('[data-testid=probes-table] tbody tr').evaluateAll((rs) => rs.map((r) => r.dataset.probeId)), facts.probes.map((x) => x.probe));
  await page.locator(`[data-testid=probes-table] a[href="/probes/${p.probe}"]`).first().click();
  const chart = page.locator('[data-testid=probe-chart]');
  await chart.waitFor();
  const rows = chart.locator('[data-testid=probe-interval]');
  assert.equal(await rows.count(), 1 + p.conditions_groups.length, 'all runs, then a row per conditions group');
  const all = rows.first();
  const [lo, hi] = p.fail_rate_interval;
  assert.ok(Math.abs(Number(await all.getAttribute('data-lo')) - lo) < 1e-9, 'data-lo');
  assert.ok(Math.abs(Number(await all.getAttribute('data-hi')) - hi) < 1e-9, 'data-hi');
  assert.equal(await all.locator('.row-count').textContent(), `${p.failed} / ${p.done}`);
  // Where a person sees it: the whisker from lo to hi between the axis' 0 and 1.
  const labels = await chart.locator('text.axis-label').evaluateAll((ts) => ts.map((t) => { const b = t.getBoundingClientRect(); return [t.textContent, b.left + b.width / 2]; }));
  const x0 = labels.find(([t]) => t === '0')[1], x1 = labels.find(([t]) => t === '1')[1];
  const whisker = await all.locator('line.whisker').first().boundingBox();
  assert.ok(Math.abs(whisker.x - (x0 + lo * (x1 - x0))) < 2, `interval starts at x ${whisker.x}, want ${x0 + lo * (x1 - x0)}`);
  assert.ok(Math.abs(whisker.x + whisker.width - (x0 + hi * (x1 - x0))) < 2, 'interval end');
  // K: in the registration, and pass@k for every k up to it.
  const reg = await page.locator('[data-testid=probe-registration]').innerText();
  assert.match(reg, new RegExp(`\\bK\\s+${p.k}\\b`));
  const passk = page.locator('[data-testid=probe-k]');
  assert.equal(await passk.locator('svg circle').count(), p.k, 'a pass@k point per k');
  assert.equal((await passk.locator('th').allInnerTexts()).pop(), `pass@${p.k}`);
  assert.equal(await page.locator('[data-testid=probe-verdict] .verdict-text').innerText(), p.verdict);
  await shot(page, 'probe.png');
  await clean(page);
  await page.close();
});

check('markup in a message is text: nothing runs', async () => {
  const x = facts.xss;
  const page = await openTab();
  await page.goto(`${base}/runs/${x.id}`);
  await page.locator(`[data-testid=tree-row][data-seq="${x.seq}"]`).click();
  const detail = page.locator(`[data-testid=event-detail][data-seq="${x.seq}"]`);
  const user = detail.locator('[data-testid=chat-message][data-role=user]');
  await user.waitFor();
  assert.ok((await user.innerText()).includes(x.message), `the message as sent is not what shows: ${await user.innerText()}`);
  // The program printed it too: its stdout, on the process event.
  const proc = facts.xss.process_seq;
  await page.locator(`[data-testid=tree-row][data-seq="${proc}"]`).click();
  const out = page.locator(`[data-testid=event-detail][data-seq="${proc}"] pre.output`);
  await out.waitFor();
  assert.ok((await out.innerText()).includes(x.message), 'stdout as text');
  await page.locator(`[data-testid=tree-row][data-seq="${x.seq}"]`).click();
  await user.waitFor();
  // Nothing ran (had an element been made, the CSP would have stopped its
  // handler and reported the violation), and no element was made.
  await clean(page);
  assert.equal(await page.locator('#page script, #page img').count(), 0, 'an element made from the data');
  await page.locator('.trace-layout').evaluate((el) => el.scrollIntoView({ block: 'start' }));
  await shot(page, 'xss.png');
  await page.close();
});

check('live: a run recorded while the list is open appears without a reload', async () => {
  const page = await openTab();
  await page.goto(`${base}/`);
  await expectRows(page, facts.filters[0].ids, 'the list before');
  await until(page, 'the live stream', () => document.querySelector('[data-testid=live-status]').dataset.state === 'live' || null);
  await page.evaluate(() => { window.__sameDocument = true; });
  const [cmd, ...args] = facts.live.argv;
  const rec = spawn(cmd, args, { cwd: facts.live.cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  rec.stderr.on('data', (b) => { err += b; });
  const code = await new Promise((resolve, reject) => { rec.on('error', reject); rec.on('close', resolve); });
  assert.equal(code, 0, `retrace record: ${err}`);
  const id = /run (\w+) conditions/.exec(err)[1];
  await until(page, `the new run ${id} on top`, (want) => document.querySelector('[data-testid=run-row]')?.dataset.runId === want || null, id);
  await until(page, 'it sealed', (want) => document.querySelector(`[data-run-id="${want}"] .badge`)?.textContent === 'sealed' || null, id);
  assert.deepEqual(await page.evaluate(rowIds), [id, ...facts.filters[0].ids]);
  assert.equal(await page.locator(`[data-run-id="${id}"] td.name > a`).innerText(), facts.live.name);
  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page was reloaded');
  await clean(page);
  await page.close();
});

// --- run them --------------------------------------------------------------

let failed = 0;
try {
  for (const c of checks) {
    const t = Date.now();
    try {
      await c.fn();
      console.log(`ok    ${c.name} (${Date.now() - t} ms)`);
    } catch (err) {
      failed++;
      console.log(`FAIL  ${c.name}: ${err.message}`);
    }
  }
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
