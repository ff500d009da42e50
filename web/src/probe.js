// Probes: the list (/probes) and one probe (/probes/ID): its registration
// (sealed before the first run), the failure rate with its interval per
// variant or conditions group, pass@k, the decision and verdict, and
// every run. A probe that did not finish shows its registration only.

import { h, clear, notice, badge, kvGrid, copyButton, section } from './dom.js';
import { getJSON, enc, stringifyJSON } from './api.js';
import { fmtTime, fmtTimeExact, fmtRate, fmtInt } from './format.js';
import { intervalChart, passAtKChart } from './probe_chart.js';
import { wilson, ruleThreshold } from './stats.js';
import { jsonView } from './json_view.js';

export function mountList(root, route, app) {
  let destroyed = false;
  app.setLive('off');
  app.setTitle('Probes');
  clear(root).append(notice('Loading probes…', 'loading'));
  getJSON('/api/v1/probes').then((probes) => {
    if (destroyed) return;
    const list = Array.isArray(probes) ? probes : [];
    const tbody = h('tbody', null, list.map((p) => h('tr', { class: 'probe-row', 'data-probe-id': p.probe },
      h('td', null, h('a', { href: `/probes/${enc(p.probe)}` }, p.name || h('span', { class: 'muted' }, '(unnamed)'))),
      h('td', { class: 'mono' }, h('a', { class: 'quiet', href: `/probes/${enc(p.probe)}` }, p.probe)),
      h('td', { title: fmtTimeExact(p.started_ns) }, fmtTime(p.started_ns)),
      h('td', { class: 'num' }, p.runs === null || p.runs === undefined ? '—' : fmtInt(p.runs)),
      h('td', { class: ['num', p.failed > 0 && 'bad'] }, p.failed === null || p.failed === undefined ? '—' : fmtInt(p.failed)),
      h('td', null, p.verdict ? verdictBadge(p.verdict) : h('span', { class: 'muted' }, 'not finished')))));
    clear(root).append(
      h('div', { class: 'page-head' }, h('h1', null, 'Probes'), h('span', { class: 'muted small' }, 'pre-registered variance probes: retrace probe --k N ... -- CMD')),
      list.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'runs probes', 'data-testid': 'probes-table' },
        h('thead', null, h('tr', null, h('th', null, 'Name'), h('th', null, 'Probe'), h('th', null, 'Started'), h('th', { class: 'num' }, 'Runs'), h('th', { class: 'num' }, 'Failed'), h('th', null, 'Verdict'))),
        tbody)) : notice('No probes yet. Run one: retrace probe --k 20 --rule "fail_rate >= 0.1" -- CMD'));
  }).catch((err) => { if (!destroyed) clear(root).append(notice('Could not load probes: ' + err.message, 'error')); });
  return { destroy() { destroyed = true; } };
}

function verdictBadge(v) {
  const cls = /^deterministic pass|^no failures/.test(v) ? 'ok' : /^deterministic fail|^failed in every/.test(v) ? 'bad' : 'warn';
  return badge(v, cls);
}

export function mountProbe(root, route, app) {
  const id = route.params.id;
  let destroyed = false;
  app.setLive('off');
  app.setTitle('probe ' + id);
  clear(root).append(notice('Loading probe…', 'loading'));
  (async () => {
    let p;
    try {
      p = await getJSON(`/api/v1/probes/${enc(id)}`);
    } catch (err) {
      if (!destroyed) clear(root).append(notice(err.status === 404 ? `No probe ${id}.` : `Could not load probe ${id}: ${err.message}`, 'error'));
      return;
    }
    if (destroyed) return;
    if (p && p.result === null && p.registration !== undefined) {
      // Not finished: the registration's record digest is its run's.
      let reg = null;
      try { reg = await getJSON(`/api/v1/runs/${enc(p.probe || id)}`); } catch { reg = null; }
      if (!destroyed) renderUnfinished(root, p, reg, app);
      return;
    }
    renderResult(root, p, app);
  })();
  return { destroy() { destroyed = true; } };
}

