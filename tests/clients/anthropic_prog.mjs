// Client matrix: the official `@anthropic-ai/sdk` as an application uses it.
// A multi-turn conversation: a plain message, then streamed turns in which
// the model calls tools (two in one turn, then one), the tool results go
// back as tool_result blocks, and the model ends with text; then the same
// tools with parallel tool use disabled. Prints only what the model said.
//   ANTHROPIC_BASE_URL, ANTHROPIC_API_KEY: where to send it (read by the SDK).
//   TOPIC: one word of the prompts (default Paris), to make a replay diverge.
import Anthropic from '@anthropic-ai/sdk';
import { check, section, topic } from './common.mjs';

const client = new Anthropic({ maxRetries: 0 });
const model = 'claude-3-5-haiku-latest';
const system = 'You are a travel assistant. Use the tools you are given.';
const tool = (name, description, properties) => ({
  name, description, input_schema: { type: 'object', properties, required: Object.keys(properties) },
});
const tools = [
  tool('get_weather', 'Current weather in a city', { city: { type: 'string' } }),
  tool('get_time', 'Local time in a city', { city: { type: 'string' } }),
  tool('convert_units', 'Convert a temperature', { value: { type: 'number' }, unit: { type: 'string', enum: ['C', 'F'] } }),
];
const runTool = (name, input) => ({
  get_weather: () => ({ city: input.city, temp_c: 21, sky: 'clear' }),
  get_time: () => ({ city: input.city, time: '14:05' }),
  convert_units: () => ({ value: 69.8, unit: 'F' }),
})[name]();
const text = (msg) => msg.content.filter((b) => b.type === 'text').map((b) => b.text).join('');

const messages = [{ role: 'user', content: `I am planning a day in ${topic}. Any advice?` }];

await section('message', async () => {
  const res = await client.messages.create({ model, max_tokens: 300, temperature: 0, system, messages });
  check(text(res), 'a text answer');
  console.log(`message: [${res.stop_reason}] ${text(res)}`);
  messages.push({ role: 'assistant', content: res.content });
});

await section('tool turns', async () => {
  messages.push({ role: 'user', content: `Use get_weather and get_time for ${topic}, then convert_units.` });
  const rounds = [];
  for (let turn = 1; turn <= 5; turn += 1) {
    const stream = client.messages.stream({ model, max_tokens: 300, temperature: 0, system, messages, tools });
    let deltas = '';
    stream.on('text', (t) => { deltas += t; });
    const msg = await stream.finalMessage();
    check(deltas === text(msg), 'the text deltas add up to the final text');
    messages.push({ role: 'assistant', content: msg.content });
    const uses = msg.content.filter((b) => b.type === 'tool_use');
    if (!uses.length) {
      console.log(`turn ${turn}: [${msg.stop_reason}] ${text(msg)}`);
      check(msg.stop_reason === 'end_turn', 'the conversation ends with end_turn');
      break;
    }
    rounds.push(uses.map((u) => u.name).join('+'));
    console.log(`turn ${turn}: [${msg.stop_reason}] ${uses.map((u) => `${u.name}(${JSON.stringify(u.input)})`).join(' ')}`);
    messages.push({
      role: 'user',
      content: uses.map((u) => ({ type: 'tool_result', tool_use_id: u.id, content: JSON.stringify(runTool(u.name, u.input)) })),
    });
  }
  check(rounds.join(' ') === 'get_weather+get_time convert_units', `tool turns: ${rounds.join(' ')}`);
});

// The same tools with parallel tool use disabled: one tool_use per turn.
await section('sequential', async () => {
  const convo = [{ role: 'user', content: `Use get_weather and get_time for ${topic}.` }];
  const rounds = [];
  for (let turn = 1; turn <= 5; turn += 1) {
    const msg = await client.messages.create({
      model, max_tokens: 300, temperature: 0, system, messages: convo, tools,
      tool_choice: { type: 'auto', disable_parallel_tool_use: true },
    });
    convo.push({ role: 'assistant', content: msg.content });
    const uses = msg.content.filter((b) => b.type === 'tool_use');
    if (!uses.length) {
      console.log(`sequential turn ${turn}: [${msg.stop_reason}] ${text(msg)}`);
      break;
    }
    rounds.push(uses.map((u) => u.name).join('+'));
    console.log(`sequential turn ${turn}: [${msg.stop_reason}] ${uses.map((u) => `${u.name}(${JSON.stringify(u.input)})`).join(' ')}`);
    convo.push({
      role: 'user',
      content: uses.map((u) => ({ type: 'tool_result', tool_use_id: u.id, content: JSON.stringify(runTool(u.name, u.input)) })),
    });
  }
  check(rounds.join(' ') === 'get_weather get_time', `sequential turns: ${rounds.join(' ')}`);
});
