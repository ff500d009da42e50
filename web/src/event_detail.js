// One event in full (GET /api/v1/runs/ID/events/N): for an exchange its
// conversation, assembled answer, frames, headers and bodies; for the
// process its argv, exit and output; for an SDK event its input, output
// or error. Secrets were redacted before they were stored: "[REDACTED]"
// shows as such, styled, never as a value.

import { h, section, kvGrid, copyButton, badge, redactedText } from './dom.js';
import { jsonView } from './json_view.js';
import { renderConversation, renderAssembled, renderTools, requestSettings, resultText, fact } from './messages.js';
import { fmtDuration, fmtBytes, fmtTimeExact, diffNs } from './format.js';
import { eventFlags } from './trace_model.js';
import { kindClass, isStream } from './timeline.js';

// ctx: {runId, replayOf, t0 (BigInt run start), eventLink(seq) -> href,
// replayLink(seq) -> href of the recorded run's event}.
export function renderEventDetail(detail, summary, ctx) {
  const e = { ...(summary || {}), ...(detail && detail.event) };
  const el = h('div', { class: 'event-detail', 'data-testid': 'event-detail', 'data-seq': e.seq });
  el.append(header(e, ctx));
  const flags = eventFlags(e);
  if (flags.length) el.append(h('div', { class: 'flags' }, flags.map(([label, level, why]) => h('span', { class: `flag ${level}` }, label, why && h('span', { class: 'why' }, ' — ' + why)))));
  const a = e.attrs || {};
  if (a.divergence) el.append(divergenceBox(a.divergence, ctx));
  if (a.client_cancelled) el.append(h('div', { class: 'warn-box' }, `The client left ${fmtDuration((a.client_cancelled.at_us ?? 0) * 1000)} after its request, having read ${a.client_cancelled.chunks_sent ?? '?'} chunk(s): its abort or its own timeout.`));
  if (!detail) return el;
  if (e.kind === 'process') el.append(...processBody(detail, e));
  else if (detail.request || detail.response) el.append(...exchangeBody(detail, e));
  else el.append(...sdkBody(detail, e));
  el.append(section('Attributes', { build: () => jsonView(e.attrs || {}, { open: 1 }) }));
  el.append(section('Digests', { build: () => digests(e) }));
  return el;
}

function header(e, ctx) {
  const dur = diffNs(e.end_ns, e.start_ns);
  const at = ctx.t0 !== null && ctx.t0 !== undefined ? diffNs(e.start_ns, ctx.t0) : null;
  return h('div', { class: 'ed-head' },
    h('div', { class: 'ed-title' },
      h('span', { class: `kind k-${kindClass(e.kind)}` }, e.kind),
      h('span', { class: 'ed-name' }, e.name || '(unnamed)'),
      h('span', { class: 'ev-seq' }, '#' + e.seq)),
    h('div', { class: 'facts' },
      fact('duration', e.end_ns === null || e.end_ns === undefined ? 'still open' : fmtDuration(dur)),
      at !== null && fact('start', '+' + fmtDuration(at)),
      e.parent ? h('span', { class: 'fact' }, h('span', { class: 'fact-k' }, 'parent'), h('a', { class: 'fact-v', href: ctx.eventLink(e.parent) }, '#' + e.parent)) : null,
      fact('started', fmtTimeExact(e.start_ns) || '—')));
}

function divergenceBox(d, ctx) {
  return h('div', { class: 'error-box' },
    h('div', null, h('strong', null, 'Diverged: '), d.reason || 'the recording could not answer this request'),
    d.nearest !== undefined && d.nearest !== null && h('div', null, 'nearest recorded: ', ctx.replayLink ? h('a', { href: ctx.replayLink(d.nearest) }, '#' + d.nearest) : '#' + d.nearest),
    Array.isArray(d.diff) && d.diff.length ? diffTable(d.diff.map((x) => ({ path: x.path, a: x.recorded, b: x.now })), ['recorded', 'now']) : null);
}

// [{path, a, b}] as a table: the JSON path, then each side's value.
export function diffTable(rows, names = ['a', 'b']) {
  return h('table', { class: 'difftab' },
    h('thead', null, h('tr', null, h('th', null, 'path'), h('th', null, names[0]), h('th', null, names[1]))),
    h('tbody', null, rows.map((r) => h('tr', null,
      h('td', { class: 'mono path' }, r.path),
      h('td', { class: ['mono', 'side-a', r.a === '(absent)' && 'absent'] }, r.a ?? ''),
      h('td', { class: ['mono', 'side-b', r.b === '(absent)' && 'absent'] }, r.b ?? '')))));
}

