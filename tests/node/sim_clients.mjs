// What agent frameworks need of `retrace sim`, checked with the official
// SDKs: structured outputs validated by a JSON Schema validator (ajv), parallel
// tool calls, a three-round agent loop on each API, streams split and
// identified the same way for the same request, and a current alias name.
//   SIM_URL=http://127.0.0.1:PORT node sim_clients.mjs
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import OpenAI from 'openai';

const base = process.env.SIM_URL;
assert.ok(base, 'SIM_URL must be set');
const openai = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'sk-test-sim-key', maxRetries: 0 });
const anthropic = new Anthropic({ baseURL: base, apiKey: 'sk-ant-test-key', maxRetries: 0 });
let checks = 0;
const check = async (name, fn) => {
  await fn();
  checks += 1;
  console.log(`ok ${checks} - ${name}`);
};

// A schema with what structured outputs use: nested objects, arrays of
// objects, enums, required fields, nullable members, formats, a $ref.
const trip = {
  type: 'object',
  additionalProperties: false,
  required: ['city', 'days', 'mode', 'stops', 'budget', 'note', 'start'],
  properties: {
    city: { type: 'string', minLength: 2 },
    days: { type: 'integer', minimum: 1, maximum: 14 },
    mode: { type: 'string', enum: ['train', 'plane', 'car'] },
    stops: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'nights', 'tags'],
        properties: {
          name: { type: 'string' },
          nights: { type: 'integer', minimum: 0 },
          tags: { type: 'array', items: { type: 'string', enum: ['food', 'art', 'hiking'] } },
        },
      },
    },
    budget: { $ref: '#/$defs/money' },
    note: { type: ['string', 'null'] },
    start: { type: 'string', format: 'date' },
  },
  $defs: {
    money: {
      type: 'object',
      additionalProperties: false,
      required: ['amount', 'currency'],
      properties: { amount: { type: 'number', exclusiveMinimum: 0 }, currency: { type: 'string', enum: ['EUR', 'USD'] } },
    },
  },
};
const ajv = new Ajv2020({ strict: true, allErrors: true });
addFormats(ajv);
const valid = ajv.compile(trip);
const assertValid = (text, where) => {
  const value = JSON.parse(text);
  assert.ok(valid(value), `${where}: ${ajv.errorsText(valid.errors)} in ${text}`);
  return value;
};

await check('chat response_format json_schema (strict): JSON valid against the schema, for many prompts', async () => {
  const seen = new Set();
  for (const city of ['Paris', 'Oslo', 'Rome', 'Lima', 'Kyoto', 'Cairo', 'Quito', 'Perth']) {
    const r = await openai.chat.completions.create({
      model: 'gpt-4o', temperature: 0, messages: [{ role: 'user', content: `Plan a trip to ${city}.` }],
      response_format: { type: 'json_schema', json_schema: { name: 'trip', strict: true, schema: trip } },
    });
    const v = assertValid(r.choices[0].message.content, city);
    seen.add(v.mode);
  }
  assert.ok(seen.size >= 2, 'the enum is drawn, not always its first member');
});

await check('Responses text.format json_schema: JSON valid against the schema, the format echoed', async () => {
  const r = await openai.responses.create({
    model: 'gpt-4.1', temperature: 0, input: 'Plan a trip to Oslo.',
    text: { format: { type: 'json_schema', name: 'trip', strict: true, schema: trip } },
  });
  assertValid(r.output_text, 'responses');
  assert.equal(r.text.format.type, 'json_schema');
});

await check('Anthropic output_format json_schema: JSON valid against the schema', async () => {
  const r = await anthropic.messages.create({
    model: 'claude-sonnet-4-6', max_tokens: 500, temperature: 0,
    messages: [{ role: 'user', content: 'Plan a trip to Oslo.' }],
    output_format: { type: 'json_schema', schema: trip },
  });
  assertValid(r.content[0].text, 'anthropic');
});

await check('control: json_object gives an object, no format gives prose', async () => {
  const obj = await openai.chat.completions.create({
    model: 'gpt-4o', temperature: 0, messages: [{ role: 'user', content: 'Plan a trip, as JSON.' }],
    response_format: { type: 'json_object' },
  });
  assert.equal(typeof JSON.parse(obj.choices[0].message.content), 'object');
  const prose = await openai.chat.completions.create({
    model: 'gpt-4o', temperature: 0, messages: [{ role: 'user', content: 'Plan a trip to Oslo.' }],
  });
  assert.throws(() => JSON.parse(prose.choices[0].message.content));
  assert.equal(valid({}), false, 'the validator rejects what is not a trip');
});

