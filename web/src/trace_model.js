// A run's events as a tree in display order, with each event's place on
// the run's time axis. Pure data (no DOM), so it is tested in Node.
//
// Tree order is `retrace show`'s: each event after its parent, children
// in number order. A parent usually has a lower number than its children
// but not always (an OpenTelemetry span arrives after the requests made
// inside it); an event whose parent is missing, itself, or part of a loop
// is taken as a root, so every event appears once.

import { toBig } from './format.js';

export class TraceModel {
  // run: the run's summary (started_ns / ended_ns, any spelling);
  // events: events[] as the API gives them.
  constructor(run, events) {
    this.run = run;
    this.events = [];
    this.bySeq = new Map();
    this.collapsed = new Set();
    this.filter = null;
    for (const e of events || []) this.add(e, false);
    this.rebuild();
  }

  // Adds an event (live updates); false when its seq is known already.
  add(e, rebuild = true) {
    const seq = Number(e.seq);
    if (!Number.isFinite(seq) || this.bySeq.has(seq)) return false;
    // The API's objects are the page's own: annotated in place, not copied.
    const ev = e;
    ev.seq = seq;
    ev.parent = Number(e.parent) || 0;
    ev.startBig = toBig(e.start_ns);
    ev.endBig = toBig(e.end_ns);
    this.events.push(ev);
    this.bySeq.set(seq, ev);
    if (rebuild) this.rebuild();
    return true;
  }

  rebuild() {
    this.events.sort((a, b) => a.seq - b.seq);
    const children = new Map();
    const roots = [];
    for (const e of this.events) {
      const p = e.parent;
      if (p && p !== e.seq && this.bySeq.has(p)) {
        if (!children.has(p)) children.set(p, []);
        children.get(p).push(e);
      } else roots.push(e);
    }
    this.children = children;
    const order = [];
    const placed = new Set();
    const place = (root, depth0) => {
      const stack = [[root, depth0]];
      while (stack.length) {
        const [e, d] = stack.pop();
        if (placed.has(e.seq)) continue;
        placed.add(e.seq);
        e.depth = d;
        order.push(e);
        const kids = children.get(e.seq);
        if (kids) for (let i = kids.length - 1; i >= 0; i--) stack.push([kids[i], d + 1]);
      }
    };
    for (const r of roots) place(r, 0);
    for (const e of this.events) if (!placed.has(e.seq)) place(e, 0);  // a loop of parents
    this.order = order;
    this.timeBounds();
    this.flatten();
  }

  // The axis: from the run's start (else the first event's) to the latest
  // of the run's end and every event's end. Offsets are plain numbers of ns.
  timeBounds() {
    const run = this.run || {};
    const md = run.metadata && typeof run.metadata === 'object' ? run.metadata : {};
    let t0 = toBig(md.started_ns) ?? toBig(run.started_ns);
    let t1 = toBig(md.ended_ns) ?? toBig(run.ended_ns);
    for (const e of this.events) {
      if (e.startBig !== null && (t0 === null || e.startBig < t0)) t0 = e.startBig;
      const end = e.endBig ?? e.startBig;
      if (end !== null && (t1 === null || end > t1)) t1 = end;
    }
    this.t0 = t0 ?? 0n;
    this.span = t1 !== null && t0 !== null && t1 > t0 ? Number(t1 - t0) : 1;
    for (const e of this.events) {
      e.off0 = e.startBig === null ? 0 : Number(e.startBig - this.t0);
      // An event still open (no end yet) reaches to the axis' end.
      e.off1 = e.endBig === null ? this.span : Number(e.endBig - this.t0);
      e.open = e.endBig === null;
    }
  }

  // The rows shown: tree order minus collapsed subtrees; with a filter,
  // the events matching it and their ancestors (for context).
  flatten() {
    if (this.filter) {
      const keep = new Set();
      for (const e of this.order) {
        if (!this.filter(e)) continue;
        for (let x = e; x && !keep.has(x.seq); x = x.parent && x.parent !== x.seq ? this.bySeq.get(x.parent) : null) keep.add(x.seq);
      }
      this.rows = this.order.filter((e) => keep.has(e.seq));
      this.matches = this.order.filter((e) => this.filter(e)).length;
      return;
    }
    const rows = [];
    let skipBelow = -1;
    for (const e of this.order) {
      if (skipBelow >= 0) {
        if (e.depth > skipBelow) continue;
        skipBelow = -1;
      }
      rows.push(e);
      if (this.collapsed.has(e.seq) && this.children.has(e.seq)) skipBelow = e.depth;
    }
    this.rows = rows;
    this.matches = null;
  }

  setFilter(fn) { this.filter = fn; this.flatten(); }

  hasChildren(seq) { return this.children.has(seq); }

  toggle(seq, open) {
    const now = open ?? this.collapsed.has(seq);
    if (now) this.collapsed.delete(seq); else this.collapsed.add(seq);
    this.flatten();
  }

  setAllCollapsed(collapsed) {
    this.collapsed = collapsed ? new Set(this.children.keys()) : new Set();
    this.flatten();
  }

  // Opens every ancestor of seq so its row shows; its row index, or -1.
  reveal(seq) {
    let e = this.bySeq.get(seq);
    const seen = new Set();
    while (e && e.parent && !seen.has(e.seq)) {
      seen.add(e.seq);
      this.collapsed.delete(e.parent);
      e = this.bySeq.get(e.parent);
    }
    this.flatten();
    return this.rows.findIndex((r) => r.seq === seq);
  }

  indexOf(seq) { return this.rows.findIndex((r) => r.seq === seq); }

  countsByKind() {
    const c = {};
    for (const e of this.events) c[e.kind] = (c[e.kind] || 0) + 1;
    return c;
  }
}

// What went wrong with an event, read from its attributes, for markers.
export function eventFlags(e) {
  const a = e.attrs || {};
  const f = [];
  if (e.kind === 'process') {
    if ((a.exit_code ?? 0) !== 0 || (a.signal ?? 0) !== 0) f.push(['failed', 'error', a.signal ? `signal ${a.signal}` : `exit ${a.exit_code}`]);
  } else if (e.kind === 'llm' || e.kind === 'http') {
    if (a.client_cancelled) f.push(['client left', 'warn', `the client left after ${Math.round((a.client_cancelled.at_us ?? 0) / 1000)} ms`]);
    else if (a.status === 0 || a.status >= 400) f.push(['error', 'error', `status ${a.status ?? 0}`]);
    if (a.truncated) f.push(['truncated', 'warn', 'the stream broke off']);
  } else {
    if (a.error && typeof a.error === 'object') f.push(['raised', 'error', `${a.error.type ?? 'error'}: ${a.error.message ?? ''}`]);
    if (a.unfinished) f.push(['unfinished', 'warn', 'the program exited inside it']);
  }
  if (a.divergence) f.push(['diverged', 'error', a.divergence.reason || 'the recording could not answer']);
  if (a.replayed_from !== undefined && a.replayed_from !== null) f.push([`replayed #${a.replayed_from}`, 'info', 'answered from the recording']);
  if (a.live) f.push(['live', 'info', 'sent to the real service']);
  if (a.observed) f.push(['observed', 'info', 'an OpenTelemetry span the program sent']);
  return f;
}