function exchangeBody(d, e) {
  const a = e.attrs || {};
  const req = d.request || {};
  const res = d.response || {};
  const out = [];
  const asm = res.assembled;
  out.push(h('div', { class: 'ed-line mono' },
    h('span', { class: 'method' }, a.method || ''), ' ',
    redactedText(`/${a.route ?? ''}${a.path ?? ''}${a.query ?? ''}`), ' ',
    statusBadge(res.status ?? a.status),
    a.header_us !== undefined && h('span', { class: 'muted small' }, ` header after ${fmtDuration(a.header_us * 1000)}`),
    Array.isArray(a.chunks) && h('span', { class: 'muted small' }, ` · ${a.chunks.length} frame${a.chunks.length === 1 ? '' : 's'}, ${fmtBytes(a.chunks.reduce((s, c) => s + (Number(c[1]) || 0), 0))}`)));
  const conversation = renderConversation(req.body, asm);
  if (conversation) out.push(section(`Conversation (${conversation.children.length} messages)`, { open: true, cls: 'sec-chat' }, conversation));
  const settings = requestSettings(req.body);
  if (settings) out.push(h('div', { class: 'settings' }, settings));
  const tools = req.body && typeof req.body === 'object' ? renderTools(req.body.tools) : null;
  if (tools) out.push(section(`Tools offered (${req.body.tools.length})`, {}, tools));
  // (For a whole answer the conversation above already ends with it.)
  if (asm) out.push(section(asm.stream ? 'Assembled message (from the stream)' : 'Assembled answer', { open: Boolean(asm.stream) || !conversation }, renderAssembled(asm, { hook: !conversation })));
  const frames = Array.isArray(res.frames) ? res.frames : [];
  const stream = (asm && asm.stream) || isStream(a);
  if (stream) out.push(section(`Frames (${frames.length}, offsets from the request)`, { open: true, testid: 'stream-frames', build: () => framesTable(frames) }));
  out.push(section('Request', { open: !conversation, build: () => h('div', null, headersTable(req.headers), bodyView(req.body, 'request body')) }));
  out.push(section(`Response ${res.status ?? ''}`, { open: !asm && !stream, build: () => h('div', null, headersTable(res.headers), stream && typeof res.body === 'string' ? h('pre', { class: 'wrap body-raw' }, res.body) : bodyView(res.body, 'response body')) }));
  return out;
}

function statusBadge(s) {
  if (s === undefined || s === null) return null;
  const cls = s === 0 || s >= 500 ? 'bad' : s >= 400 ? 'warn' : 'ok';
  return badge(s === 0 ? 'no answer' : String(s), cls);
}

// Frames as they arrived: offset from the request, gap since the previous
// frame, size, and the frame's text (an SSE frame's JSON shown compactly).
const FRAMES_AT_ONCE = 300;

export function framesTable(frames) {
  let prev = null;
  const rowOf = (f, i) => {
    const us = Number(f.offset_us);
    const gap = prev === null ? null : us - prev;
    prev = us;
    const text = String(f.text ?? '');
    // One line per frame; a click shows the whole of it.
    const tr = h('tr', { class: 'frame', title: 'click to show the whole frame' },
      h('td', { class: 'num muted' }, String(i + 1)),
      h('td', { class: 'num mono' }, Number.isFinite(us) ? (us / 1000).toFixed(1) + 'ms' : '—'),
      h('td', { class: 'num mono muted' }, gap === null ? '' : '+' + (gap / 1000).toFixed(1)),
      h('td', { class: 'num mono muted' }, String(new TextEncoder().encode(text).length)),
      h('td', { class: 'frame-text' }, h('pre', { class: 'wrap' }, text.replace(/\n+$/, ''))),
      h('td', { class: 'frame-delta' }, deltaOf(text)));
    tr.addEventListener('click', () => { if (!String(window.getSelection())) tr.classList.toggle('expanded'); });
    return tr;
  };
  const tbody = h('tbody', null, frames.slice(0, FRAMES_AT_ONCE).map(rowOf));
  const table = h('table', { class: 'frames' },
    h('thead', null, h('tr', null, h('th', null, '#'), h('th', null, 'offset'), h('th', null, 'gap'), h('th', null, 'bytes'), h('th', null, 'frame'), h('th', null, 'adds'))),
    tbody);
  if (frames.length <= FRAMES_AT_ONCE) return table;
  const more = h('button', { type: 'button', class: 'more' }, `show the other ${frames.length - FRAMES_AT_ONCE} frames`);
  more.addEventListener('click', () => { tbody.append(...frames.slice(FRAMES_AT_ONCE).map((f, i) => rowOf(f, i + FRAMES_AT_ONCE))); more.remove(); });
  return h('div', null, table, more);
}

