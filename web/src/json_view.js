// A collapsible JSON tree built from DOM nodes. Children are built only
// when their node is first opened, so a 5 MB body costs what is shown.
// Paths use the JSONPath spelling of retrace's diffs ($.a.b[0]["x-y"]), so
// a diff's paths can be highlighted in the tree they point into.

import { h, copyButton, redactedText } from './dom.js';
import { stringifyJSON } from './api.js';

const LONG_STRING = 400;   // characters shown before "more"
const CHUNK = 200;         // array items / object keys built at a time

function isIdentifier(k) { return /^[A-Za-z_][A-Za-z0-9_]*$/.test(k); }

export function childPath(parent, key, inArray) {
  if (inArray) return `${parent}[${key}]`;
  return isIdentifier(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

// opts: open (levels open at first, default 1), path (root's path, '$'),
// highlight (iterable of paths to mark; their ancestors open), toolbar.
export function jsonView(value, opts = {}) {
  const highlight = new Set(opts.highlight || []);
  const onPath = new Set();  // ancestors of highlighted paths: opened
  for (const p of highlight) for (const a of ancestors(p)) onPath.add(a);
  const ctx = { highlight, onPath, open: opts.open ?? 1 };
  const root = h('div', { class: 'json' });
  root.append(node(value, opts.path || '$', 0, ctx, null));
  if (opts.toolbar === false) return root;
  const bar = h('div', { class: 'json-bar' },
    copyButton(stringifyJSON(value), 'copy JSON'),
    h('button', { type: 'button', class: 'copy', on: { click: () => setAll(root, true) } }, 'expand all'),
    h('button', { type: 'button', class: 'copy', on: { click: () => setAll(root, false) } }, 'collapse'));
  return h('div', { class: 'json-wrap' }, bar, root);
}

// Every ancestor path of a path: $.a.b[0] -> $, $.a, $.a.b.
function ancestors(path) {
  const out = [];
  const re = /\.[A-Za-z_][A-Za-z0-9_]*|\[(?:\d+|"(?:[^"\\]|\\.)*")\]/g;
  let m, at = path.startsWith('$') ? 1 : 0;
  out.push('$');
  re.lastIndex = at;
  while ((m = re.exec(path)) !== null) {
    if (m.index !== at) break;
    at = re.lastIndex;
    if (at < path.length) out.push(path.slice(0, at));
  }
  return out;
}

function setAll(root, open) {
  const top = root.querySelector('.jn');
  if (!open) {
    for (const n of root.querySelectorAll('.jn.open')) if (n !== top) n._toggle(false);
    return;
  }
  // Opening everything builds everything: bounded so a huge body cannot hang the tab.
  let budget = 3000, changed = true;
  while (changed && budget > 0) {
    changed = false;
    for (const n of root.querySelectorAll('.jn:not(.open)')) {
      if (budget-- <= 0) break;
      n._toggle(true);
      changed = true;
    }
  }
}

function primitive(v) {
  if (v === null) return h('span', { class: 'j-null' }, 'null');
  switch (typeof v) {
    case 'string': return stringNode(v);
    case 'number': return h('span', { class: 'j-num' }, String(v));
    case 'bigint': return h('span', { class: 'j-num' }, v.toString());
    case 'boolean': return h('span', { class: 'j-bool' }, String(v));
    default: return h('span', { class: 'j-null' }, String(v));
  }
}

function stringNode(s) {
  const quoted = JSON.stringify(s);
  const cls = s === '[REDACTED]' ? 'j-str redacted' : 'j-str';
  if (quoted.length <= LONG_STRING) return h('span', { class: cls }, s.includes('[REDACTED]') && s !== '[REDACTED]' ? redactedText(quoted) : quoted);
  const span = h('span', { class: cls }, quoted.slice(0, LONG_STRING));
  const more = h('button', { type: 'button', class: 'more' }, `… ${quoted.length - LONG_STRING} more chars`);
  more.addEventListener('click', () => { span.textContent = quoted; more.remove(); });
  return h('span', null, span, more);
}

function node(value, path, depth, ctx, key) {
  const isObj = value !== null && typeof value === 'object';
  const keyEl = key === null ? null : h('span', { class: 'j-key' }, key, ': ');
  const marked = ctx.highlight.has(path);
  if (!isObj) {
    return h('div', { class: ['jl', marked && 'hl'], 'data-path': path }, keyEl, primitive(value));
  }
  const isArr = Array.isArray(value);
  const keys = isArr ? null : Object.keys(value);
  const size = isArr ? value.length : keys.length;
  const [open, close] = isArr ? ['[', ']'] : ['{', '}'];
  if (size === 0) {
    return h('div', { class: ['jl', marked && 'hl'], 'data-path': path }, keyEl, h('span', { class: 'j-punc' }, open + close));
  }
  const caret = h('span', { class: 'caret' });
  const summary = h('span', { class: 'j-sum' }, `${open}…${close} ${size} ${isArr ? (size === 1 ? 'item' : 'items') : (size === 1 ? 'key' : 'keys')}`);
  const head = h('div', { class: ['jl', 'jh', marked && 'hl'], 'data-path': path }, caret, keyEl, h('span', { class: 'j-punc' }, open), summary);
  const kids = h('div', { class: 'jk' });
  const tail = h('div', { class: 'jl j-punc' }, close);
  const wrap = h('div', { class: 'jn' }, head, kids, tail);
  let built = 0;
  const build = (upTo) => {
    const end = Math.min(size, upTo);
    const more = kids.lastChild && kids.lastChild.classList && kids.lastChild.classList.contains('j-more') ? kids.lastChild : null;
    if (more) more.remove();
    for (let i = built; i < end; i++) {
      const k = isArr ? i : keys[i];
      kids.append(node(value[k], childPath(path, isArr ? i : k, isArr), depth + 1, ctx, isArr ? String(i) : JSON.stringify(k).slice(1, -1)));
    }
    built = end;
    if (built < size) {
      kids.append(h('button', { type: 'button', class: 'j-more more', on: { click: () => build(built + CHUNK) } }, `show ${Math.min(CHUNK, size - built)} more of ${size - built}`));
    }
  };
  const toggle = (to) => {
    const now = to ?? !wrap.classList.contains('open');
    if (now && built === 0) build(CHUNK);
    wrap.classList.toggle('open', now);
  };
  wrap._toggle = toggle;
  head.addEventListener('click', () => toggle());
  if (depth < ctx.open || ctx.onPath.has(path)) toggle(true);
  return wrap;
}
