// The runs list (/): newest first, filtered and searched on the server,
// a page at a time (a store may hold 100,000 runs: never all of them),
// two runs selectable for a diff, new runs added at the top as they come.
// The filters live in the URL's query, so a filtered list is a link.

import { h, clear, notice, badge } from './dom.js';
import { getJSON, apiPath, openLive, enc } from './api.js';
import { fmtTime, fmtTimeExact, fmtDuration, fmtAgo, shortDigest, fmtInt, parseSince, toBig } from './format.js';

const PAGE = 100;
const FILTERS = ['name', 'state', 'since', 'kind', 'q'];

export function mount(root, route, app) {
  const state = { rows: [], byId: new Map(), loading: false, done: false, gen: 0, destroyed: false };
  const selected = [];  // run ids, in the order they were ticked
  app.setTitle('Runs');

  const f = Object.fromEntries(FILTERS.map((k) => [k, route.query.get(k) || '']));
  const nameIn = h('input', { type: 'text', 'data-testid': 'filter-name', placeholder: 'exact name', value: f.name, 'aria-label': 'name' });
  const stateIn = h('select', { 'data-testid': 'filter-state', 'aria-label': 'state' },
    option('', 'any state', f.state), option('sealed', 'sealed', f.state), option('incomplete', 'incomplete', f.state));
  const sinceIn = h('input', { type: 'text', 'data-testid': 'filter-since', placeholder: '2h, 7d, 2026-11-22', value: f.since, list: 'since-choices', 'aria-label': 'since', size: '17' });
  const sinceList = h('datalist', { id: 'since-choices' }, ['1h', '24h', '7d', '30d'].map((v) => h('option', { value: v })));
  const kindIn = h('select', { 'data-testid': 'filter-kind', 'aria-label': 'kind' },
    option('', 'all kinds', f.kind), option('record', 'records', f.kind), option('replay', 'replays', f.kind), option('probe', 'probes', f.kind));
  const searchIn = h('input', { type: 'search', 'data-testid': 'search', placeholder: 'Search id or name…', value: f.q, 'aria-label': 'search' });
  const compareBtn = h('button', { type: 'button', class: 'btn primary', 'data-testid': 'compare', disabled: true, title: 'tick two runs to compare them' }, 'Compare');
  const selInfo = h('span', { class: 'muted small' });
  const sinceErr = h('span', { class: 'field-error' });
  const countInfo = h('span', { class: 'muted small' });

  const tbody = h('tbody');
  const table = h('table', { class: 'runs', 'data-testid': 'runs-table' },
    h('thead', null, h('tr', null,
      h('th', { class: 'sel' }, ''), h('th', null, 'Name'), h('th', null, 'Run'), h('th', null, 'State'),
      h('th', null, 'Started'), h('th', { class: 'num' }, 'Duration'), h('th', { class: 'num' }, 'Exit'),
      h('th', null, 'Conditions'), h('th', null, 'Model · fingerprint'), h('th', { class: 'num' }, 'Tokens'))),
    tbody);
  const loadMore = h('button', { type: 'button', class: 'btn', 'data-testid': 'load-more' }, 'Load more');
  const footer = h('div', { class: 'list-foot' }, loadMore, countInfo);
  const emptyNote = h('div', { class: 'notice', hidden: true });
  const errorNote = h('div', { class: 'notice error', hidden: true });

  clear(root).append(
    h('div', { class: 'page-head' }, h('h1', null, 'Runs'), h('span', { class: 'spacer' }), selInfo, compareBtn),
    h('div', { class: 'filters' },
      label('Name', nameIn), label('State', stateIn), label('Since', sinceIn, sinceErr), sinceList, label('Kind', kindIn),
      h('span', { class: 'spacer' }), searchIn),
    errorNote, h('div', { class: 'table-wrap' }, table), emptyNote, footer);

  function option(value, text, current) {
    return h('option', { value, selected: value === current }, text);
  }
  function label(text, input, extra) {
    return h('label', { class: 'field' }, h('span', null, text), input, extra);
  }

  function filters() {
    return { name: nameIn.value.trim(), state: stateIn.value, since: sinceIn.value.trim(), kind: kindIn.value, q: searchIn.value.trim() };
  }

  // A filter changed: the URL says so (replaced, not pushed: typing is
  // not navigation), and the list starts again from the newest.
  let timer = null;
  const changed = (delay) => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const fl = filters();
      sinceErr.textContent = fl.since && parseSince(fl.since) === null ? 'want 2h, 7d or 2026-11-22' : '';
      const qs = new URLSearchParams();
      for (const k of FILTERS) if (fl[k]) qs.set(k, fl[k]);
      app.navigate('/' + (qs.toString() ? '?' + qs : ''), { replace: true, silent: true });
      reset();
    }, delay);
  };
  nameIn.addEventListener('input', () => changed(300));
  searchIn.addEventListener('input', () => changed(250));
  sinceIn.addEventListener('input', () => changed(400));
  stateIn.addEventListener('change', () => changed(0));
  kindIn.addEventListener('change', () => changed(0));

  function reset() {
    state.gen++;
    state.rows = [];
    state.byId.clear();
    state.done = false;
    state.loading = false;
    clear(tbody);
    load();
  }

  async function load() {
    if (state.loading || state.done) return;
    state.loading = true;
    const gen = state.gen;
    loadMore.disabled = true;
    loadMore.textContent = 'Loading…';
    const fl = filters();
    const last = state.rows[state.rows.length - 1];
    let page;
    try {
      page = await getJSON(apiPath('/runs', { ...fl, limit: PAGE, before: last ? last.id : '' }));
      errorNote.hidden = true;
    } catch (err) {
      if (gen !== state.gen || state.destroyed) return;
      state.loading = false;
      errorNote.hidden = false;
      errorNote.textContent = err.status === 400 ? `The server refused this filter: ${err.message}` : `Could not load runs: ${err.message}`;
      loadMore.disabled = false;
      loadMore.textContent = 'Try again';
      return;
    }
    if (gen !== state.gen || state.destroyed) return;
    state.loading = false;
    const fresh = (Array.isArray(page) ? page : []).filter((r) => r && r.id && !state.byId.has(r.id));
    for (const r of fresh) {
      state.rows.push(r);
      const tr = row(r);
      state.byId.set(r.id, { run: r, tr });
      tbody.append(tr);
    }
    state.done = !Array.isArray(page) || page.length < PAGE;
    footerState();
    if (fresh.length && fresh.some((r) => r.tokens === undefined)) fillTokens(fl, last ? last.id : '', gen);
  }

  // Tokens cost the server a read of every answer of every run, so the
  // page is listed without them first and the same page asked again with
  // tokens=1; the cells fill in when that answer comes.
  async function fillTokens(fl, before, gen) {
    let page;
    try {
      page = await getJSON(apiPath('/runs', { ...fl, limit: PAGE, before, tokens: 1 }));
    } catch { return; }
    if (gen !== state.gen || state.destroyed || !Array.isArray(page)) return;
    for (const r of page) {
      const entry = r && state.byId.get(r.id);
      if (!entry || r.tokens === undefined) continue;
      entry.run.tokens = r.tokens;
      const cell = entry.tr.querySelector('td.tokens');
      if (cell) cell.replaceChildren(tokensCell(r.tokens));
    }
  }

  function footerState() {
    const n = state.rows.length;
    loadMore.hidden = state.done;
    loadMore.disabled = state.loading;
    loadMore.textContent = 'Load more';
    countInfo.textContent = n ? `${fmtInt(n)} run${n === 1 ? '' : 's'}${state.done ? '' : ' so far'}` : '';
    const fl = filters();
    const filtered = FILTERS.some((k) => fl[k]);
    emptyNote.hidden = n > 0 || state.loading;
    emptyNote.textContent = filtered ? 'No run matches these filters.' : 'No runs yet. Record one: retrace record --name NAME -- COMMAND';
  }

  loadMore.addEventListener('click', () => load());
  // Infinite scroll: the button coming into view loads the next page.
  const io = new IntersectionObserver((entries) => {
    if (entries.some((en) => en.isIntersecting) && !state.done && !state.loading && state.rows.length) load();
  }, { rootMargin: '400px' });
  io.observe(loadMore);

  function row(r) {
    const box = h('input', { type: 'checkbox', 'aria-label': 'select ' + r.id, checked: selected.includes(r.id) });
    box.addEventListener('change', () => tick(r.id, box.checked));
    const href = `/runs/${enc(r.id)}`;
    const exit = r.exit_code;
    const tr = h('tr', { class: ['run-row', selected.includes(r.id) && 'picked'], 'data-testid': 'run-row', 'data-run-id': r.id },
      h('td', { class: 'sel' }, box),
      h('td', { class: 'name' }, h('a', { href }, r.name || h('span', { class: 'muted' }, '(unnamed)')),
        kindBadge(r)),
      h('td', { class: 'mono id' }, h('a', { href, class: 'quiet', title: r.id }, r.id)),
      h('td', null, badge(r.state || '?', r.state === 'sealed' ? 'ok' : 'warn')),
      h('td', { title: fmtTimeExact(r.started_ns) }, fmtTime(r.started_ns), h('span', { class: 'muted small ago' }, ' ' + fmtAgo(r.started_ns))),
      h('td', { class: 'num mono' }, r.duration_ns === null || r.duration_ns === undefined ? '—' : fmtDuration(r.duration_ns)),
      h('td', { class: ['num', 'mono', exit !== null && exit !== undefined && exit !== 0 && 'bad'] }, exit === null || exit === undefined ? '—' : String(exit)),
      h('td', { class: 'mono' }, digestChip(r.conditions_digest)),
      h('td', { class: 'models', title: modelsTitle(r) }, modelsCell(r)),
      h('td', { class: 'num mono tokens' }, r.tokens === undefined ? h('span', { class: 'muted' }, '…') : tokensCell(r.tokens)));
    // The whole row opens the run, except where it has a control of its own.
    tr.addEventListener('click', (ev) => {
      if (ev.target.closest('a, input, button, label')) return;
      if (window.getSelection && String(window.getSelection())) return;  // selecting text
      if (ev.ctrlKey || ev.metaKey) window.open(href, '_blank');
      else app.navigate(href);
    });
    return tr;
  }

  function kindBadge(r) {
    const kind = r.kind || (r.replay_of ? 'replay' : null);
    if (!kind || kind === 'record') return null;
    return badge(kind, 'kind', kind === 'replay' && r.replay_of ? 'replay of ' + r.replay_of : null);
  }

  function tick(id, on) {
    const i = selected.indexOf(id);
    if (on && i < 0) selected.push(id);
    if (!on && i >= 0) selected.splice(i, 1);
    // More than two: the oldest tick goes.
    while (selected.length > 2) {
      const drop = selected.shift();
      const entry = state.byId.get(drop);
      if (entry) { entry.tr.querySelector('input[type=checkbox]').checked = false; entry.tr.classList.remove('picked'); }
    }
    const entry = state.byId.get(id);
    if (entry) entry.tr.classList.toggle('picked', on);
    compareBtn.disabled = selected.length !== 2;
    selInfo.textContent = selected.length === 1 ? 'tick one more run to compare' : selected.length === 2 ? '2 runs ticked' : '';
  }

  // A is the older run, B the newer: the diff reads "what changed since".
  compareBtn.addEventListener('click', () => {
    if (selected.length !== 2) return;
    const [x, y] = selected.map((sid) => state.byId.get(sid)?.run || { id: sid });
    const tx = toBig(x.started_ns), ty = toBig(y.started_ns);
    const [a, b] = tx !== null && ty !== null && tx > ty ? [y, x] : [x, y];
    app.navigate(`/diff/${enc(a.id)}/${enc(b.id)}`);
  });

  // Live: a new run goes on top when it passes the filters; a known one
  // (sealed since) is redrawn in place.
  function onRun(r) {
    if (!r || !r.id) return;
    const known = state.byId.get(r.id);
    if (known) {
      Object.assign(known.run, r);
      const tr = row(known.run);
      known.tr.replaceWith(tr);
      known.tr = tr;
      return;
    }
    if (!matches(r)) return;
    const tr = row(r);
    tr.classList.add('fresh');
    state.rows.unshift(r);
    state.byId.set(r.id, { run: r, tr });
    tbody.prepend(tr);
    footerState();
  }

  function matches(r) {
    const fl = filters();
    if (fl.name && r.name !== fl.name) return false;
    if (fl.state && r.state !== fl.state) return false;
    if (fl.kind && (r.kind || (r.replay_of ? 'replay' : 'record')) !== fl.kind) return false;
    // (as the server searches: the text in the id or the name, case and all)
    if (fl.q && !r.id.includes(fl.q) && !(r.name || '').includes(fl.q)) return false;
    if (fl.since) {
      const ms = parseSince(fl.since);
      const at = toBig(r.started_ns);
      if (ms !== null && at !== null && Number(at / 1000000n) < ms) return false;
    }
    return true;
  }

  // The feed tells of what changed after it opened: on each (re)opening,
  // what changed before it (while the list was being fetched, or the
  // stream was down) is asked for with the newest page.
  async function catchUp() {
    if (!state.rows.length && !state.done) return;  // (the first page is still to come)
    let page;
    try { page = await getJSON(apiPath('/runs', { ...filters(), limit: PAGE })); } catch { return; }
    if (state.destroyed) return;
    for (const r of page.slice().reverse()) onRun(r);  // (oldest first: each new one goes on top)
  }
  const closeLive = openLive('/api/v1/live', { run: onRun }, (s) => {
    app.setLive(s);
    if (s === 'live') catchUp();
  });
  load();

  return {
    update(next) {
      // Back/forward to other filters: set the fields and list again.
      let differs = false;
      const map = { name: nameIn, state: stateIn, since: sinceIn, kind: kindIn, q: searchIn };
      for (const k of FILTERS) {
        const v = next.query.get(k) || '';
        if (map[k].value !== v) { map[k].value = v; differs = true; }
      }
      if (differs) reset();
      return true;
    },
    destroy() {
      state.destroyed = true;
      clearTimeout(timer);
      io.disconnect();
      closeLive();
    },
  };
}