function renderUnfinished(root, p, reg, app) {
  const r = p.registration || {};
  app.setTitle(`${(reg && reg.name) || p.probe} · probe`);
  clear(root).append(
    h('div', { class: 'page-head' }, h('h1', null, (reg && reg.name) || 'Probe'), badge('no result', 'warn', 'the probe did not finish'), h('code', { class: 'muted' }, p.probe)),
    h('div', { class: 'cards' }, h('div', { class: 'card', 'data-testid': 'probe-registration' },
      h('div', { class: 'card-title' }, 'Registration (sealed before the first run)'),
      registrationGrid({ hypothesis: r.hypothesis, k: r.k, rule: r.rule, record: reg && reg.record_digest, jobs: r.jobs, oracle: r.oracle, command: r.command, sequential: r.sequential, probe: p.probe }),
      r.variants ? section(`variants (${r.variants.length})`, { build: () => jsonView(r.variants, { open: 2 }) }) : null)),
    notice('No result: the probe did not finish (it was stopped, or is still running). Its runs are in the runs list.', ''));
}

function registrationGrid(x) {
  const text = (v) => (v === null || v === undefined || v === '' ? h('span', { class: 'muted' }, '—') : String(v));
  return kvGrid([
    ['probe', h('span', { class: 'digest' }, h('code', null, x.probe), copyButton(String(x.probe)))],
    ['hypothesis', x.hypothesis ? h('span', { class: 'hypothesis' }, x.hypothesis) : text(null)],
    ['K', h('span', { 'data-testid': 'probe-k-value' }, text(x.k))],
    ['rule', x.rule ? h('code', null, x.rule) : h('span', { class: 'muted' }, 'none (measure only)')],
    ['sealed', x.record ? h('span', { class: 'digest' }, h('code', { title: x.record }, x.record), copyButton(x.record)) : text(null)],
    x.jobs !== undefined ? ['jobs', text(x.jobs)] : null,
    x.oracle !== undefined ? ['oracle', x.oracle ? h('code', null, x.oracle) : h('span', { class: 'muted' }, 'the exit code')] : null,
    Array.isArray(x.command) ? ['command', h('code', null, x.command.join(' '))] : null,
    x.sequential ? ['sequential', h('code', null, stringifyJSON(x.sequential, 0))] : null,
  ]);
}

