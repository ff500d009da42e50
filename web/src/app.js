// The entry: the page's shell, and a router over history.pushState. Links
// are real <a href>s (open in a new tab works); a plain click on one of
// ours is taken over here and rendered without a reload.
//
// A page module's mount(root, route, app) draws into root and returns
// {update?(route) -> bool, destroy?()}. update lets a page take a change
// of query (the run page's ?event=N, the runs list's filters) without
// being drawn again; it answers false when it cannot.

import { h, clear } from './dom.js';
import { rememberToken } from './api.js';
import * as runs from './runs.js';
import * as run from './run.js';
import * as diff from './diff.js';
import * as probe from './probe.js';

// The access token arrives once, as /?token=T. It leaves the address bar
// (and so the history, bookmarks and screenshots) at once, and is kept in
// this origin's storage (this server's host and port alone), from where
// every API request presents it (api.js). The server's cookie opens the
// page on a reload, never the data: a browser sends a host's cookies to
// its every port.
(function takeToken() {
  const url = new URL(location.href);
  if (!url.searchParams.has('token')) return;
  rememberToken(url.searchParams.get('token'));
  url.searchParams.delete('token');
  history.replaceState(history.state, '', url.pathname + url.search + url.hash);
})();

const ROUTES = [
  { name: 'runs', re: /^\/(runs\/?)?$/, mount: runs.mount, nav: 'runs' },
  { name: 'run', re: /^\/runs\/([^/]+)\/?$/, keys: ['id'], mount: run.mount, nav: 'runs' },
  { name: 'diff', re: /^\/diff\/([^/]+)\/([^/]+)\/?$/, keys: ['a', 'b'], mount: diff.mount, nav: 'runs' },
  { name: 'probes', re: /^\/probes\/?$/, mount: probe.mountList, nav: 'probes' },
  { name: 'probe', re: /^\/probes\/([^/]+)\/?$/, keys: ['id'], mount: probe.mountProbe, nav: 'probes' },
];

function match(url) {
  for (const r of ROUTES) {
    const m = r.re.exec(url.pathname);
    if (!m) continue;
    const params = {};
    (r.keys || []).forEach((k, i) => {
      try { params[k] = decodeURIComponent(m[i + 1]); } catch { params[k] = m[i + 1]; }
    });
    return { def: r, params, query: url.searchParams, url };
  }
  return null;
}

// The shell: a header with the places and the live status, and the page.
const liveStatus = h('span', { class: 'live', 'data-testid': 'live-status', 'data-state': 'off', title: 'live updates' }, h('span', { class: 'live-dot' }), h('span', { class: 'live-text' }, 'not live'));
const navLinks = {
  runs: h('a', { href: '/', class: 'nav' }, 'Runs'),
  probes: h('a', { href: '/probes', class: 'nav' }, 'Probes'),
};
const main = h('main', { id: 'page' });
document.body.replaceChildren(
  h('header', { class: 'top' },
    h('a', { href: '/', class: 'brand' }, h('span', { class: 'logo' }, '⟲'), 'retrace'),
    h('nav', null, navLinks.runs, navLinks.probes),
    h('span', { class: 'spacer' }),
    liveStatus),
  main);

const LIVE_TEXT = { off: 'not live', connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…', offline: 'offline, retrying', error: 'live: server error' };

const app = {
  setLive(state) {
    liveStatus.dataset.state = state;
    liveStatus.querySelector('.live-text').textContent = LIVE_TEXT[state] || state;
  },
  setTitle(text) {
    document.title = text ? `${text} — retrace` : 'retrace';
  },
  // silent: the page already shows what the URL will say (a filter typed,
  // an event clicked); only the address changes.
  navigate(href, { replace = false, silent = false } = {}) {
    const url = new URL(href, location.href);
    if (url.origin !== location.origin) { location.href = url.href; return; }
    if (url.href === location.href && !silent) { render(); return; }
    history[replace ? 'replaceState' : 'pushState'](null, '', url.pathname + url.search + url.hash);
    if (!silent) render();
  },
};

let current = null;  // {def, params, page}

function render() {
  const url = new URL(location.href);
  const route = match(url);
  for (const [k, a] of Object.entries(navLinks)) a.classList.toggle('active', Boolean(route && route.def.nav === k));
  if (current && route && current.def === route.def && sameParams(current.params, route.params) && current.page && current.page.update) {
    if (current.page.update(route)) return;
  }
  if (current && current.page && current.page.destroy) current.page.destroy();
  current = null;
  clear(main);
  window.scrollTo(0, 0);
  app.setLive('off');
  if (!route) {
    app.setTitle('not found');
    main.append(h('div', { class: 'notice error' }, `Nothing here: ${url.pathname}. `, h('a', { href: '/' }, 'Back to the runs')));
    return;
  }
  const root = h('div', { class: `page page-${route.def.name}` });
  main.append(root);
  let page = null;
  try {
    page = route.def.mount(root, route, app) || null;
  } catch (err) {
    root.append(h('div', { class: 'notice error' }, 'This page failed to draw: ' + err.message));
    console.error(err);
  }
  current = { def: route.def, params: route.params, page };
}

function sameParams(a, b) {
  const ka = Object.keys(a), kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => a[k] === b[k]);
}

// Our links: a plain left click stays in the page; with a modifier, a
// middle click or target=_blank, the browser does what it always does.
document.addEventListener('click', (ev) => {
  if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  const a = ev.target.closest && ev.target.closest('a[href]');
  if (!a || (a.target && a.target !== '_self') || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/api/') || url.pathname.startsWith('/assets/')) return;
  if (a.getAttribute('href') === '#') { ev.preventDefault(); return; }
  ev.preventDefault();
  app.navigate(url.href);
});

window.addEventListener('popstate', render);
render();
