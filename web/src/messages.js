// Chat messages made readable: the request's conversation (OpenAI chat
// completions, the Responses API, Anthropic messages, legacy prompts) and
// the assembled answer, each message as a card with its role, its text as
// markdown, tool calls with their name and arguments as JSON, and tool
// results with the call they answer.

import { h, copyButton } from './dom.js';
import { renderMarkdown } from './markdown.js';
import { jsonView } from './json_view.js';
import { fmtInt } from './format.js';
import { stringifyJSON } from './api.js';

// Parts of a message: {type: 'text', text} | {type: 'call', name, id, args}
// | {type: 'result', id, content} | {type: 'media', what} | {type: 'json', value}
// | {type: 'thinking', text}.
export function conversationOf(body) {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return null;
  const out = [];
  // Anthropic puts the system prompt beside the messages; Responses calls it instructions.
  if (body.system !== undefined && body.system !== null) out.push({ role: 'system', parts: partsOf(body.system) });
  if (typeof body.instructions === 'string') out.push({ role: 'system', parts: [{ type: 'text', text: body.instructions }] });
  if (Array.isArray(body.messages)) {
    for (const m of body.messages) out.push(messageOf(m));
  } else if (typeof body.input === 'string') {
    out.push({ role: 'user', parts: [{ type: 'text', text: body.input }] });
  } else if (Array.isArray(body.input)) {
    for (const item of body.input) out.push(responsesItem(item));
  } else if (typeof body.prompt === 'string') {
    out.push({ role: 'user', parts: [{ type: 'text', text: body.prompt }] });
  } else if (Array.isArray(body.contents)) {  // Gemini-style, for good measure
    for (const c of body.contents) out.push({ role: c.role || 'user', parts: (c.parts || []).map((p) => (typeof p.text === 'string' ? { type: 'text', text: p.text } : { type: 'json', value: p })) });
  }
  return out.length ? out : null;
}

function messageOf(m) {
  if (!m || typeof m !== 'object') return { role: 'unknown', parts: [{ type: 'json', value: m }] };
  const msg = { role: String(m.role || 'unknown'), name: m.name, parts: partsOf(m.content) };
  if (m.refusal) msg.parts.push({ type: 'text', text: 'refusal: ' + m.refusal });
  if (m.tool_call_id) msg.replyTo = m.tool_call_id;
  for (const c of m.tool_calls || []) {
    const f = c.function || {};
    msg.parts.push({ type: 'call', name: f.name ?? c.name, id: c.id, args: f.arguments ?? c.arguments });
  }
  if (m.function_call) msg.parts.push({ type: 'call', name: m.function_call.name, args: m.function_call.arguments });
  return msg;
}

function responsesItem(item) {
  if (!item || typeof item !== 'object') return { role: 'user', parts: [{ type: 'json', value: item }] };
  if (item.type === 'function_call') return { role: 'assistant', parts: [{ type: 'call', name: item.name, id: item.call_id || item.id, args: item.arguments }] };
  if (item.type === 'function_call_output') return { role: 'tool', replyTo: item.call_id, parts: partsOf(item.output) };
  if (item.type === 'reasoning') return { role: 'assistant', parts: (item.summary || []).map((s) => ({ type: 'thinking', text: s.text ?? '' })) };
  return messageOf(item);
}

// A message's content: a string, or an array of blocks of either vendor.
function partsOf(content) {
  if (content === null || content === undefined) return [];
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) return [{ type: 'json', value: content }];
  const parts = [];
  for (const b of content) {
    if (typeof b === 'string') { parts.push({ type: 'text', text: b }); continue; }
    if (!b || typeof b !== 'object') continue;
    switch (b.type) {
      case 'text': case 'input_text': case 'output_text':
        parts.push({ type: 'text', text: String(b.text ?? '') }); break;
      case 'thinking': case 'redacted_thinking':
        parts.push({ type: 'thinking', text: String(b.thinking ?? b.data ?? '') }); break;
      case 'tool_use': case 'server_tool_use':
        parts.push({ type: 'call', name: b.name, id: b.id, args: b.input }); break;
      case 'tool_result':
        parts.push({ type: 'result', id: b.tool_use_id, content: b.content, error: b.is_error }); break;
      case 'image': case 'image_url': case 'input_image': case 'document': case 'input_audio': case 'file':
        parts.push({ type: 'media', what: b.type }); break;
      default:
        parts.push({ type: 'json', value: b });
    }
  }
  return parts;
}