function renderResult(root, r, app) {
  app.setTitle(`${r.name || r.probe} · probe`);
  const decisionCls = r.decision === 'accept' ? 'ok' : r.decision === 'reject' ? 'bad' : 'warn';
  const interval = Array.isArray(r.fail_rate_interval) ? r.fail_rate_interval : wilson(r.failed || 0, r.done || 0);
  const variants = Array.isArray(r.variants) ? r.variants : [];
  const groups = Array.isArray(r.conditions_groups) ? r.conditions_groups : [];
  // Rows: the whole probe, then each variant (else each conditions group).
  const rows = [{ label: 'all runs', failed: r.failed ?? 0, runs: r.done ?? 0, lo: interval[0], hi: interval[1], strong: true }];
  if (variants.length) {
    for (const v of variants) {
      const iv = Array.isArray(v.fail_rate_interval) ? v.fail_rate_interval : wilson(v.failed, v.runs);
      rows.push({ label: stringifyJSON(v.variant, 0), title: `variant ${stringifyJSON(v.variant, 0)}${v.p_holm !== undefined ? `, p (Holm) ${Number(v.p_holm).toPrecision(2)}` : ''}`, failed: v.failed, runs: v.runs, lo: iv[0], hi: iv[1], flag: v.differs });
    }
  } else {
    for (const g of groups) {
      const n = (g.passed || 0) + (g.failed || 0);
      const [lo, hi] = wilson(g.failed || 0, n);
      rows.push({ label: g.group, title: `conditions group ${g.group}`, failed: g.failed || 0, runs: n, lo, hi });
    }
  }
  const threshold = ruleThreshold(r.rule);

  clear(root).append(
    h('div', { class: 'page-head' }, h('h1', null, r.name || 'Probe'), h('code', { class: 'muted' }, r.probe),
      r.stopped_after !== null && r.stopped_after !== undefined && badge(`stopped early after ${r.stopped_after}: ${r.stop_reason || ''}`, 'warn')),
    h('div', { class: 'verdict-row' },
      h('div', { class: `verdict ${verdictClass(r.verdict)}`, 'data-testid': 'probe-verdict' }, h('div', { class: 'verdict-label' }, 'verdict'), h('div', { class: 'verdict-text' }, r.verdict || '—')),
      h('div', { class: `verdict ${decisionCls}`, 'data-testid': 'probe-decision' }, h('div', { class: 'verdict-label' }, 'decision'),
        h('div', { class: 'verdict-text' }, r.rule ? (r.decision || '—') : 'no rule'),
        r.rule && h('div', { class: 'verdict-why' }, h('code', null, r.rule), r.decision === 'inconclusive' ? ' — inconclusive at this K' : '')),
      h('div', { class: 'verdict neutral' }, h('div', { class: 'verdict-label' }, 'failure rate'),
        h('div', { class: 'verdict-text' }, fmtRate(r.fail_rate)),
        h('div', { class: 'verdict-why' }, `95% CI [${fmtRate(interval[0])}, ${fmtRate(interval[1])}] · ${r.failed ?? 0} of ${r.done ?? 0} failed`))),
    h('div', { class: 'cards' },
      h('div', { class: 'card', 'data-testid': 'probe-registration' }, h('div', { class: 'card-title' }, 'Registration'),
        registrationGrid({ hypothesis: r.hypothesis, k: r.k, rule: r.rule, record: r.probe_record, probe: r.probe })),
      h('div', { class: 'card' }, h('div', { class: 'card-title' }, 'Runs and cost'),
        kvGrid([
          ['runs', `${r.done ?? '—'} of ${r.total ?? r.k ?? '—'}`],
          ['passed', fmtInt(r.passed)], ['failed', fmtInt(r.failed)],
          ['tokens', r.tokens ? `${fmtInt(r.tokens.input)} in, ${fmtInt(r.tokens.output)} out` : '—'],
          ['cost', r.cost_usd && typeof r.cost_usd === 'object' ? `about $${Number(r.cost_usd.total).toFixed(4)}${(r.cost_usd.unpriced_models || []).length ? ` (no price for ${r.cost_usd.unpriced_models.join(', ')})` : ''}` : h('span', { class: 'muted' }, '— (no --prices)')],
          r.result ? ['result run', h('a', { class: 'mono', href: `/runs/${enc(r.result)}` }, r.result)] : null,
        ]))),
    h('div', { class: 'block' },
      h('div', { class: 'block-title' }, h('h2', null, 'Failure rate'), h('span', { class: 'muted small' }, variants.length ? 'per input variant (Fisher\'s exact test against the rest, Holm-corrected)' : 'per conditions group (declared conditions and fingerprint)')),
      h('div', { class: 'chart-wrap' }, intervalChart(rows, threshold)),
      variants.length ? variantsTable(variants) : groupsTable(rows.slice(1))),
    passAtK(r.pass_at_k),
    runsBlock(r.runs));
}

function verdictClass(v) {
  return /^deterministic pass|^no failures/.test(v || '') ? 'ok' : /^deterministic fail|^failed in every/.test(v || '') ? 'bad' : 'warn';
}

