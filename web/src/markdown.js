// The markdown models write, as DOM nodes built from text: paragraphs,
// # headings, - and 1. lists, > quotes, fenced code blocks, **bold**,
// *italic*, `code` and [links](...). Nothing here parses HTML: a `<b>` in a
// message stays the three characters it is. Links become <a> only for
// http(s) URLs; any other scheme is shown as text.

import { h } from './dom.js';

export function renderMarkdown(text) {
  const root = h('div', { class: 'md' });
  const lines = String(text ?? '').replace(/\r\n?/g, '\n').split('\n');
  let i = 0;
  let para = [];
  const flush = () => {
    if (!para.length) return;
    const p = h('p');
    para.forEach((line, k) => {
      if (k) p.append(h('br'));
      inline(p, line);
    });
    root.append(p);
    para = [];
  };
  while (i < lines.length) {
    const line = lines[i];
    const fence = /^\s*(```+|~~~+)\s*([\w+-]*)\s*$/.exec(line);
    if (fence) {
      flush();
      const body = [];
      i++;
      while (i < lines.length && !lines[i].trim().startsWith(fence[1])) body.push(lines[i++]);
      i++;  // the closing fence (or the end of the text)
      root.append(h('pre', { class: 'md-code', 'data-lang': fence[2] || null }, h('code', null, body.join('\n'))));
      continue;
    }
    const heading = /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      flush();
      const el = h('div', { class: `md-h md-h${heading[1].length}`, role: 'heading', 'aria-level': String(heading[1].length) });
      inline(el, heading[2]);
      root.append(el);
      i++;
      continue;
    }
    if (/^\s*([-*+]|\d+[.)])\s+/.test(line)) {
      flush();
      i = list(root, lines, i);
      continue;
    }
    if (/^\s*>\s?/.test(line)) {
      flush();
      const quoted = [];
      while (i < lines.length && /^\s*>\s?/.test(lines[i])) quoted.push(lines[i++].replace(/^\s*>\s?/, ''));
      root.append(h('blockquote', null, renderMarkdown(quoted.join('\n'))));
      continue;
    }
    if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) {
      flush();
      root.append(h('hr'));
      i++;
      continue;
    }
    if (line.trim() === '') flush();
    else para.push(line);
    i++;
  }
  flush();
  return root;
}

// A list from line i on: items of one kind, an item's own continuation
// lines appended to it, deeper-indented items as a nested list.
function list(parent, lines, i) {
  const first = /^(\s*)([-*+]|\d+[.)])\s+/.exec(lines[i]);
  const indent = first[1].length;
  const ordered = /\d/.test(first[2]);
  const el = h(ordered ? 'ol' : 'ul');
  if (ordered && parseInt(first[2], 10) !== 1) el.setAttribute('start', String(parseInt(first[2], 10)));
  let item = null;
  while (i < lines.length) {
    const line = lines[i];
    if (line.trim() === '') {
      // A blank line ends the list unless another item follows.
      const next = lines[i + 1];
      if (next !== undefined && /^\s*([-*+]|\d+[.)])\s+/.test(next)) { i++; continue; }
      break;
    }
    const m = /^(\s*)([-*+]|\d+[.)])\s+(.*)$/.exec(line);
    if (m && m[1].length > indent && item) { i = list(item, lines, i); continue; }
    if (m && m[1].length < indent) break;
    if (m) {
      if (/\d/.test(m[2]) !== ordered) break;
      item = h('li');
      inline(item, m[3]);
      el.append(item);
      i++;
      continue;
    }
    if (!item || /^\s*(```|~~~|#)/.test(line)) break;
    item.append(h('br'));
    inline(item, line.trim());
    i++;
  }
  parent.append(el);
  return i;
}

// Inline spans: code first (nothing inside it is markup), then bold,
// italic and links, whose text is parsed again for nested spans. As in
// CommonMark, underscores inside a word are not emphasis (snake_case,
// window.__name), whether single or double.
const INLINE = /(`+)([\s\S]*?[^`])\1(?!`)|\*\*(?=\S)([\s\S]*?\S)\*\*|(?<![\w_])__(?=\S)([\s\S]*?\S)__(?![\w_])|(?<![\w*])\*(?=\S)([^*]*?\S)\*(?![\w*])|(?<![\w_])_(?=\S)([^_]*?\S)_(?![\w_])|\[([^\]\n]+)\]\(([^()\s]+)\)|(https?:\/\/[^\s<>()]+[^\s<>().,;:!?'"])/g;

export function inline(parent, text) {
  let at = 0;
  INLINE.lastIndex = 0;
  const s = String(text);
  const re = new RegExp(INLINE.source, 'g');
  let m;
  while ((m = re.exec(s)) !== null) {
    if (m.index > at) parent.append(document.createTextNode(s.slice(at, m.index)));
    if (m[1]) parent.append(h('code', null, m[2].replace(/^ (.*) $/, '$1')));
    else if (m[3] !== undefined || m[4] !== undefined) inline(parent.appendChild(h('strong')), m[3] ?? m[4]);
    else if (m[5] !== undefined || m[6] !== undefined) inline(parent.appendChild(h('em')), m[5] ?? m[6]);
    else if (m[7] !== undefined) parent.append(link(m[7], m[8]));
    else if (m[9] !== undefined) parent.append(link(m[9], m[9]));
    at = re.lastIndex;
  }
  if (at < s.length) parent.append(document.createTextNode(s.slice(at)));
  return parent;
}

function link(label, url) {
  if (/^https?:\/\//i.test(url)) {
    const a = h('a', { href: url, rel: 'noreferrer noopener', target: '_blank' });
    inline(a, label);
    return a;
  }
  // Not a web link (javascript:, data:, a relative path): shown, not followed.
  const span = h('span', { class: 'md-link-text' });
  inline(span, label);
  span.append(document.createTextNode(` (${url})`));
  return span;
}