// One message as a card. data-role is the role as sent.
// hook: false for a card that repeats a message shown elsewhere (the
// assembled answer under the conversation), so each message is counted once.
export function messageCard(msg, { label, hook = true } = {}) {
  const role = msg.role;
  const head = h('div', { class: 'msg-head' },
    h('span', { class: `role role-${cssRole(role)}` }, role),
    msg.name && h('span', { class: 'msg-name' }, msg.name),
    msg.replyTo && h('span', { class: 'msg-reply mono' }, '↳ ' + msg.replyTo),
    label && h('span', { class: 'msg-label' }, label));
  const body = h('div', { class: 'msg-body' });
  const texts = [];
  for (const p of msg.parts) {
    if (p.type === 'text') { body.append(textBlock(p.text)); texts.push(p.text); }
    else if (p.type === 'thinking') body.append(h('details', { class: 'thinking' }, h('summary', null, 'thinking'), h('pre', { class: 'wrap' }, p.text)));
    else if (p.type === 'call') body.append(toolCall(p));
    else if (p.type === 'result') body.append(toolResult(p));
    else if (p.type === 'media') body.append(h('div', { class: 'muted' }, `[${p.what}]`));
    else body.append(jsonView(p.value, { open: 1, toolbar: false }));
  }
  if (!msg.parts.length) body.append(h('div', { class: 'muted' }, '(no content)'));
  if (texts.length) head.append(copyButton(texts.join('\n\n'), 'copy'));
  return h('div', { class: `msg msg-${cssRole(role)}`, 'data-testid': hook ? 'chat-message' : null, 'data-role': role }, head, body);
}

function cssRole(role) {
  return ['system', 'developer', 'user', 'assistant', 'tool', 'function'].includes(role) ? role : 'other';
}

// Text as markdown, with a switch to the exact characters.
function textBlock(text) {
  const rendered = renderMarkdown(text);
  const raw = h('pre', { class: 'wrap raw', hidden: true }, text);
  const toggle = h('button', { type: 'button', class: 'link-btn raw-toggle', title: 'show the text as sent' }, 'raw');
  toggle.addEventListener('click', () => {
    const showRaw = raw.hidden;
    raw.hidden = !showRaw;
    rendered.hidden = showRaw;
    toggle.textContent = showRaw ? 'rendered' : 'raw';
  });
  return h('div', { class: 'msg-text' }, toggle, rendered, raw);
}

// Arguments arrive as the JSON text the model wrote (OpenAI) or as an
// object (Anthropic): shown as JSON when they parse, as text when not.
function argsValue(args) {
  if (typeof args !== 'string') return { value: args };
  try { return { value: JSON.parse(args) }; } catch { return { text: args }; }
}

export function toolCall(p) {
  const a = argsValue(p.args);
  return h('div', { class: 'tool-call' },
    h('div', { class: 'tool-head' }, h('span', { class: 'tool-icon' }, 'ƒ'), h('span', { class: 'tool-name mono' }, p.name ?? '?'),
      p.id && h('span', { class: 'muted mono small' }, p.id)),
    a.text !== undefined ? h('pre', { class: 'wrap' }, a.text) : jsonView(a.value, { open: 2, toolbar: false }));
}

function toolResult(p) {
  const body = typeof p.content === 'string' ? resultText(p.content)
    : Array.isArray(p.content) ? h('div', null, p.content.map((c) => (c && c.type === 'text' ? resultText(c.text) : jsonView(c, { toolbar: false }))))
      : jsonView(p.content, { toolbar: false });
  return h('div', { class: ['tool-result', p.error && 'error'] },
    h('div', { class: 'tool-head' }, h('span', { class: 'muted' }, p.error ? 'tool error for ' : 'result for '), h('span', { class: 'mono small' }, p.id ?? '?')), body);
}

