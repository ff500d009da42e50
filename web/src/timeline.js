// The waterfall: each event a bar on the run's time axis, positioned in
// percent of a view window [v0, v1] (ns from the run's start), so a
// resized pane needs no redraw and zooming is a change of window.
//
// Streams: an exchange's attrs.chunks are [offset_us, bytes] per frame,
// the offset counted from the request's start (the event's start_ns),
// and attrs.header_us is when the response header came. The frames of
// the sample stream sit at 3710 µs of a 3787 µs exchange, after its
// header at 3596 µs: offsets from the event's start, not from the run's.

import { h } from './dom.js';
import { fmtDuration } from './format.js';

// Tick spacing: 1, 2 or 5 times a power of ten below ten seconds, whole
// seconds, minutes and hours above; about one tick every 90 px.
const S = 1e9;
const LONG_STEPS = [10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 3 * 3600, 6 * 3600, 12 * 3600, 86400].map((x) => x * S);

export function ticks(v0, v1, widthPx) {
  const span = Math.max(1, v1 - v0);
  const want = Math.max(2, Math.floor(widthPx / 90));
  const raw = span / want;
  let step;
  if (raw <= 5 * S) {
    const pow = Math.pow(10, Math.floor(Math.log10(raw)));
    step = [1, 2, 5, 10].map((m) => m * pow).find((x) => x >= raw) || 10 * pow;
  } else {
    step = LONG_STEPS.find((x) => x >= raw) || Math.ceil(raw / (86400 * S)) * 86400 * S;
  }
  const out = [];
  for (let t = Math.ceil(v0 / step) * step; t <= v1 + 1e-9; t += step) out.push(t);
  return out;
}

export function pct(t, view) {
  return ((t - view.v0) / (view.v1 - view.v0)) * 100;
}

export function renderAxis(el, grid, view, widthPx) {
  el.replaceChildren();
  grid.replaceChildren();
  for (const t of ticks(view.v0, view.v1, widthPx)) {
    const at = pct(t, view);
    const left = at + '%';
    // Labels at the ends stay inside the axis instead of half outside.
    const edge = at < 4 ? 'first' : at > 96 ? 'last' : null;
    el.append(h('span', { class: ['tick-label', edge], style: { left } }, t === 0 ? '0' : fmtDuration(t)));
    grid.append(h('div', { class: 'gridline', style: { left } }));
  }
}

// One row of the timeline: the event's bar, its frames as ticks, its
// duration as a label beside the bar.
export function renderBar(e, view, { selected, flags }) {
  // The row spans the column (for hover and selection); the track inside
  // it is the axis' width, which the bar's percentages refer to.
  const row = h('div', { class: ['tl-row', selected && 'selected'], 'data-seq': e.seq });
  const track = h('div', { class: 'tl-track' });
  row.append(track);
  // Clamped a little past the axis: a bar running off the view ends at its edge.
  const left = Math.max(-1, pct(e.off0, view));
  const right = Math.min(101, pct(Math.max(e.off1, e.off0), view));
  const width = Math.max(0, right - left);
  const bad = flags.some((f) => f[1] === 'error');
  // A bar a few pixels wide shows its frames as marks under it only, so
  // the marks do not hide its colour.
  const narrow = (width / 100) * (view.px || 600) < 40;
  const bar = h('div', {
    class: ['tl-bar', `k-${kindClass(e.kind)}`, e.open && 'open', bad && 'bad', narrow && 'narrow'],
    'data-testid': 'timeline-bar', 'data-seq': e.seq,
    style: { left: left + '%', width: width + '%' },
    title: `#${e.seq} ${e.kind} ${e.name ?? ''}\nstart +${fmtDuration(e.off0)}, ${e.open ? 'still open' : 'took ' + fmtDuration(e.off1 - e.off0)}`,
  });
  const a = e.attrs || {};
  const dur = e.off1 - e.off0;
  // Waiting for the answer's header, then its body: the part before the
  // first byte drawn lighter (time to first byte).
  if (Number.isFinite(a.header_us) && dur > 0 && !narrow) {
    const w = Math.min(100, (a.header_us * 1000 / dur) * 100);
    bar.append(h('div', { class: 'tl-wait', style: { width: w + '%' } }));
  }
  track.append(bar);
  if (isStream(a) && dur > 0) {
    // A tick per frame, in the bar's own frame so they move with it. Past
    // a few hundred frames, one per tenth of a percent is as much as shows.
    const many = a.chunks.length > 500;
    const seen = new Set();
    a.chunks.forEach((c, i) => {
      const us = Array.isArray(c) ? Number(c[0]) : NaN;
      if (!Number.isFinite(us)) return;
      const at = Math.min(100, Math.max(0, (us * 1000 / dur) * 100));
      if (many) {
        const key = at.toFixed(1);
        if (seen.has(key)) return;
        seen.add(key);
      }
      bar.append(h('div', { class: 'stream-tick', 'data-testid': 'stream-tick', 'data-frame': i, style: { left: at + '%' }, title: `frame ${i + 1} at +${fmtDuration(us * 1000)} (${c[1]} bytes)` }));
    });
  }
  const label = h('span', { class: 'tl-label' }, e.open ? 'open' : fmtDuration(dur));
  if (right < 0 || left > 100) label.hidden = true;  // the bar is out of view
  // Beside the bar where there is room: right of it, else left of it,
  // else (a bar across the whole axis) inside its end.
  if (right <= 82) label.style.left = Math.max(right, 0) + '%';
  else if (left >= 12) { label.classList.add('left'); label.style.right = (100 - left) + '%'; }
  else { label.classList.add('inside'); label.style.right = (100 - Math.min(right, 100)) + '%'; }
  track.append(label);
  return row;
}

// A streamed answer: server-sent events, or a body that came in several frames.
export function isStream(a) {
  if (!Array.isArray(a.chunks) || !a.chunks.length) return false;
  const ct = a.response_headers && a.response_headers['content-type'];
  return a.chunks.length > 1 || (typeof ct === 'string' && ct.includes('event-stream'));
}

export function kindClass(kind) {
  return ['llm', 'http', 'tool', 'retrieval', 'clock', 'random', 'checkpoint', 'custom', 'process', 'span'].includes(kind) ? kind : 'other';
}