// The conditions digest, short; its colour from the digest itself, so runs
// under the same conditions look alike down the list.
function digestChip(d) {
  if (!d) return h('span', { class: 'muted' }, '—');
  const hex = shortDigest(d);
  const hue = parseInt(hex.slice(0, 4), 16) % 360;
  return h('span', { class: 'dchip', title: d, style: { '--hue': String(hue) } }, hex);
}

function modelsCell(r) {
  const models = Array.isArray(r.models) ? r.models : [];
  const fps = Array.isArray(r.fingerprints) ? r.fingerprints : [];
  if (!models.length && !fps.length) return h('span', { class: 'muted' }, r.models === undefined ? '' : '—');
  return h('span', null, models.join(', '), fps.length ? h('span', { class: 'muted mono small' }, ' · ' + fps.join(', ')) : null);
}

function modelsTitle(r) {
  const models = Array.isArray(r.models) ? r.models : [];
  const fps = Array.isArray(r.fingerprints) ? r.fingerprints : [];
  return [models.join(', '), fps.join(', ')].filter(Boolean).join(' · ') || null;
}

function tokensCell(t) {
  if (!t || typeof t !== 'object') return h('span', { class: 'muted' }, '—');
  return h('span', { title: `${t.input} input, ${t.output} output tokens` }, `${fmtInt(t.input)} → ${fmtInt(t.output)}`);
}
