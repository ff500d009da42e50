// Client matrix: the official `openai` SDK as an application uses it. Chat,
// a chat stream, parallel tool calls and a multi-round tool loop, the same
// tools one at a time (parallel_tool_calls false) over streams, a
// Responses API stream whose function call is fed back by its item id and
// call_id, structured output with `chat.completions.parse` and a zod schema,
// and embeddings. Prints only what the model said (no ids, times, latencies).
//   OPENAI_BASE_URL, OPENAI_API_KEY: where to send it (read by the SDK).
//   TOPIC: one word of the prompts (default Paris), to make a replay diverge.
import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import Ajv from 'ajv';
import { check, section, topic } from './common.mjs';

const client = new OpenAI({ maxRetries: 0 });
const model = 'gpt-4o-mini';

const fn = (name, description, properties, required = Object.keys(properties)) => ({
  type: 'function',
  function: { name, description, parameters: { type: 'object', properties, required, additionalProperties: false } },
});
const tools = [
  fn('get_weather', 'Current weather in a city', { city: { type: 'string' } }),
  fn('get_time', 'Local time in a city', { city: { type: 'string' } }),
  fn('convert_units', 'Convert a temperature', {
    value: { type: 'number' }, unit: { type: 'string', enum: ['C', 'F'] },
  }),
];
// The application's side of each tool: deterministic answers.
const runTool = (name, args) => ({
  get_weather: () => ({ city: args.city, temp_c: 21, sky: 'clear' }),
  get_time: () => ({ city: args.city, time: '14:05' }),
  convert_units: () => ({ value: 69.8, unit: 'F' }),
})[name]();

// 1. Plain chat.
await section('chat', async () => {
  const res = await client.chat.completions.create({
    model, temperature: 0,
    messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: `Name one landmark in ${topic}.` }],
  });
  check(res.choices[0].message.content, 'chat answered with text');
  console.log(`chat: [${res.choices[0].finish_reason}] ${res.choices[0].message.content}`);
});

// 2. Chat stream, assembled from the deltas.
await section('chat stream', async () => {
  const stream = await client.chat.completions.create({
    model, temperature: 0, stream: true, stream_options: { include_usage: true },
    messages: [{ role: 'user', content: `Describe ${topic} in one sentence.` }],
  });
  let text = '';
  let usage;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? '';
    if (chunk.usage) usage = chunk.usage;
  }
  check(text && usage, 'the stream carried text and usage');
  console.log(`chat stream: ${text} (${usage.completion_tokens} tokens)`);
});

// 3. Tools: two tools named in one step give two calls in one answer (run
// in parallel); the loop runs the tools until the model answers in text.
await section('tools', async () => {
  const messages = [{ role: 'user', content: `Use get_weather and get_time for ${topic}, then convert_units.` }];
  const rounds = [];
  for (let round = 1; round <= 5; round += 1) {
    const res = await client.chat.completions.create({ model, temperature: 0, messages, tools });
    const msg = res.choices[0].message;
    messages.push(msg);
    if (!msg.tool_calls?.length) {
      console.log(`tools round ${round}: [${res.choices[0].finish_reason}] ${msg.content}`);
      break;
    }
    rounds.push(msg.tool_calls.map((c) => c.function.name).join('+'));
    const calls = msg.tool_calls.map((c) => `${c.function.name}(${c.function.arguments})`);
    console.log(`tools round ${round}: [${res.choices[0].finish_reason}] ${calls.join(' ')}`);
    const results = await Promise.all(msg.tool_calls.map(async (c) => runTool(c.function.name, JSON.parse(c.function.arguments))));
    msg.tool_calls.forEach((c, i) => messages.push({ role: 'tool', tool_call_id: c.id, content: JSON.stringify(results[i]) }));
  }
  check(rounds.join(' ') === 'get_weather+get_time convert_units', `tool rounds: ${rounds.join(' ')}`);
});

