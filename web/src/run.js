// A run's page (/runs/ID, ?event=N): its identity, conditions by section,
// the trajectory as a tree and a waterfall, and one event in full. While
// the run is incomplete, /api/v1/live?run=ID appends events as they come.

import { h, clear, copyButton, kvGrid, badge, notice, section } from './dom.js';
import { getJSON, openLive, enc } from './api.js';
import { fmtTime, fmtTimeExact, fmtDuration, shortDigest } from './format.js';
import { TraceModel } from './trace_model.js';
import { createTraceView } from './trace_view.js';
import { renderEventDetail } from './event_detail.js';
import { renderConditions } from './conditions.js';
import { jsonView } from './json_view.js';

export function mount(root, route, app) {
  const id = route.params.id;
  const page = { destroyed: false, closeLive: null, trace: null };
  const cache = new Map();  // seq -> Promise of the event in full
  let run = null;
  let model = null;
  let selected = null;
  const detailPane = h('div', { class: 'detail-pane' });
  let traceLayout = null;
  const eventCount = h('span', { class: 'muted small' });
  clear(root).append(notice('Loading run ' + id + '…', 'loading'));
  app.setTitle(id);

  const eventLink = (seq) => `/runs/${enc(id)}?event=${seq}`;

  async function load() {
    try {
      run = await getJSON(`/api/v1/runs/${enc(id)}`);
    } catch (err) {
      if (page.destroyed) return;
      clear(root).append(notice(err.status === 404 ? `No run ${id} in this store.` : `Could not load run ${id}: ${err.message}`, 'error'));
      app.setLive('off');
      return;
    }
    if (page.destroyed) return;
    render();
    const seq = Number(route.query.get('event'));
    if (route.query.has('event') && Number.isFinite(seq)) {
      select(seq, { scroll: true });
      // A link to an event is about that event: bring the trajectory up.
      traceLayout.scrollIntoView({ block: 'start' });
    } else showNothing();
    if (run.state === 'incomplete') goLive();
    else app.setLive('off');
  }

  function countText() {
    const n = model.events.length;
    eventCount.textContent = `${n} event${n === 1 ? '' : 's'} · click one, or use ↑ ↓ ← → in the tree`;
  }

  function render() {
    app.setTitle(`${run.name || run.id} · run`);
    model = new TraceModel(run, run.events || []);
    if (page.trace) page.trace.destroy();
    page.trace = createTraceView({ model, onSelect: (seq) => select(seq, { user: true }) });
    traceLayout = h('div', { class: 'trace-layout' }, page.trace.el, detailPane);
    countText();
    clear(root).append(
      headline(),
      h('div', { class: 'cards' }, identityCard(), outcomeCard()),
      section(h('span', null, 'Conditions ', h('span', { class: 'muted small' }, 'by section, with each section\'s digest')), { open: true, cls: 'sec-top' }, renderConditions(run)),
      h('div', { class: 'block-title' }, h('h2', null, 'Trajectory'), eventCount),
      traceLayout);
  }

  function headline() {
    const exit = run.exit_code;
    return h('div', { class: 'page-head' },
      h('h1', null, run.name || h('span', { class: 'muted' }, '(unnamed run)')),
      badge(run.state || '?', run.state === 'sealed' ? 'ok' : 'warn', run.state === 'incomplete' ? 'not sealed: still running, or it stopped before it was sealed' : 'sealed: its record digest is final'),
      exit !== null && exit !== undefined ? badge(`exit ${exit}`, exit === 0 ? 'ok' : 'bad') : null,
      run.kind && badge(run.kind, 'kind'),
      h('span', { class: 'muted', title: fmtTimeExact(run.started_ns) }, fmtTime(run.started_ns)),
      h('span', { class: 'muted' }, run.duration_ns !== null && run.duration_ns !== undefined ? 'took ' + fmtDuration(run.duration_ns) : 'no end yet'),
      run.tokens && typeof run.tokens === 'object' && h('span', { class: 'muted' }, `${run.tokens.input} → ${run.tokens.output} tokens`),
      Array.isArray(run.models) && run.models.length ? h('span', { class: 'muted' }, run.models.join(', ')) : null,
      run.replay_of && h('span', null, 'replay of ', h('a', { class: 'mono', href: `/runs/${enc(run.replay_of)}` }, run.replay_of), ' · ', h('a', { href: `/diff/${enc(run.replay_of)}/${enc(run.id)}` }, 'compare with it')));
  }

  function digestValue(d) {
    if (!d) return h('span', { class: 'muted' }, '—');
    return h('span', { class: 'digest' }, h('code', { title: d }, d), copyButton(d));
  }

  function identityCard() {
    const idn = run.identity || {};
    return h('div', { class: 'card', 'data-testid': 'run-identity' },
      h('div', { class: 'card-title' }, 'Identity'),
      kvGrid([
        ['run', h('span', { class: 'digest' }, h('code', null, run.id), copyButton(run.id))],
        ['record', digestValue(run.record_digest)],
        ['conditions', digestValue(run.conditions_digest || idn.conditions)],
        idn.declared ? ['declared', digestValue(idn.declared)] : null,
        idn.observed ? ['observed', digestValue(idn.observed)] : null,
        ['replay of', run.replay_of ? h('a', { class: 'mono', href: `/runs/${enc(run.replay_of)}` }, run.replay_of) : h('span', { class: 'muted' }, '— (an original recording)')],
        run.chain_head ? ['chain head', digestValue(run.chain_head)] : null,
      ], 'kv-digests'));
  }

  function outcomeCard() {
    const o = run.outcome && typeof run.outcome === 'object' ? run.outcome : null;
    const md = run.metadata && typeof run.metadata === 'object' ? run.metadata : {};
    const outputs = o && o.outputs && typeof o.outputs === 'object' ? Object.entries(o.outputs) : [];
    return h('div', { class: 'card' },
      h('div', { class: 'card-title' }, 'Outcome'),
      kvGrid([
        ['exit', o ? `${o.exit_code ?? '—'}${o.signal ? `, signal ${o.signal}` : ''}` : (run.state === 'incomplete' ? 'none yet (incomplete)' : '—')],
        ['started', h('span', { title: fmtTimeExact(run.started_ns) }, fmtTime(run.started_ns))],
        ['ended', run.ended_ns !== null && run.ended_ns !== undefined ? h('span', { title: fmtTimeExact(run.ended_ns) }, fmtTime(run.ended_ns)) : '—'],
        o && o.stdout ? ['stdout', h('code', { title: o.stdout }, shortDigest(o.stdout))] : null,
        outputs.length ? ['outputs', h('div', null, outputs.map(([path, d]) => h('div', null, h('code', null, path), ' ', h('code', { class: 'muted', title: typeof d === 'string' ? d : '' }, typeof d === 'string' ? shortDigest(d) : JSON.stringify(d)))))] : null,
        md.host ? ['host', `${md.host}${md.pid ? ` (pid ${md.pid})` : ''}`] : null,
        md.retrace_version ? ['retrace', md.retrace_version] : null,
      ]),
      section('metadata', { build: () => jsonView(run.metadata ?? null, { open: 1 }) }));
  }

  function showNothing() {
    const counts = model.countsByKind();
    clear(detailPane).append(h('div', { class: 'detail-empty' },
      h('div', { class: 'muted' }, model.events.length ? 'Select an event in the tree or on the timeline.' : 'This run has no events.'),
      model.events.length ? h('div', { class: 'facts' }, Object.entries(counts).map(([k, n]) => h('span', { class: 'fact' }, h('span', { class: 'fact-k' }, k), h('span', { class: 'fact-v' }, String(n))))) : null));
  }

  function fetchEvent(seq) {
    if (!cache.has(seq)) {
      const p = getJSON(`/api/v1/runs/${enc(id)}/events/${seq}`);
      p.catch(() => cache.delete(seq));  // a failed load is tried again next time
      cache.set(seq, p);
    }
    return cache.get(seq);
  }

  async function select(seq, { user = false, scroll = false } = {}) {
    selected = seq;
    if (user) app.navigate(eventLink(seq), { replace: true, silent: true });
    page.trace.select(seq, { scroll: scroll || !user });
    const summary = model.bySeq.get(seq);
    const ctx = {
      t0: model.t0, eventLink,
      replayLink: run.replay_of ? (s) => `/runs/${enc(run.replay_of)}?event=${s}` : null,
    };
    if (!summary) {
      clear(detailPane).append(notice(`This run has no event #${seq}.`, 'error'));
      return;
    }
    clear(detailPane).append(renderEventDetail(null, summary, ctx), notice('Loading event…', 'loading'));
    let detail;
    try {
      detail = await fetchEvent(seq);
    } catch (err) {
      if (selected !== seq || page.destroyed) return;
      clear(detailPane).append(renderEventDetail(null, summary, ctx), notice(`Could not load event #${seq}: ${err.message}`, 'error'));
      return;
    }
    if (selected !== seq || page.destroyed) return;
    const scrollTop = detailPane.scrollTop;
    clear(detailPane).append(renderEventDetail(detail, summary, ctx));
    detailPane.scrollTop = user ? 0 : scrollTop;
  }

  // Live: the stream sends the run's events (from its first, as the
  // server does, or from when it opened, as the spec allows: either way
  // the seqs we have are skipped), batched per frame; `run` says when the
  // run changes and `end` when it is sealed and the stream is done.
  function goLive() {
    let pending = false;
    const flush = () => {
      pending = false;
      if (page.destroyed) return;
      model.rebuild();
      page.trace.update();
      countText();
      if (selected === null) showNothing();
    };
    const addEvent = (e) => {
      if (!e || (e.run_id && e.run_id !== id) || (e.run && e.run !== id)) return;
      if (model.add(e, false) && !pending) { pending = true; requestAnimationFrame(flush); }
    };
    page.closeLive = openLive(`/api/v1/live?run=${enc(id)}`, {
      event: addEvent,
      run: (r) => {
        if (!r || r.id !== id) return;
        const wasIncomplete = run.state === 'incomplete';
        Object.assign(run, r);
        if (wasIncomplete && r.state === 'sealed') sealed();
      },
      end: (x) => { if (!x || !x.run || x.run === id) sealed(); },
    }, (state) => app.setLive(state));
  }

  // Sealed while we watched: the final record (outcome, digests) once.
  async function sealed() {
    if (!page.closeLive) return;  // (both `run` and `end` say so: once is enough)
    page.closeLive();
    page.closeLive = null;
    try {
      run = await getJSON(`/api/v1/runs/${enc(id)}`);
    } catch { return; }
    if (page.destroyed) return;
    const keep = selected;
    render();
    if (keep !== null) select(keep, { scroll: true }); else showNothing();
  }

  load();

  return {
    // ?event=N changed (back/forward, a link): same page, another event.
    update(next) {
      if (next.params.id !== id) return false;
      const seq = Number(next.query.get('event'));
      if (!model) return true;
      if (next.query.has('event') && Number.isFinite(seq)) { if (seq !== selected) select(seq, { scroll: true }); }
      else { selected = null; page.trace.select(null); showNothing(); }
      return true;
    },
    destroy() {
      page.destroyed = true;
      if (page.closeLive) page.closeLive();
      if (page.trace) page.trace.destroy();
    },
  };
}
