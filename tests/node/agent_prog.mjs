// A small agent as a user would write it with the official SDKs: plain and
// streamed chat at a temperature above 0 (so a live rerun would differ), a
// tool call round trip, a Responses API stream, embeddings, three
// concurrent streams, and an Anthropic stream that calls a tool. It prints
// what the models said; record and replay must print the same bytes.
//   PROMPT overrides the first question (to make a replay diverge).
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';

const openai = new OpenAI({ maxRetries: 2 });
const anthropic = new Anthropic({ maxRetries: 2 });
const model = 'gpt-4o';
const weather = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

const question = process.env.PROMPT ?? 'What makes a run reproducible?';
const plain = await openai.chat.completions.create({
  model, temperature: 0.9, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: question }],
});
console.log('plain:', plain.choices[0].message.content);

const again = await openai.chat.completions.create({
  model, temperature: 0.9, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: question }],
});
console.log('same question again:', again.choices[0].message.content);

const streamed = await openai.chat.completions
  .stream({ model, temperature: 0.9, messages: [{ role: 'user', content: 'Stream me a sentence.' }] })
  .finalChatCompletion();
console.log('stream:', streamed.choices[0].message.content);

const messages = [{ role: 'user', content: 'Use get_weather for Paris.' }];
const call = await openai.chat.completions.create({ model, temperature: 0.9, messages, tools: [weather] });
const toolCall = call.choices[0].message.tool_calls[0];
console.log('tool call:', toolCall.function.name, toolCall.function.arguments);
messages.push(call.choices[0].message, { role: 'tool', tool_call_id: toolCall.id, content: '{"temp_c": 21}' });
const answer = await openai.chat.completions.create({ model, temperature: 0.9, messages, tools: [weather] });
console.log('after tool:', answer.choices[0].message.content);

const response = await openai.responses
  .stream({ model, temperature: 0.9, input: 'Summarize replay in a line.' })
  .finalResponse();
console.log('responses:', response.output_text);

const emb = await openai.embeddings.create({ model: 'text-embedding-3-small', input: ['alpha', 'beta'] });
console.log('embeddings:', emb.data.length, emb.data[0].embedding.length, emb.data[0].embedding.slice(0, 3).map((x) => x.toFixed(4)).join(' '));

const three = await Promise.all(['one', 'two', 'three'].map((q) =>
  openai.chat.completions.stream({ model, temperature: 0.9, messages: [{ role: 'user', content: `Topic ${q}.` }] })
    .finalChatCompletion()));
console.log('concurrent:', three.map((r) => r.choices[0].message.content.split(' ').slice(0, 3).join(' ')).join(' | '));

const msg = await anthropic.messages.stream({
  model: 'claude-sonnet-4-6', max_tokens: 200, temperature: 0.9,
  system: 'You call tools when asked.',
  messages: [{ role: 'user', content: 'Use the get_weather tool for Oslo.' }],
  tools: [{ name: 'get_weather', description: 'Current weather', input_schema: weather.function.parameters }],
}).finalMessage();
const use = msg.content.find((b) => b.type === 'tool_use');
console.log('anthropic:', msg.stop_reason, use.name, JSON.stringify(use.input));