// 3b. The same tools with parallel_tool_calls false, streamed: one call per
// answer, its arguments assembled from the stream's deltas.
await section('tools sequential', async () => {
  const messages = [{ role: 'user', content: `Use get_weather and get_time for ${topic}.` }];
  const rounds = [];
  for (let round = 1; round <= 5; round += 1) {
    const res = await client.chat.completions
      .stream({ model, temperature: 0, messages, tools, parallel_tool_calls: false })
      .finalChatCompletion();
    const msg = res.choices[0].message;
    messages.push(msg);
    if (!msg.tool_calls?.length) {
      console.log(`sequential round ${round}: [${res.choices[0].finish_reason}] ${msg.content}`);
      break;
    }
    rounds.push(msg.tool_calls.map((c) => c.function.name).join('+'));
    console.log(`sequential round ${round}: [${res.choices[0].finish_reason}] ${msg.tool_calls.map((c) => `${c.function.name}(${c.function.arguments})`).join(' ')}`);
    for (const c of msg.tool_calls) {
      messages.push({ role: 'tool', tool_call_id: c.id, content: JSON.stringify(runTool(c.function.name, JSON.parse(c.function.arguments))) });
    }
  }
  check(rounds.join(' ') === 'get_weather get_time', `sequential rounds: ${rounds.join(' ')}`);
});

// 4. Responses API stream with a function tool; the function call goes back
// as an input item (its id and call_id) with the function's output.
await section('responses', async () => {
  const lookup = {
    type: 'function', name: 'lookup_city', description: 'Facts about a city', strict: true,
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  };
  const input = [{ role: 'user', content: `Use lookup_city for ${topic}.` }];
  const first = await client.responses.stream({ model, temperature: 0, input, tools: [lookup] }).finalResponse();
  const call = first.output.find((item) => item.type === 'function_call');
  check(call, `a function_call in the Responses output: ${JSON.stringify(first.output)}`);
  console.log(`responses call: ${call.name}(${call.arguments}) status=${first.status}`);
  input.push(
    { type: 'function_call', id: call.id, call_id: call.call_id, name: call.name, arguments: call.arguments },
    { type: 'function_call_output', call_id: call.call_id, output: JSON.stringify({ population: 2100000 }) },
  );
  const second = await client.responses.stream({ model, temperature: 0, input, tools: [lookup] }).finalResponse();
  check(second.output_text, 'the Responses answer after the function output is text');
  console.log(`responses answer: ${second.output_text}`);
});

// 5. Structured output: a zod schema with a nested object, an array, enums
// and required fields; the SDK sends it as response_format json_schema and
// parses the answer. The parsed object is also checked, with ajv, against
// the JSON Schema that went out.
await section('parse', async () => {
  const Trip = z.object({
    city: z.string(),
    country: z.object({ name: z.string(), code: z.string() }),
    season: z.enum(['spring', 'summer', 'autumn', 'winter']),
    days: z.number().int(),
    stops: z.array(z.object({ name: z.string(), kind: z.enum(['museum', 'park', 'restaurant']) })),
  });
  const format = zodResponseFormat(Trip, 'trip');
  const res = await client.chat.completions.parse({
    model: 'gpt-4o', temperature: 0, response_format: format,
    messages: [{ role: 'user', content: `Plan a short trip to ${topic}.` }],
  });
  const trip = res.choices[0].message.parsed;
  const validate = new Ajv({ strict: false }).compile(format.json_schema.schema);
  check(trip && validate(trip), `the parsed object matches the schema: ${JSON.stringify(validate.errors)}`);
  console.log(`parse: city=${JSON.stringify(trip.city)} country=${JSON.stringify(trip.country)} season=${trip.season} days=${trip.days} stops=${JSON.stringify(trip.stops)}`);
});

// 6. Embeddings.
await section('embeddings', async () => {
  const res = await client.embeddings.create({ model: 'text-embedding-3-small', input: [topic, `${topic} at night`] });
  check(res.data.length === 2, 'two vectors');
  console.log(`embeddings: ${res.data.length} x ${res.data[0].embedding.length} ${res.data[0].embedding.slice(0, 3).map((x) => x.toFixed(4)).join(' ')}`);
});
