// Drives `retrace sim` with the official SDKs, as a user's program would, and
// checks what the SDKs assemble — not just that they parse.
//   SIM_URL=http://127.0.0.1:PORT node sim_sdk.mjs
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';

const base = process.env.SIM_URL;
assert.ok(base, 'SIM_URL must be set');
const openai = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'sk-test-sim-key', maxRetries: 0 });
const anthropic = new Anthropic({ baseURL: base, apiKey: 'sk-ant-test-key', maxRetries: 0 });
const words = (s) => s.split(/\s+/).filter(Boolean).length;
let checks = 0;
const check = async (name, fn) => {
  await fn();
  checks += 1;
  console.log(`ok ${checks} - ${name}`);
};

const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, days: { type: 'integer' }, unit: { type: 'string', enum: ['c', 'f'] } },
      required: ['city'],
    },
  },
};
const ask = [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Say something about reproducibility.' }];

await check('chat, non-streaming, temperature 0: content, finish_reason, usage, fingerprint', async () => {
  const a = await openai.chat.completions.create({ model: 'gpt-4o', messages: ask, temperature: 0 });
  const b = await openai.chat.completions.create({ model: 'gpt-4o', messages: ask, temperature: 0 });
  const msg = a.choices[0].message;
  assert.equal(typeof msg.content, 'string');
  assert.ok(words(msg.content) >= 8);
  assert.equal(a.choices[0].finish_reason, 'stop');
  assert.equal(a.usage.completion_tokens, words(msg.content));
  assert.equal(a.usage.total_tokens, a.usage.prompt_tokens + a.usage.completion_tokens);
  assert.match(a.system_fingerprint, /^fp_[0-9a-f]{10}$/);
  assert.equal(a.object, 'chat.completion');
  assert.equal(b.choices[0].message.content, msg.content, 'temperature 0 is deterministic');
});

await check('chat, streaming: finalChatCompletion() assembles what non-streaming returns', async () => {
  const plain = await openai.chat.completions.create({ model: 'gpt-4o', messages: ask, temperature: 0 });
  const stream = openai.chat.completions.stream({
    model: 'gpt-4o', messages: ask, temperature: 0, stream_options: { include_usage: true },
  });
  let deltas = 0;
  stream.on('content', () => { deltas += 1; });
  const final = await stream.finalChatCompletion();
  assert.equal(final.choices[0].message.content, plain.choices[0].message.content);
  assert.equal(final.choices[0].finish_reason, 'stop');
  assert.deepEqual(final.usage.completion_tokens, plain.usage.completion_tokens);
  assert.equal(final.system_fingerprint, plain.system_fingerprint);
  assert.ok(deltas > 3, `streamed in ${deltas} pieces`);
});

await check('chat, max_tokens: finish_reason length with exactly that many tokens', async () => {
  const r = await openai.chat.completions.create({ model: 'gpt-4o', messages: ask, temperature: 0, max_tokens: 3 });
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.equal(words(r.choices[0].message.content), 3);
  assert.equal(r.usage.completion_tokens, 3);
});

await check('chat, streaming tool call and the round trip after it', async () => {
  const messages = [{ role: 'user', content: 'Use the get_weather tool for Paris.' }];
  const final = await openai.chat.completions
    .stream({ model: 'gpt-4o', messages, tools: [weatherTool], temperature: 0 })
    .finalChatCompletion();
  const choice = final.choices[0];
  assert.equal(choice.finish_reason, 'tool_calls');
  const call = choice.message.tool_calls[0];
  assert.equal(call.type, 'function');
  assert.equal(call.function.name, 'get_weather');
  const args = JSON.parse(call.function.arguments);
  assert.equal(typeof args.city, 'string');
  assert.ok(Number.isInteger(args.days));
  assert.ok(['c', 'f'].includes(args.unit));
  const answer = await openai.chat.completions.create({
    model: 'gpt-4o', temperature: 0, tools: [weatherTool],
    messages: [...messages, choice.message, { role: 'tool', tool_call_id: call.id, content: '{"temp": 21}' }],
  });
  assert.equal(answer.choices[0].finish_reason, 'stop');
  assert.ok(words(answer.choices[0].message.content) > 0);
});

await check('chat, n=2 and json_object', async () => {
  const r = await openai.chat.completions.create({ model: 'gpt-4o', messages: ask, n: 2, temperature: 0.9, seed: 7 });
  assert.equal(r.choices.length, 2);
  assert.notEqual(r.choices[0].message.content, r.choices[1].message.content);
  const j = await openai.chat.completions.create({
    model: 'gpt-4o', messages: ask, temperature: 0, response_format: { type: 'json_object' },
  });
  assert.equal(typeof JSON.parse(j.choices[0].message.content).answer, 'string');
});

await check('responses, streaming: finalResponse() equals the non-streamed response', async () => {
  const plain = await openai.responses.create({ model: 'gpt-4o', input: 'Tell me about replay.', temperature: 0 });
  const stream = openai.responses.stream({ model: 'gpt-4o', input: 'Tell me about replay.', temperature: 0 });
  const final = await stream.finalResponse();
  assert.equal(final.status, 'completed');
  assert.equal(final.output_text, plain.output_text);
  assert.ok(words(final.output_text) >= 8);
  assert.equal(final.usage.output_tokens, words(final.output_text));
});

await check('embeddings: deterministic unit vectors through the SDK (base64 by default)', async () => {
  const a = await openai.embeddings.create({ model: 'text-embedding-3-small', input: ['alpha', 'beta'] });
  const b = await openai.embeddings.create({ model: 'text-embedding-3-small', input: 'alpha' });
  assert.equal(a.data.length, 2);
  assert.equal(a.data[0].embedding.length, 256);
  assert.deepEqual(b.data[0].embedding, a.data[0].embedding);
  assert.notDeepEqual(a.data[1].embedding, a.data[0].embedding);
  const norm = Math.sqrt(a.data[0].embedding.reduce((s, x) => s + x * x, 0));
  assert.ok(Math.abs(norm - 1) < 1e-4, `norm ${norm}`);
});

await check('anthropic, streaming tool_use: finalMessage() has the tool name and parsed input', async () => {
  const msg = await anthropic.messages
    .stream({
      model: 'claude-sonnet-4-6', max_tokens: 200, temperature: 0,
      messages: [{ role: 'user', content: 'Check the weather with the get_weather tool.' }],
      tools: [{ name: 'get_weather', description: 'weather', input_schema: weatherTool.function.parameters }],
    })
    .finalMessage();
  assert.equal(msg.stop_reason, 'tool_use');
  const block = msg.content.find((b) => b.type === 'tool_use');
  assert.equal(block.name, 'get_weather');
  assert.equal(typeof block.input.city, 'string');
  assert.match(block.id, /^toolu_/);
  assert.ok(msg.usage.output_tokens > 0);
});

await check('anthropic, streaming text equals non-streaming at temperature 0', async () => {
  const params = { model: 'claude-sonnet-4-6', max_tokens: 200, temperature: 0, system: 'Be brief.',
    messages: [{ role: 'user', content: 'What is a trace?' }] };
  const plain = await anthropic.messages.create(params);
  const streamed = await anthropic.messages.stream(params).finalMessage();
  assert.equal(plain.stop_reason, 'end_turn');
  assert.deepEqual(streamed.content, plain.content);
  assert.equal(streamed.usage.output_tokens, words(plain.content[0].text));
  const short = await anthropic.messages.create({ ...params, max_tokens: 2 });
  assert.equal(short.stop_reason, 'max_tokens');
});

await check('errors arrive as the SDKs\' typed errors', async () => {
  await assert.rejects(openai.chat.completions.create({ model: 'no-such-model', messages: ask }),
    (e) => e instanceof OpenAI.NotFoundError && e.code === 'model_not_found');
  await assert.rejects(openai.chat.completions.create({ model: 'gpt-4o' }),
    (e) => e instanceof OpenAI.BadRequestError && e.param === 'messages');
  await assert.rejects(anthropic.messages.create({ model: 'claude-sonnet-4-6', messages: [{ role: 'user', content: 'x' }] }),
    (e) => e instanceof Anthropic.BadRequestError && /max_tokens/.test(e.message));
  const noKey = await fetch(`${base}/v1/chat/completions`, { method: 'POST', body: '{}' });
  assert.equal(noKey.status, 401);
  assert.equal((await noKey.json()).error.type, 'invalid_request_error');
});

await check('model aliases and snapshots are served, and listed in each SDK\'s shape', async () => {
  const short = [{ role: 'user', content: 'hi' }];
  for (const model of ['gpt-4o-2024-08-06', 'chatgpt-4o-latest', 'gpt-4.1-nano', 'o4-mini']) {
    const r = await openai.chat.completions.create({ model, messages: short, temperature: 0 });
    assert.equal(r.model, model);
  }
  for (const model of ['claude-3-5-haiku-latest', 'claude-3-7-sonnet-20250219', 'claude-sonnet-4-0']) {
    const r = await anthropic.messages.create({ model, max_tokens: 16, messages: short });
    assert.equal(r.model, model);
  }
  const listed = [];
  for await (const m of openai.models.list()) listed.push(m.id);
  assert.ok(listed.includes('gpt-4o-mini') && listed.includes('claude-3-5-haiku-latest'), listed.join(' '));
  const claude = [];
  for await (const m of anthropic.models.list()) claude.push(m.id);
  assert.ok(claude.includes('claude-3-5-haiku-latest'), claude.join(' '));
  assert.ok(claude.every((id) => id.startsWith('claude-')), 'Anthropic lists its own models');
  // The control: a name neither provider has is a 404, unless the sim
  // serves any name (--any-model, or the header for one request).
  await assert.rejects(anthropic.messages.create({ model: 'claude-9-nonesuch', max_tokens: 16, messages: short }),
    (e) => e instanceof Anthropic.NotFoundError);
  const own = await openai.chat.completions.create({ model: 'my-finetune-v3', messages: short },
    { headers: { 'x-sim-any-model': '1' } });
  assert.equal(own.model, 'my-finetune-v3');
});

console.log(`${checks} passed, 0 failed`);
