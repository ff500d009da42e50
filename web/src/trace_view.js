// The trajectory pane: the event tree (indented by parent, collapsible)
// and the waterfall timeline side by side, one row per event, in one
// scrolling element so they stay aligned; both virtualised.

import { h } from './dom.js';
import { VirtualList } from './virtual_list.js';
import { renderAxis, renderBar, kindClass } from './timeline.js';
import { eventFlags } from './trace_model.js';
import { fmtDuration } from './format.js';

const ROW = 26;  // px; fixed, so the virtual list is arithmetic

export function createTraceView({ model, onSelect }) {
  let selected = null;
  let view = { v0: 0, v1: model.span };
  let fitted = true;  // showing the whole run: live events widen the view with it
  const flagsCache = new Map();
  const flagsOf = (e) => {
    let f = flagsCache.get(e.seq);
    if (!f) { f = eventFlags(e); flagsCache.set(e.seq, f); }
    return f;
  };

  // Toolbar: filter, kinds, issues, expand/collapse, zoom.
  const filterInput = h('input', { type: 'search', class: 'trace-filter', placeholder: 'Filter events: name, kind, #seq', 'aria-label': 'filter events' });
  const chips = h('span', { class: 'chips' });
  const zoomLabel = h('span', { class: 'zoom-label muted' });
  const matchLabel = h('span', { class: 'muted small' });
  let kindFilter = null;
  let issuesOnly = false;
  const toolbar = h('div', { class: 'trace-toolbar' },
    filterInput, chips, matchLabel,
    h('span', { class: 'spacer' }),
    h('button', { type: 'button', class: 'btn-sm', title: 'expand every event', on: { click: () => { model.setAllCollapsed(false); rows(); } } }, 'expand all'),
    h('button', { type: 'button', class: 'btn-sm', title: 'collapse every event with children', on: { click: () => { model.setAllCollapsed(true); rows(); } } }, 'collapse all'),
    h('span', { class: 'sep' }),
    h('button', { type: 'button', class: 'btn-sm', title: 'zoom out (ctrl + wheel on the timeline)', on: { click: () => zoom(2) } }, '−'),
    h('button', { type: 'button', class: 'btn-sm', title: 'zoom in (ctrl + wheel on the timeline)', on: { click: () => zoom(0.5) } }, '+'),
    h('button', { type: 'button', class: 'btn-sm', title: 'the whole run (double-click a bar to zoom to it)', on: { click: () => setView(0, model.span) } }, 'fit'),
    zoomLabel);

  const axis = h('div', { class: 'axis-track' });
  const handle = h('div', { class: 'col-handle', title: 'drag to resize' });
  const head = h('div', { class: 'trace-head' },
    h('div', { class: 'th-tree' }, h('span', null, 'Event'), h('span', { class: 'muted' }, 'status'), handle),
    h('div', { class: 'th-axis' }, axis));
  const treeCol = h('div', { class: 'tree-col', 'data-testid': 'event-tree', role: 'tree', 'aria-label': 'events' });
  const grid = h('div', { class: 'tl-grid' });
  const tlCol = h('div', { class: 'tl-col', 'data-testid': 'timeline' }, grid);
  const body = h('div', { class: 'trace-body' }, treeCol, tlCol);
  const scroller = h('div', { class: 'trace-scroll', tabindex: '0' }, head, body);
  const empty = h('div', { class: 'notice trace-empty', hidden: true }, 'No events recorded.');
  const el = h('div', { class: 'trace' }, toolbar, scroller, empty);

  const list = new VirtualList({
    scroller, body, columns: [treeCol, tlCol], rowHeight: ROW,
    renderRow: (i) => {
      const e = model.rows[i];
      return [treeRow(e), timelineRow(e)];
    },
  });

  function treeRow(e) {
    const a = e.attrs || {};
    const hasKids = model.hasChildren(e.seq);
    const open = hasKids && !model.collapsed.has(e.seq) && !model.filter;
    const twisty = h('span', { class: ['twisty', hasKids && 'has', open && 'open'] });
    if (hasKids) twisty.addEventListener('click', (ev) => { ev.stopPropagation(); model.toggle(e.seq); rows(); });
    const flags = flagsOf(e);
    const route = (e.kind === 'llm' || e.kind === 'http') && a.route ? a.route : null;
    const row = h('div', {
      class: ['tree-row', e.seq === selected && 'selected', flags.some((f) => f[1] === 'error') && 'bad'],
      'data-testid': 'tree-row', 'data-seq': e.seq, role: 'treeitem',
      'aria-level': String(e.depth + 1), 'aria-selected': String(e.seq === selected),
      'aria-expanded': hasKids ? String(open) : null,
      title: `#${e.seq} ${e.kind} ${e.name ?? ''}`,
    },
    h('span', { class: 'indent', style: { width: Math.min(e.depth, 24) * 14 + 'px' } }),
    twisty,
    h('span', { class: `kind k-${kindClass(e.kind)}` }, e.kind),
    h('span', { class: 'ev-name' }, e.name || '(unnamed)', route && h('span', { class: 'route' }, route), summaryOf(e)),
    flags.map(([label, level, why]) => h('span', { class: `flag ${level}`, title: why }, label)),
    h('span', { class: 'ev-status' }, statusOf(e)),
    h('span', { class: 'ev-seq' }, '#' + e.seq));
    row.addEventListener('click', () => { scroller.focus({ preventScroll: true }); select(e.seq, { user: true }); });
    return row;
  }

  function timelineRow(e) {
    const row = renderBar(e, view, { selected: e.seq === selected, flags: flagsOf(e) });
    row.addEventListener('click', () => { scroller.focus({ preventScroll: true }); select(e.seq, { user: true }); });
    row.addEventListener('dblclick', () => {
      const pad = Math.max((e.off1 - e.off0) * 0.1, 1000);
      setView(Math.max(0, e.off0 - pad), Math.min(Math.max(model.span, e.off1), e.off1 + pad));
    });
    return row;
  }

  function rows() {
    list.setCount(model.rows.length);
    empty.hidden = model.events.length > 0;
    matchLabel.textContent = model.matches === null || model.matches === undefined ? '' : `${model.matches} of ${model.events.length} match`;
  }

  function drawAxis() {
    const px = axis.clientWidth || 600;
    if (px !== view.px) { view.px = px; list.refresh(); }
    renderAxis(axis, grid, view, px);
    const whole = view.v0 <= 0 && view.v1 >= model.span;
    zoomLabel.textContent = whole ? `0 – ${fmtDuration(model.span)}` : `${fmtDuration(view.v0)} – ${fmtDuration(view.v1)}`;
  }

  function setView(v0, v1) {
    const min = 1000;  // 1 µs: below that the axis says nothing
    if (v1 - v0 < min) { const c = (v0 + v1) / 2; v0 = c - min / 2; v1 = c + min / 2; }
    view = { v0, v1, px: view.px };
    fitted = v0 <= 0 && v1 >= model.span;
    drawAxis();
    list.refresh();
  }

  function zoom(factor, centerFrac = 0.5) {
    const span = view.v1 - view.v0;
    const c = view.v0 + span * centerFrac;
    let n = Math.min(span * factor, model.span * 1.05);
    let v0 = c - n * centerFrac;
    v0 = Math.max(0, Math.min(v0, model.span - n));
    setView(v0, v0 + n);
  }

  // ctrl/cmd + wheel zooms around the pointer; sideways wheel pans.
  tlCol.addEventListener('wheel', (ev) => {
    const rect = axis.getBoundingClientRect();  // the track the bars are laid on
    const frac = Math.min(1, Math.max(0, (ev.clientX - rect.left) / rect.width));
    if (ev.ctrlKey || ev.metaKey) {
      ev.preventDefault();
      zoom(ev.deltaY > 0 ? 1.25 : 0.8, frac);
    } else if ((ev.shiftKey || Math.abs(ev.deltaX) > Math.abs(ev.deltaY)) && (view.v0 > 0 || view.v1 < model.span)) {
      ev.preventDefault();
      const span = view.v1 - view.v0;
      const d = ((ev.shiftKey ? ev.deltaY : ev.deltaX) / rect.width) * span;
      const v0 = Math.max(0, Math.min(view.v0 + d, model.span - span));
      setView(v0, v0 + span);
    }
  }, { passive: false });

  // Dragging the handle sets the tree's width.
  handle.addEventListener('pointerdown', (ev) => {
    ev.preventDefault();
    const startX = ev.clientX;
    const startW = treeCol.getBoundingClientRect().width;
    const move = (m) => el.style.setProperty('--tree-w', Math.max(180, Math.min(startW + m.clientX - startX, el.clientWidth - 160)) + 'px');
    const up = () => { window.removeEventListener('pointermove', move); window.removeEventListener('pointerup', up); drawAxis(); };
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', up);
  });
  const axisResize = new ResizeObserver(() => drawAxis());
  axisResize.observe(axis);

  // Keys, when the pane has focus: up/down move, left/right fold, home/end.
  scroller.addEventListener('keydown', (ev) => {
    const i = model.indexOf(selected);
    let next = null;
    if (ev.key === 'ArrowDown' || ev.key === 'j') next = Math.min(model.rows.length - 1, i + 1);
    else if (ev.key === 'ArrowUp' || ev.key === 'k') next = Math.max(0, i < 0 ? 0 : i - 1);
    else if (ev.key === 'Home') next = 0;
    else if (ev.key === 'End') next = model.rows.length - 1;
    else if ((ev.key === 'ArrowLeft' || ev.key === 'ArrowRight') && selected !== null) {
      const e = model.bySeq.get(selected);
      if (model.hasChildren(selected) && !model.filter) {
        const wantOpen = ev.key === 'ArrowRight';
        if (model.collapsed.has(selected) === wantOpen) { model.toggle(selected, wantOpen); rows(); }
        else if (!wantOpen && e.parent && model.bySeq.has(e.parent)) select(e.parent, { user: true, scroll: true });
      } else if (ev.key === 'ArrowLeft' && e && e.parent && model.bySeq.has(e.parent)) select(e.parent, { user: true, scroll: true });
      ev.preventDefault();
      return;
    } else return;
    ev.preventDefault();
    if (next >= 0 && model.rows[next]) select(model.rows[next].seq, { user: true, scroll: true });
  });

  // Filtering: text (name, kind, #seq), a kind chip, or only events with an issue.
  function applyFilter() {
    const q = filterInput.value.trim().toLowerCase();
    const seqQ = /^#?(\d+)$/.exec(q);
    if (!q && !kindFilter && !issuesOnly) model.setFilter(null);
    else {
      model.setFilter((e) => {
        if (kindFilter && e.kind !== kindFilter) return false;
        if (issuesOnly && !flagsOf(e).some((f) => f[1] !== 'info')) return false;
        if (!q) return true;
        if (seqQ && e.seq === Number(seqQ[1])) return true;
        return (e.name || '').toLowerCase().includes(q) || e.kind.toLowerCase().includes(q) ||
          String(e.attrs?.route || '').toLowerCase().includes(q);
      });
    }
    rows();
    for (const c of chips.children) c.classList.toggle('on', Boolean(c.dataset.kind === kindFilter || (c.dataset.issues && issuesOnly)));
  }
  let filterTimer = null;
  filterInput.addEventListener('input', () => { clearTimeout(filterTimer); filterTimer = setTimeout(applyFilter, 120); });

  function drawChips() {
    chips.replaceChildren();
    const counts = model.countsByKind();
    for (const [kind, n] of Object.entries(counts).sort((a, b) => b[1] - a[1])) {
      chips.append(h('button', { type: 'button', class: `chip k-${kindClass(kind)}`, 'data-kind': kind, title: `only ${kind} events`,
        on: { click: () => { kindFilter = kindFilter === kind ? null : kind; applyFilter(); } } }, h('span', { class: 'dot' }), `${kind} ${n}`));
    }
    const issues = model.events.filter((e) => flagsOf(e).some((f) => f[1] !== 'info')).length;
    if (issues) {
      chips.append(h('button', { type: 'button', class: 'chip issues', 'data-issues': '1', title: 'only events that failed, diverged, broke off or raised',
        on: { click: () => { issuesOnly = !issuesOnly; applyFilter(); } } }, `⚠ ${issues}`));
    }
  }

  function select(seq, { user = false, scroll = false } = {}) {
    selected = seq;
    if (seq !== null && model.indexOf(seq) < 0) model.reveal(seq), rows();
    for (const [, els] of list.rowsInView()) {
      for (const r of els) {
        const on = Number(r.dataset.seq) === seq;
        r.classList.toggle('selected', on);
        if (r.classList.contains('tree-row')) r.setAttribute('aria-selected', String(on));
      }
    }
    const i = model.indexOf(seq);
    if (scroll && i >= 0) list.scrollToIndex(i, { center: !user });
    if (user && onSelect) onSelect(seq);
  }

  drawChips();
  rows();
  requestAnimationFrame(drawAxis);

  return {
    el,
    select,
    focus: () => scroller.focus({ preventScroll: true }),
    // After events were added (live): keeps the zoom unless it showed the whole run.
    update() {
      // Following the end: a pane scrolled to its bottom stays there.
      const atBottom = scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - 4;
      flagsCache.clear();
      if (fitted) view = { v0: 0, v1: model.span, px: view.px };
      model.flatten();
      drawChips();
      applyFilter();
      drawAxis();
      list.refresh();
      if (atBottom && model.rows.length) list.scrollToIndex(model.rows.length - 1);
    },
    destroy() { list.destroy(); axisResize.disconnect(); },
  };
}

// What the row says about how the event ended.
function statusOf(e) {
  const a = e.attrs || {};
  if (e.kind === 'process') return a.signal ? `signal ${a.signal}` : (a.exit_code !== undefined && a.exit_code !== null ? `exit ${a.exit_code}` : '');
  if (e.kind === 'llm' || e.kind === 'http') return a.status !== undefined ? String(a.status) : '';
  return '';
}

// What `retrace show` adds to a model call's line (model, tokens, tool
// calls), when the API sends it with the event as `summary` (the samples
// do not have it yet; see README).
function summaryOf(e) {
  const s = e.summary;
  if (!s || typeof s !== 'object') return null;
  const bits = [s.model, s.fingerprint,
    s.input_tokens !== undefined && s.input_tokens !== null ? `${s.input_tokens}→${s.output_tokens ?? '?'} tok` : null,
    ...(Array.isArray(s.tool_calls) ? s.tool_calls.map((t) => 'ƒ ' + (typeof t === 'string' ? t : t.name)) : [])].filter(Boolean);
  return bits.length ? h('span', { class: 'route' }, bits.join(' · ')) : null;
}