function variantsTable(variants) {
  return h('table', { class: 'runs compact' },
    h('thead', null, h('tr', null, h('th', null, 'variant'), h('th', { class: 'num' }, 'failed'), h('th', null, '95% CI'), h('th', { class: 'num' }, 'p'), h('th', { class: 'num' }, 'p (Holm)'), h('th', null, ''))),
    h('tbody', null, variants.map((v) => h('tr', { class: v.differs ? 'flagged' : null },
      h('td', { class: 'mono' }, stringifyJSON(v.variant, 0)),
      h('td', { class: 'num' }, `${v.failed} / ${v.runs}`),
      h('td', { class: 'mono' }, Array.isArray(v.fail_rate_interval) ? `[${fmtRate(v.fail_rate_interval[0])}, ${fmtRate(v.fail_rate_interval[1])}]` : '—'),
      h('td', { class: 'num mono' }, v.p === undefined ? '—' : Number(v.p).toPrecision(2)),
      h('td', { class: 'num mono' }, v.p_holm === undefined ? '—' : Number(v.p_holm).toPrecision(2)),
      h('td', null, v.differs ? badge('differs', 'bad') : '')))));
}

function groupsTable(rows) {
  if (!rows.length) return null;
  return h('table', { class: 'runs compact' },
    h('thead', null, h('tr', null, h('th', null, 'conditions group'), h('th', { class: 'num' }, 'failed'), h('th', null, '95% CI'))),
    h('tbody', null, rows.map((g) => h('tr', null, h('td', { class: 'mono' }, g.label), h('td', { class: 'num' }, `${g.failed} / ${g.runs}`), h('td', { class: 'mono' }, `[${fmtRate(g.lo)}, ${fmtRate(g.hi)}]`)))));
}

// pass@k: the chance that at least one of k runs passes, for every k.
function passAtK(points) {
  const list = Array.isArray(points) ? points : [];
  const K = list.length;
  const show = list.filter(([k]) => k === 1 || k === 2 || k === 5 || k === 10 || k === K);
  return h('div', { class: 'block', 'data-testid': 'probe-k' },
    h('div', { class: 'block-title' }, h('h2', null, 'pass@k'), h('span', { class: 'muted small' }, 'the chance that at least one of k runs passes')),
    K ? h('div', { class: 'passk-wrap' },
      passAtKChart(list),
      h('table', { class: 'runs compact passk-table' },
        h('thead', null, h('tr', null, show.map(([k]) => h('th', { class: 'num' }, `pass@${k}`)))),
        h('tbody', null, h('tr', null, show.map(([k, v]) => h('td', { class: 'num mono', 'data-k': k }, fmtRate(v))))))) : h('div', { class: 'muted' }, 'no runs'));
}

function runsBlock(runs) {
  const list = Array.isArray(runs) ? runs : [];
  return h('div', { class: 'block' },
    h('div', { class: 'block-title' }, h('h2', null, 'Runs'), h('span', { class: 'muted small' }, `${list.length} run(s), each recorded like any`)),
    h('div', { class: 'table-wrap' }, h('table', { class: 'runs compact' },
      h('thead', null, h('tr', null, h('th', { class: 'num' }, '#'), h('th', null, 'run'), h('th', null, 'judged'), h('th', { class: 'num' }, 'exit'), h('th', null, 'conditions group'), h('th', { class: 'num' }, 'tokens'))),
      h('tbody', null, list.map((x) => h('tr', { class: x.passed ? null : 'failed-row', 'data-run-id': x.run },
        h('td', { class: 'num muted' }, String(x.index ?? '')),
        h('td', { class: 'mono' }, h('a', { href: `/runs/${enc(x.run)}` }, x.run)),
        h('td', null, badge(x.passed ? 'passed' : 'failed', x.passed ? 'ok' : 'bad')),
        h('td', { class: 'num mono' }, x.exit_code === null || x.exit_code === undefined ? '—' : String(x.exit_code)),
        h('td', { class: 'mono small' }, x.group || ''),
        h('td', { class: 'num mono' }, Array.isArray(x.tokens) ? `${x.tokens[0]} → ${x.tokens[1]}` : '—')))))));
}