// A tool's answer is often JSON in a string: shown as JSON when it is.
export function resultText(text) {
  const t = String(text ?? '');
  if (/^\s*[[{]/.test(t)) {
    try { return jsonView(JSON.parse(t), { open: 2, toolbar: false }); } catch { /* plain text */ }
  }
  return textBlock(t);
}

// The conversation of a request body plus the answer, or null when the
// body is not a chat.
export function renderConversation(body, assembled) {
  const msgs = conversationOf(body);
  if (!msgs) return null;
  const list = h('div', { class: 'chat' });
  for (const m of msgs) {
    // A tool message answers a call: its content reads best as a result.
    if (m.role === 'tool' && m.parts.length === 1 && m.parts[0].type === 'text') {
      list.append(messageCard({ ...m, parts: [{ type: 'result', id: m.replyTo, content: m.parts[0].text }] }));
    } else list.append(messageCard(m));
  }
  const answer = assembled && answerMessage(assembled);
  if (answer) list.append(...answer);
  return list;
}

// The assembled answer as assistant message(s): one per choice when n > 1.
export function answerMessage(a, { hook = true } = {}) {
  const choices = Array.isArray(a.choices) && a.choices.length ? a.choices : [a];
  const cards = [];
  for (const c of choices) {
    const parts = [];
    if (c.text) parts.push({ type: 'text', text: c.text });
    for (const t of c.tool_calls || []) parts.push({ type: 'call', name: t.name, id: t.id, args: t.arguments });
    if (!parts.length && !a.error) continue;
    if (a.error && c === choices[0]) parts.push({ type: 'text', text: 'error: ' + a.error });
    const label = ['answer', choices.length > 1 ? `choice ${c.index}` : null, c.finish_reason ? `finish: ${c.finish_reason}` : null].filter(Boolean).join(' · ');
    cards.push(messageCard({ role: 'assistant', parts }, { label, hook }));
  }
  return cards;
}

// The assembled message in full: what the stream (or body) added up to.
export function renderAssembled(a, { hook = true } = {}) {
  const facts = h('div', { class: 'facts' },
    fact('model', a.model || '—'),
    a.fingerprint && fact('fingerprint', a.fingerprint),
    fact('tokens', `${a.input_tokens ?? '?'} in → ${a.output_tokens ?? '?'} out`),
    a.finish_reason && fact('finish', a.finish_reason),
    fact('stream', a.stream ? (a.complete ? 'complete' : 'incomplete: no end marker') : 'no'),
    a.embeddings !== undefined && fact('vectors', fmtInt(a.embeddings)));
  const cards = answerMessage(a, { hook });
  const el = h('div', { class: ['assembled', a.stream && !a.complete && 'incomplete'], 'data-testid': 'stream-assembled' }, facts);
  if (a.error) el.append(h('div', { class: 'error-box' }, h('strong', null, 'error '), a.error));
  if (cards.length) el.append(h('div', { class: 'chat' }, cards));
  else if (!a.error) el.append(h('div', { class: 'muted' }, '(no text and no tool calls)'));
  return el;
}

export function fact(k, v, cls) {
  return h('span', { class: ['fact', cls] }, h('span', { class: 'fact-k' }, k), h('span', { class: 'fact-v' }, v));
}

// The tools a request offered, by vendor spelling.
export function renderTools(tools) {
  if (!Array.isArray(tools) || !tools.length) return null;
  return h('div', { class: 'tools-list' }, tools.map((t) => {
    const f = t.function || t;
    const schema = f.parameters || f.input_schema || null;
    return h('details', { class: 'tool-def' },
      h('summary', null, h('span', { class: 'tool-name mono' }, f.name || t.type || '?'), f.description && h('span', { class: 'muted' }, ' — ' + f.description)),
      schema ? jsonView(schema, { open: 3, toolbar: false }) : jsonView(t, { toolbar: false }));
  }));
}

// The request's settings besides its conversation and tools: model,
// temperature, seed, max_tokens, stream...
export function requestSettings(body) {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return null;
  const skip = new Set(['messages', 'tools', 'system', 'input', 'instructions', 'prompt', 'contents']);
  const items = Object.entries(body).filter(([k, v]) => !skip.has(k) && (v === null || typeof v !== 'object'));
  const nested = Object.entries(body).filter(([k, v]) => !skip.has(k) && v !== null && typeof v === 'object');
  if (!items.length && !nested.length) return null;
  return h('div', { class: 'facts' },
    items.map(([k, v]) => fact(k, v === null ? 'null' : String(v), k === 'temperature' || k === 'seed' ? 'key' : null)),
    nested.map(([k, v]) => fact(k, stringifyJSON(v, 0).slice(0, 80))));
}
