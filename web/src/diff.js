// Why two runs differ (/diff/A/B): the verdict and its explanation, the
// conditions by section with the differing paths, the two trajectories
// aligned with the first divergent step marked and its request/response
// difference, and the outcome: what `retrace diff A B` prints.

import { h, clear, notice, badge, section } from './dom.js';
import { getJSON, enc } from './api.js';
import { fmtTime, fmtDuration, diffNs, shortDigest } from './format.js';
import { rowsOf } from './align.js';
import { diffTable } from './event_detail.js';
import { sectionNames, summarize } from './conditions.js';
import { jsonView } from './json_view.js';
import { kindClass } from './timeline.js';

export function mount(root, route, app) {
  const { a: idA, b: idB } = route.params;
  let destroyed = false;
  app.setLive('off');
  app.setTitle(`diff ${idA.slice(0, 8)} ${idB.slice(0, 8)}`);
  clear(root).append(notice('Comparing…', 'loading'));

  (async () => {
    // The report decides; the two runs (for their steps and conditions)
    // are welcome but not required.
    const [report, runA, runB] = await Promise.allSettled([
      getJSON(`/api/v1/diff/${enc(idA)}/${enc(idB)}`),
      getJSON(`/api/v1/runs/${enc(idA)}`),
      getJSON(`/api/v1/runs/${enc(idB)}`),
    ]);
    if (destroyed) return;
    if (report.status === 'rejected') {
      clear(root).append(notice(`Could not compare ${idA} and ${idB}: ${report.reason.message}`, 'error'));
      return;
    }
    render(report.value, runA.status === 'fulfilled' ? runA.value : null, runB.status === 'fulfilled' ? runB.value : null);
  })();

  function render(r, A, B) {
    clear(root).append(
      h('div', { class: 'page-head' }, h('h1', null, 'Diff'),
        runLabel('a', r.a || idA, A), h('span', { class: 'arrow' }, '→'), runLabel('b', r.b || idB, B),
        h('span', { class: 'spacer' }),
        h('a', { class: 'btn', href: `/diff/${enc(r.b || idB)}/${enc(r.a || idA)}`, title: 'the same comparison the other way round' }, 'swap')),
      verdictCard(r),
      conditionsBlock(r, A, B),
      trajectoryBlock(r, A, B),
      outcomeBlock(r, A, B));
  }

  return { destroy() { destroyed = true; } };
}

function runLabel(side, id, run) {
  return h('a', { class: `runlabel side-${side}`, href: `/runs/${enc(id)}` },
    h('span', { class: 'side' }, side.toUpperCase()),
    h('span', null, (run && run.name) || ''),
    h('code', { class: 'small' }, id),
    run && h('span', { class: 'muted small' }, fmtTime(run.started_ns)));
}

const VERDICT_CLASS = {
  identical: 'ok',
  'conditions differ': 'warn',
  'backend differs': 'warn',
  'inputs differ': 'warn',
  'provider fault': 'bad',
  'same conditions, outputs diverged': 'bad',
};

function verdictCard(r) {
  const cls = VERDICT_CLASS[r.verdict] || 'warn';
  return h('div', { class: `verdict ${cls}`, 'data-testid': 'diff-verdict', 'data-verdict': r.verdict || '' },
    h('div', { class: 'verdict-label' }, 'verdict'),
    h('div', { class: 'verdict-text' }, r.verdict || '(none)'),
    r.explanation && h('div', { class: 'verdict-why' }, r.explanation));
}

