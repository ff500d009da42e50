// A run's conditions by section: each section's digest (what the
// conditions digest is made of), a one-line summary like `retrace show`'s,
// and its JSON. Sections are collapsible; digests copy with one click.

import { h, copyButton } from './dom.js';
import { jsonView } from './json_view.js';
import { shortDigest, fmtBytes } from './format.js';
import { stringifyJSON } from './api.js';

// The order `retrace show` prints them in; others follow alphabetically.
const ORDER = ['backend', 'code', 'data', 'env', 'models', 'params', 'prompts', 'tools'];

export function sectionNames(conditions, sections) {
  const names = new Set([...Object.keys(sections || {}), ...Object.keys(conditions && typeof conditions === 'object' ? conditions : {})]);
  return [...names].sort((a, b) => {
    const ia = ORDER.indexOf(a), ib = ORDER.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
  });
}

export function renderConditions(run, { highlight = {} } = {}) {
  const conditions = run.conditions && typeof run.conditions === 'object' ? run.conditions : {};
  const sections = (run.identity && run.identity.sections) || {};
  const wrap = h('div', { class: 'conditions' });
  if (typeof run.conditions === 'string') wrap.append(h('div', { class: 'warn-box' }, 'The stored conditions are not JSON; shown as text.'), h('pre', { class: 'wrap' }, run.conditions));
  for (const name of sectionNames(conditions, sections)) {
    wrap.append(conditionsSection(name, conditions[name], sections[name], highlight[name]));
  }
  if (!wrap.children.length) wrap.append(h('div', { class: 'muted' }, 'No conditions recorded.'));
  return wrap;
}

export function conditionsSection(name, value, digest, highlight) {
  const empty = value === undefined || value === null || (typeof value === 'object' && Object.keys(value).length === 0);
  const summary = h('summary', null,
    h('span', { class: 'cs-name' }, name),
    h('span', { class: 'digest', title: digest || '' }, h('code', null, shortDigest(digest)), digest && copyButton(digest)),
    h('span', { class: ['cs-sum', empty && 'muted'] }, empty ? '(empty)' : summarize(name, value)));
  const body = h('div', { class: 'sec-body' });
  const el = h('details', { class: ['cs', highlight && highlight.length && 'differs'], 'data-testid': 'conditions-section', 'data-section': name }, summary, body);
  let built = false;
  el.addEventListener('toggle', () => {
    if (!el.open || built) return;
    built = true;
    body.append(value === undefined ? h('div', { class: 'muted' }, '(absent)') : jsonView(value, { open: 2, path: '$.' + name, highlight }));
  });
  return el;
}

// One line per section, as `retrace show` prints it.
export function summarize(name, s) {
  if (!s || typeof s !== 'object') return typeof s === 'string' ? s : stringifyJSON(s, 0);
  try {
    switch (name) {
      case 'code': {
        const parts = [(s.argv || []).join(' ')];
        if (s.git) parts.push(`git ${String(s.git.commit || '').slice(0, 10)}${s.git.dirty ? ` (dirty, ${s.git.dirty_files ?? '?'} file(s))` : ' (clean)'}`);
        return parts.filter(Boolean).join('  ');
      }
      case 'env': {
        const m = s.machine || {}, sw = s.software || {};
        const parts = [m.os, sw.python3 && `python ${sw.python3}`, sw.node && `node ${sw.node}`,
          sw.python_packages && `${Object.keys(sw.python_packages).length} python packages`,
          m.memory_bytes && fmtBytes(m.memory_bytes), m.cpu && m.cpu.count && `${m.cpu.count} CPU`];
        return parts.filter(Boolean).join(', ');
      }
      case 'models': {
        const out = [];
        for (const [provider, models] of Object.entries(s)) {
          for (const [model, f] of Object.entries(models || {})) {
            const t = f && Array.isArray(f.temperature) ? ` t=[${f.temperature.join(',')}]` : '';
            const seed = f && Array.isArray(f.seed) ? ` seed=[${f.seed.join(',')}]` : '';
            out.push(`${provider} ${model}${t}${seed}`);
          }
        }
        return out.join('; ');
      }
      case 'backend': {
        const out = [];
        for (const [provider, b] of Object.entries(s)) {
          const bits = [...(b.served_models || []), ...(b.system_fingerprints || [])];
          const creds = (b.credentials || []).length;
          out.push(`${provider}: ${bits.join(' ')}${creds ? ` (${creds} credential(s))` : ''}`);
        }
        return out.join('; ');
      }
      case 'prompts': return Object.entries(s).map(([p, list]) => `${p}: ${Array.isArray(list) ? list.length : 1} system prompt(s)`).join('; ');
      case 'tools': return Object.keys(s).join(', ');
      case 'params': return Object.entries(s).map(([k, v]) => `${k}=${typeof v === 'string' ? v : stringifyJSON(v, 0)}`).join(' ');
      case 'data': {
        const out = [];
        for (const [k, v] of Object.entries(s.inputs || {})) out.push(`${k} ${shortDigest(v && v.digest)}`);
        for (const [k, v] of Object.entries(s.retrieval || {})) out.push(`retrieval ${k}${Array.isArray(v) ? ` (${v.map((x) => x.index ?? '').filter(Boolean).join(', ')})` : ''}`);
        for (const k of Object.keys(s)) if (k !== 'inputs' && k !== 'retrieval') out.push(k);
        return out.join(', ');
      }
      default: return Object.keys(s).join(', ');
    }
  } catch {
    return Object.keys(s).join(', ');
  }
}
