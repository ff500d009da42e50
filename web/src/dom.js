// Element builders. Every piece of data reaches the page as a text node or
// an attribute value set through the DOM, never as markup: the run data is
// whatever a program sent to a model, and a message that holds
// `<script>` must show as those characters (the spec's security section).

const SVG_NS = 'http://www.w3.org/2000/svg';

// h('div', {class: 'x', text: 'hi', on: {click}}, child, ...).
// props: class, text, title, href, style (object), dataset-like keys
// ('data-testid': ...), on (event handlers), and any other attribute.
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  apply(el, props);
  append(el, children);
  return el;
}

// The same for SVG, whose elements need their namespace.
export function svg(tag, props, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  apply(el, props);
  append(el, children);
  return el;
}

function apply(el, props) {
  if (!props) return;
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
    else if (key === 'text') el.textContent = String(value);
    else if (key === 'on') for (const [ev, fn] of Object.entries(value)) el.addEventListener(ev, fn);
    else if (key === 'style') {
      for (const [prop, v] of Object.entries(value)) {
        if (prop.startsWith('--')) el.style.setProperty(prop, v);
        else el.style[prop] = v;
      }
    }
    else if (key === 'href') el.setAttribute('href', safeHref(value));
    else if (key === 'value' && 'value' in el) el.value = value;
    else if (key === 'checked' || key === 'disabled' || key === 'open' || key === 'selected') el[key] = Boolean(value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
}

// Appends children: strings and numbers as text nodes, nested arrays
// flattened, null/false/undefined skipped (so callers can write cond && x).
export function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false || child === true) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
  return el;
}

// Links the page makes: its own paths, or http(s) links found in data.
// Anything else (javascript:, data:, vbscript:) becomes an inert '#'.
export function safeHref(href) {
  const s = String(href);
  if (s.startsWith('/') && !s.startsWith('//')) return s;
  if (s.startsWith('?') || s.startsWith('#')) return s;
  if (/^https?:\/\//i.test(s)) return s;
  return '#';
}

// An outside link: a new tab that cannot reach back into this page.
export function externalLink(url, label) {
  return h('a', { href: url, rel: 'noreferrer noopener', target: '_blank', class: 'ext' }, label ?? url);
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

// A small button that copies text; says so for a moment. The page runs on
// 127.0.0.1, a secure context, so navigator.clipboard is there; the
// fallback covers a server reached by another name over plain http.
export function copyButton(text, label = 'copy') {
  const btn = h('button', { type: 'button', class: 'copy', title: 'Copy ' + (text.length > 80 ? text.slice(0, 80) + '…' : text) }, label);
  btn.addEventListener('click', async (ev) => {
    ev.preventDefault();
    ev.stopPropagation();
    const ok = await copyText(text);
    btn.textContent = ok ? 'copied' : 'failed';
    btn.classList.toggle('done', ok);
    setTimeout(() => { btn.textContent = label; btn.classList.remove('done'); }, 1200);
  });
  return btn;
}

export async function copyText(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch { /* fall through to the old way */ }
  const area = h('textarea', { style: { position: 'fixed', left: '-9999px' } });
  area.value = text;
  document.body.appendChild(area);
  area.select();
  let ok = false;
  try { ok = document.execCommand('copy'); } catch { ok = false; }
  area.remove();
  return ok;
}

// A collapsible block: <details> with a summary line. Built lazily when
// `build` is given, so a closed section over a large body costs nothing.
export function section(title, { open = false, build, testid, cls, extra } = {}, ...children) {
  const summary = h('summary', null, h('span', { class: 'sec-title' }, title), extra);
  const body = h('div', { class: 'sec-body' }, children);
  const el = h('details', { class: ['sec', cls], 'data-testid': testid }, summary, body);
  let built = false;
  const fill = () => {
    if (built || !build) return;
    built = true;
    append(body, [build()]);
  };
  if (open) { el.open = true; fill(); }
  el.addEventListener('toggle', () => { if (el.open) fill(); });
  return el;
}

// A key/value grid (dl) from [label, value] pairs; value may be a node.
export function kvGrid(pairs, cls) {
  const dl = h('dl', { class: ['kv', cls] });
  for (const pair of pairs) {
    if (!pair) continue;
    const [k, v] = pair;
    dl.append(h('dt', null, k), h('dd', null, v ?? '—'));
  }
  return dl;
}

export function badge(text, cls, title) {
  return h('span', { class: ['badge', cls], title }, text);
}

// A message where the page would be: loading, empty, or an error.
export function notice(text, cls = '') {
  return h('div', { class: ['notice', cls] }, text);
}

// Text in which retrace put "[REDACTED]" for a secret: each such mark
// shown as a styled token, the rest as plain text.
export function redactedText(text) {
  const parts = String(text).split('[REDACTED]');
  const out = [];
  parts.forEach((p, i) => {
    if (i) out.push(h('span', { class: 'redacted', title: 'a secret: redacted before it was stored' }, '[REDACTED]'));
    if (p) out.push(p);
  });
  return out;
}
