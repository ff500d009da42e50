// The failure rate of each row (a variant, or a conditions group) with its
// 95% Wilson interval, on an axis from 0 to 1: an SVG built node by node.

import { svg } from './dom.js';
import { fmtRate } from './format.js';

const W = 760, LABEL = 250, RIGHT = 110, ROW = 30, TOP = 26, BOTTOM = 30;

// rows: [{label, title?, failed, runs, lo, hi, strong?, flag?}];
// threshold: {at, text} or null.
export function intervalChart(rows, threshold) {
  const plotW = W - LABEL - RIGHT;
  const H = TOP + rows.length * ROW + BOTTOM;
  const x = (v) => LABEL + Math.max(0, Math.min(1, v)) * plotW;
  const root = svg('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-label': 'failure rate with 95% interval per row', 'data-testid': 'probe-chart', preserveAspectRatio: 'xMinYMin meet' });
  root.append(svg('title', null, 'Failure rate with its 95% Wilson interval'));
  // Bands first, so the grid and the rule's line show through them.
  rows.forEach((r, i) => {
    if (i % 2 === 0) root.append(svg('rect', { x: 0, y: TOP + i * ROW, width: W, height: ROW, class: 'band' }));
  });
  // Axis: 0..1 with gridlines every 0.1, labelled every 0.25.
  for (let i = 0; i <= 20; i++) {
    const v = i / 20;
    const major = i % 5 === 0;
    if (i % 2 && !major) continue;
    root.append(svg('line', { x1: x(v), x2: x(v), y1: TOP - 6, y2: H - BOTTOM, class: major ? 'grid major' : 'grid' }));
    if (major) root.append(svg('text', { x: x(v), y: H - BOTTOM + 16, class: 'axis-label', 'text-anchor': 'middle' }, v === 0 || v === 1 ? String(v) : v.toFixed(2)));
  }
  root.append(svg('text', { x: LABEL + plotW / 2, y: H - 2, class: 'axis-title', 'text-anchor': 'middle' }, 'failure rate (95% CI)'));
  root.append(svg('text', { x: W - RIGHT + 10, y: TOP - 10, class: 'axis-title' }, 'failed / runs'));
  if (threshold) {
    root.append(svg('line', { x1: x(threshold.at), x2: x(threshold.at), y1: TOP - 14, y2: H - BOTTOM, class: 'threshold' }));
    root.append(svg('text', { x: x(threshold.at) + 4, y: TOP - 14, class: 'threshold-label' }, 'rule: ' + threshold.text));
  }
  rows.forEach((r, i) => {
    const y = TOP + i * ROW + ROW / 2;
    const rate = r.runs ? r.failed / r.runs : 0;
    const g = svg('g', { class: ['row', r.strong && 'strong', r.flag && 'flag'].filter(Boolean).join(' '), 'data-testid': 'probe-interval', 'data-lo': String(r.lo), 'data-hi': String(r.hi), 'data-rate': String(rate), 'data-label': r.label });
    g.append(svg('title', null, `${r.title || r.label}\n${r.failed} of ${r.runs} failed: rate ${fmtRate(rate)}, 95% CI [${fmtRate(r.lo)}, ${fmtRate(r.hi)}]`));
    g.append(svg('text', { x: LABEL - 10, y: y + 4, class: 'row-label', 'text-anchor': 'end' }, clip(r.label, 34)));
    g.append(svg('line', { x1: x(r.lo), x2: x(r.hi), y1: y, y2: y, class: 'whisker' }));
    g.append(svg('line', { x1: x(r.lo), x2: x(r.lo), y1: y - 6, y2: y + 6, class: 'whisker' }));
    g.append(svg('line', { x1: x(r.hi), x2: x(r.hi), y1: y - 6, y2: y + 6, class: 'whisker' }));
    g.append(svg('circle', { cx: x(rate), cy: y, r: 4.5, class: 'point' }));
    g.append(svg('text', { x: W - RIGHT + 10, y: y + 4, class: 'row-count' }, `${r.failed} / ${r.runs}`));
    root.append(g);
  });
  return root;
}

// pass@k for k = 1..K as a small step plot, 0..1.
export function passAtKChart(points) {
  const w = 360, hgt = 140, l = 34, r = 10, t = 10, b = 24;
  const n = points.length;
  const maxK = n ? Number(points[n - 1][0]) : 1;
  const x = (k) => l + ((k - 1) / Math.max(1, maxK - 1)) * (w - l - r);
  const y = (v) => t + (1 - Math.max(0, Math.min(1, v))) * (hgt - t - b);
  const root = svg('svg', { class: 'chart passk', viewBox: `0 0 ${w} ${hgt}`, width: w, height: hgt, role: 'img', 'aria-label': 'pass@k for each k' });
  for (const v of [0, 0.5, 1]) {
    root.append(svg('line', { x1: l, x2: w - r, y1: y(v), y2: y(v), class: 'grid' }));
    root.append(svg('text', { x: l - 6, y: y(v) + 4, class: 'axis-label', 'text-anchor': 'end' }, String(v)));
  }
  root.append(svg('text', { x: l, y: hgt - 6, class: 'axis-label' }, 'k = 1'));
  root.append(svg('text', { x: w - r, y: hgt - 6, class: 'axis-label', 'text-anchor': 'end' }, `k = ${maxK}`));
  if (n) {
    const d = points.map(([k, v], i) => `${i ? 'L' : 'M'}${x(Number(k)).toFixed(1)},${y(Number(v)).toFixed(1)}`).join(' ');
    root.append(svg('path', { d, class: 'line' }));
    for (const [k, v] of points) if (n <= 40) root.append(svg('circle', { cx: x(Number(k)), cy: y(Number(v)), r: 2.5, class: 'point' }, svg('title', null, `pass@${k} = ${fmtRate(v)}`)));
  }
  return root;
}

function clip(s, n) {
  const t = String(s);
  return t.length > n ? t.slice(0, n - 1) + '…' : t;
}