// What an SSE frame adds to the message: its text delta or a tool call's
// piece, when it is an OpenAI or Anthropic chunk.
function deltaOf(text) {
  const m = /^data:\s?(.*)$/m.exec(text);
  if (!m || m[1] === '[DONE]') return m ? h('span', { class: 'muted' }, 'end') : null;
  let j;
  try { j = JSON.parse(m[1]); } catch { return null; }
  const c = j.choices && j.choices[0];
  const d = c && c.delta;
  if (d && typeof d.content === 'string' && d.content) return h('span', { class: 'delta' }, d.content);
  if (d && d.tool_calls) return h('span', { class: 'delta mono' }, d.tool_calls.map((t) => (t.function?.name ? t.function.name + ' ' : '') + (t.function?.arguments ?? '')).join(' '));
  if (c && c.finish_reason) return h('span', { class: 'muted' }, 'finish: ' + c.finish_reason);
  if (j.usage && !c) return h('span', { class: 'muted' }, `usage ${j.usage.prompt_tokens ?? j.usage.input_tokens ?? '?'}→${j.usage.completion_tokens ?? j.usage.output_tokens ?? '?'}`);
  if (j.delta && typeof j.delta.text === 'string') return h('span', { class: 'delta' }, j.delta.text);
  if (j.delta && typeof j.delta.partial_json === 'string') return h('span', { class: 'delta mono' }, j.delta.partial_json);
  if (typeof j.type === 'string') return h('span', { class: 'muted' }, j.type);
  return null;
}

export function headersTable(headers) {
  if (!headers || typeof headers !== 'object' || !Object.keys(headers).length) return h('div', { class: 'muted small' }, 'no headers');
  return h('table', { class: 'headers' }, h('tbody', null, Object.entries(headers).map(([k, v]) => {
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    return h('tr', null, h('td', { class: 'mono hk' }, k), h('td', { class: 'mono hv' }, redactedText(text)));
  })));
}

function bodyView(body, what) {
  if (body === undefined) return h('div', { class: 'muted small' }, `no ${what}`);
  if (body === '' || body === null) return h('div', { class: 'muted small' }, `empty ${what}`);
  if (typeof body === 'string') return h('div', null, h('div', { class: 'json-bar' }, copyButton(body, 'copy')), h('pre', { class: 'wrap body-raw' }, body));
  return jsonView(body, { open: 2 });
}

function processBody(d, e) {
  const a = e.attrs || {};
  const out = [];
  out.push(kvGrid([
    ['argv', h('code', { class: 'argv' }, (a.argv || []).map(shellWord).join(' ') || '—')],
    ['exit', a.exit_code === undefined || a.exit_code === null ? '—' : h('span', { class: a.exit_code === 0 ? 'ok' : 'bad' }, String(a.exit_code))],
    a.signal ? ['signal', String(a.signal)] : null,
    a.layout ? ['layout', a.layout] : null,
  ]));
  out.push(section(`stdout (${fmtBytes(a.stdout_bytes ?? (d.stdout || '').length)})`, { open: true }, outputBlock(d.stdout)));
  out.push(section(`stderr (${fmtBytes(a.stderr_bytes ?? (d.stderr || '').length)})`, { open: Boolean(d.stderr) }, outputBlock(d.stderr)));
  if (Array.isArray(a.determinism) && a.determinism.length) out.push(section(`Determinism streams (${a.determinism.length})`, { build: () => jsonView(a.determinism, { open: 2 }) }));
  return out;
}

function outputBlock(text) {
  if (text === undefined || text === null || text === '') return h('div', { class: 'muted small' }, '(empty)');
  return h('div', null, h('div', { class: 'json-bar' }, copyButton(text, 'copy')), h('pre', { class: 'output' }, redactedText(text)));
}

// A word of argv as a shell would need it, for reading (not for running).
function shellWord(w) {
  const s = String(w);
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function sdkBody(d, e) {
  const out = [];
  const a = e.attrs || {};
  const io = h('div', { class: 'io' },
    h('div', { class: 'io-side' }, h('div', { class: 'io-label' }, 'input'), valueView(d.input, a.group ? '(a grouping span: no input of its own)' : '(none)')),
    h('div', { class: 'io-arrow' }, '→'),
    h('div', { class: 'io-side' }, h('div', { class: 'io-label' }, d.error ? 'raised' : 'output'),
      d.error ? h('div', { class: 'error-box' }, h('strong', null, (d.error.type ?? 'error') + ': '), d.error.message ?? JSON.stringify(d.error))
        : valueView(d.output, a.unfinished ? '(unfinished: the program exited inside it)' : '(none)')));
  out.push(io);
  if (d.error && d.output !== undefined) out.push(section('output', { open: true }, valueView(d.output, '(none)')));
  if (a.otel) out.push(section('OpenTelemetry span', { build: () => jsonView(a.otel, { open: 2 }) }));
  return out;
}

function valueView(v, none) {
  if (v === undefined || v === null) return h('div', { class: 'muted small' }, none);
  if (typeof v === 'string') return resultText(v);
  // Buttons only where there is something to fold or copy at length.
  return jsonView(v, { open: 2, toolbar: JSON.stringify(v).length > 160 });
}

function digests(e) {
  const row = (k, d) => d ? [k, h('span', { class: 'digest' }, h('code', null, d), copyButton(d))] : null;
  return kvGrid([row('event', e.digest), row('request', e.request), row('response', e.response), e.attrs && row('match', e.attrs.match)]);
}