const fn = (name) => ({
  type: 'function',
  function: { name, parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
});
const chatTools = ['get_weather', 'get_time', 'convert_units', 'summarize'].map(fn);
const task = 'Use get_weather and get_time for Oslo, then convert_units, then summarize.';

await check('chat: two tools named together, two calls in one answer; one with parallel_tool_calls false', async () => {
  const both = await openai.chat.completions.create({
    model: 'gpt-4o', temperature: 0, tools: chatTools, messages: [{ role: 'user', content: task }],
  });
  const calls = both.choices[0].message.tool_calls;
  assert.deepEqual(calls.map((c) => c.function.name), ['get_weather', 'get_time']);
  assert.notEqual(calls[0].id, calls[1].id);
  assert.equal(both.choices[0].finish_reason, 'tool_calls');
  const one = await openai.chat.completions.create({
    model: 'gpt-4o', temperature: 0, tools: chatTools, parallel_tool_calls: false, messages: [{ role: 'user', content: task }],
  });
  assert.deepEqual(one.choices[0].message.tool_calls.map((c) => c.function.name), ['get_weather']);
  const streamed = await openai.chat.completions.stream({
    model: 'gpt-4o', temperature: 0, tools: chatTools, messages: [{ role: 'user', content: task }],
  }).finalChatCompletion();
  assert.deepEqual(streamed.choices[0].message.tool_calls.map((c) => [c.function.name, c.function.arguments]),
    calls.map((c) => [c.function.name, c.function.arguments]), 'streamed, the same calls');
});

await check('chat: a three-round agent loop (2 calls, 1, 1), then text', async () => {
  const messages = [{ role: 'user', content: task }];
  const rounds = [];
  for (let i = 0; i < 6; i++) {
    const r = await openai.chat.completions.create({ model: 'gpt-4o', temperature: 0, tools: chatTools, messages });
    const msg = r.choices[0].message;
    if (!msg.tool_calls) {
      assert.equal(typeof msg.content, 'string');
      break;
    }
    rounds.push(msg.tool_calls.map((c) => c.function.name).join('+'));
    messages.push(msg, ...msg.tool_calls.map((c) => ({ role: 'tool', tool_call_id: c.id, content: '{"ok": true}' })));
  }
  assert.deepEqual(rounds, ['get_weather+get_time', 'convert_units', 'summarize']);
});

await check('Responses: a three-round agent loop, function calls fed back by call_id', async () => {
  const tools = chatTools.map((t) => ({ type: 'function', name: t.function.name, parameters: t.function.parameters }));
  const input = [{ role: 'user', content: task }];
  const rounds = [];
  for (let i = 0; i < 6; i++) {
    const r = await openai.responses.create({ model: 'gpt-4.1', temperature: 0, tools, input });
    const calls = r.output.filter((o) => o.type === 'function_call');
    if (!calls.length) {
      assert.ok(r.output_text.length > 0);
      break;
    }
    assert.equal(new Set(calls.map((c) => c.id)).size, calls.length, 'each call item its own id');
    rounds.push(calls.map((c) => c.name).join('+'));
    input.push(...calls, ...calls.map((c) => ({ type: 'function_call_output', call_id: c.call_id, output: '{"ok": true}' })));
  }
  assert.deepEqual(rounds, ['get_weather+get_time', 'convert_units', 'summarize']);
});

await check('Anthropic: a three-round agent loop with tool_result, then end_turn', async () => {
  const tools = chatTools.map((t) => ({ name: t.function.name, input_schema: t.function.parameters }));
  const messages = [{ role: 'user', content: task }];
  const rounds = [];
  for (let i = 0; i < 6; i++) {
    const r = await anthropic.messages.create({ model: 'claude-3-5-haiku-latest', max_tokens: 300, temperature: 0, tools, messages });
    const uses = r.content.filter((b) => b.type === 'tool_use');
    if (!uses.length) {
      assert.equal(r.stop_reason, 'end_turn');
      break;
    }
    assert.equal(r.stop_reason, 'tool_use');
    rounds.push(uses.map((u) => u.name).join('+'));
    messages.push({ role: 'assistant', content: r.content },
      { role: 'user', content: uses.map((u) => ({ type: 'tool_result', tool_use_id: u.id, content: 'ok' })) });
  }
  assert.deepEqual(rounds, ['get_weather+get_time', 'convert_units', 'summarize']);
  const one = await anthropic.messages.create({
    model: 'claude-3-5-haiku-latest', max_tokens: 300, temperature: 0, tools, messages: [{ role: 'user', content: task }],
    tool_choice: { type: 'auto', disable_parallel_tool_use: true },
  });
  assert.deepEqual(one.content.filter((b) => b.type === 'tool_use').map((u) => u.name), ['get_weather']);
});

// The raw stream of a request: its frames, as the client reads them.
const rawStream = async (path, body, headers) => {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  assert.equal(res.status, 200);
  return (await res.text()).split('\n\n').filter(Boolean);
};
const withoutTimes = (frames) => frames.map((f) => f.replace(/"created(_at)?":\d+/g, '"created":0'));

await check('identical temperature-0 streams: the same chunks and ids, on each API; another prompt, others', async () => {
  const oa = { authorization: 'Bearer sk-test' };
  const an = { 'x-api-key': 'sk-ant-test', 'anthropic-version': '2023-06-01' };
  const cases = [
    ['/v1/chat/completions', (p) => ({ model: 'gpt-4o', temperature: 0, stream: true, messages: [{ role: 'user', content: p }] }), oa],
    ['/v1/responses', (p) => ({ model: 'gpt-4.1', temperature: 0, stream: true, input: p }), oa],
    ['/v1/messages', (p) => ({ model: 'claude-sonnet-4-0', max_tokens: 200, temperature: 0, stream: true, messages: [{ role: 'user', content: p }] }), an],
  ];
  for (const [path, body, headers] of cases) {
    const a = withoutTimes(await rawStream(path, body('Tell me about reproducible runs.'), headers));
    const b = withoutTimes(await rawStream(path, body('Tell me about reproducible runs.'), headers));
    assert.ok(a.length > 5, `${path}: a stream of many frames`);
    assert.deepEqual(b, a, `${path}: the same frames, ids included`);
    const other = withoutTimes(await rawStream(path, body('Tell me about flaky runs.'), headers));
    assert.notDeepEqual(other, a, `${path}: control, another prompt`);
  }
});

console.log(`sim_clients: ${checks} checks passed`);