// Conditions: a row per section (digest in each run, same or not), the
// differing paths of each differing section, and both JSONs side by side
// with those paths highlighted.
function conditionsBlock(r, A, B) {
  const c = r.conditions || {};
  const declared = c.declared && typeof c.declared === 'object' ? c.declared : {};
  const byPath = { ...declared };
  if (Array.isArray(c.backend) && c.backend.length) byPath.backend = c.backend;
  const secA = (A && A.identity && A.identity.sections) || {};
  const secB = (B && B.identity && B.identity.sections) || {};
  const names = sectionNames({ ...(A?.conditions || {}), ...(B?.conditions || {}), ...byPath }, { ...secA, ...secB });
  const wrap = h('div', { class: 'block', 'data-testid': 'diff-conditions' },
    h('div', { class: 'block-title' }, h('h2', null, 'Conditions'),
      h('span', { class: 'muted small' }, Object.keys(byPath).length ? `${Object.keys(byPath).length} section(s) differ` : 'the same in every section'),
      c.different_machine && badge('different machine', 'warn', 'env.machine differs: set apart, as machine-only differences')));
  const table = h('table', { class: 'cond-table' },
    h('thead', null, h('tr', null, h('th', null, 'section'), h('th', null, 'a'), h('th', null, 'b'), h('th', null, ''))));
  const tbody = h('tbody');
  table.append(tbody);
  for (const name of names) {
    const diffs = byPath[name] || [];
    const da = secA[name], db = secB[name];
    const differs = diffs.length > 0 || (da && db && da !== db);
    const tr = h('tr', { class: ['cond-row', differs && 'differs'], 'data-section': name },
      h('td', { class: 'cs-name' }, name),
      h('td', { class: 'mono', title: da || '' }, shortDigest(da)),
      h('td', { class: 'mono', title: db || '' }, shortDigest(db)),
      h('td', null, differs ? badge(diffs.length ? `${diffs.length} path${diffs.length === 1 ? '' : 's'} differ` : 'differs', 'warn') : h('span', { class: 'muted' }, 'same')));
    tbody.append(tr);
    if (!differs) continue;
    const paths = diffs.map((d) => d.path);
    const detail = h('td', { colspan: '4' },
      diffs.length ? diffTable(diffs) : h('div', { class: 'muted small' }, name === 'env' ? 'only the machine differs (not in the digest\'s comparison)' : 'the section digests differ'),
      (A || B) && section('side by side', { open: diffs.length > 0 && diffs.length <= 20, build: () => h('div', { class: 'side-by-side' },
        h('div', null, h('div', { class: 'side-head side-a' }, 'a'), sideJson(A, name, paths)),
        h('div', null, h('div', { class: 'side-head side-b' }, 'b'), sideJson(B, name, paths))) }));
    tbody.append(h('tr', { class: 'cond-detail' }, detail));
  }
  wrap.append(table);
  return wrap;
}

function sideJson(run, name, paths) {
  if (!run || !run.conditions) return h('div', { class: 'muted' }, '(run not loaded)');
  const v = run.conditions[name];
  if (v === undefined) return h('div', { class: 'muted' }, '(absent)');
  return h('div', null, h('div', { class: 'muted small' }, summarize(name, v)), jsonView(v, { open: 1, path: '$.' + name, highlight: paths }));
}

// The trajectories aligned: a row per pair of steps (or a step only one
// run has), the first divergence marked and, under it, what differed.
function trajectoryBlock(r, A, B) {
  const t = r.trajectory || {};
  const fd = t.first_divergence || null;
  const wrap = h('div', { class: 'block' },
    h('div', { class: 'block-title' }, h('h2', null, 'Trajectory'),
      h('span', { class: 'muted small' }, `a ${t.a_steps ?? 0} step(s), b ${t.b_steps ?? 0}; ${t.matched ?? 0} equal; the first ${t.matching_prefix ?? 0} match`),
      t.realigned && h('span', { class: 'muted small' }, ` · back in step at a #${t.realigned.a} / b #${t.realigned.b}`)));
  if (!A || !B) {
    wrap.append(notice('The runs could not be loaded, so their steps are not shown; the report follows.', ''));
    if (fd) wrap.append(divergenceDetail(r, fd));
    return wrap;
  }
  const rows = rowsOf(r, A.events, B.events);
  const tbody = h('tbody');
  rows.forEach((row, n) => {
    const tr = h('tr', {
      class: ['diff-step', row.status, row.status === 'divergent' && 'divergent'],
      'data-testid': 'diff-step',
      'data-a-seq': row.a ? row.a.seq : null, 'data-b-seq': row.b ? row.b.seq : null,
    },
    h('td', { class: 'num muted' }, String(n + 1)),
    stepCell(row.a, r.a || A.id, A),
    h('td', { class: 'rel' }, relation(row)),
    stepCell(row.b, r.b || B.id, B));
    tbody.append(tr);
    if (row.status === 'divergent') tbody.append(h('tr', { class: 'divergence-detail' }, h('td', { colspan: '4' }, divergenceDetail(r, fd))));
  });
  if (!rows.length) tbody.append(h('tr', null, h('td', { colspan: '4', class: 'muted' }, 'Neither run has steps (events besides the process).')));
  wrap.append(h('div', { class: 'legend muted small' }, '= same answer · ≠ first divergence · ≈ same request, another answer, after it · ◂ ▸ a step only one run has · click a step to open it'));
  wrap.append(h('table', { class: 'steps' },
    h('thead', null, h('tr', null, h('th', null, ''), h('th', null, 'a'), h('th', null, ''), h('th', null, 'b'))), tbody));
  return wrap;
}

function stepCell(step, runId, run) {
  if (!step) return h('td', { class: 'step empty' }, h('span', { class: 'muted' }, '—'));
  const e = step.event;
  const dur = diffNs(e.end_ns, e.start_ns);
  const a = e.attrs || {};
  return h('td', { class: 'step' },
    h('a', { href: `/runs/${enc(runId)}?event=${step.seq}`, class: 'step-link' },
      h('span', { class: 'ev-seq' }, '#' + step.seq),
      h('span', { class: `kind k-${kindClass(step.kind)}` }, step.kind),
      h('span', { class: 'ev-name' }, step.name || ''),
      a.status !== undefined && h('span', { class: 'muted mono small' }, ' ' + a.status),
      dur !== null && h('span', { class: 'muted small' }, ' ' + fmtDuration(dur))));
}

function relation(row) {
  switch (row.status) {
    case 'same': return h('span', { class: 'rel-same', title: 'same request, same answer' }, '=');
    case 'divergent': return h('span', { class: 'rel-div', title: 'the first divergent step' }, '≠');
    case 'paired': return h('span', { class: 'rel-pair', title: 'same request, another answer; after the divergence' }, '≈');
    case 'only-a': return h('span', { class: 'rel-only', title: 'only in a' }, '◂');
    default: return h('span', { class: 'rel-only', title: 'only in b' }, '▸');
  }
}

function divergenceDetail(r, fd) {
  const label = (s) => (s ? `#${s.seq} ${s.kind} ${s.name}` : '(no step)');
  const what = !fd.a || !fd.b ? `only ${fd.a ? 'a' : 'b'} has this step`
    : fd.same_request ? 'same request, different answer' : 'different request';
  return h('div', { class: 'divergence' },
    h('div', null, h('strong', null, 'First divergence: '), `a ${label(fd.a)}, b ${label(fd.b)}: ${what}`),
    Array.isArray(fd.request_diff) && fd.request_diff.length ? h('div', null, h('div', { class: 'sub' }, 'request'), diffTable(fd.request_diff)) : null,
    Array.isArray(fd.response_diff) && fd.response_diff.length ? h('div', null, h('div', { class: 'sub' }, 'response'), diffTable(fd.response_diff)) : null);
}

function outcomeBlock(r) {
  const o = r.outcome || {};
  const exitCell = (x) => (x === null || x === undefined ? h('span', { class: 'muted' }, '—') : h('span', { class: x === 0 ? 'ok' : 'bad' }, String(x)));
  const same = o.a_exit === o.b_exit && !o.stdout;
  return h('div', { class: 'block' },
    h('div', { class: 'block-title' }, h('h2', null, 'Outcome'), h('span', { class: 'muted small' }, same ? 'the same' : 'differs')),
    h('dl', { class: 'kv' },
      h('dt', null, 'exit code'), h('dd', null, exitCell(o.a_exit), ' → ', exitCell(o.b_exit)),
      h('dt', null, 'stdout'), h('dd', { class: 'mono' }, o.stdout || h('span', { class: 'muted' }, 'the same'))));
}
