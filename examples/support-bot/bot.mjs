// A small support agent, written the way anyone would with the official
// openai SDK: it reads a ticket, lets the model look the order up with a
// tool, and streams the answer. It knows nothing about retrace; pointing
// OPENAI_BASE_URL somewhere else is all it takes to record or replay it.
//   node bot.mjs ["ticket text"]
import { readFileSync } from 'node:fs';
import OpenAI from 'openai';

const client = new OpenAI();
const model = process.env.MODEL ?? 'gpt-4o-mini';
const system = readFileSync(new URL('./system-prompt.txt', import.meta.url), 'utf8').trim();
const ticket = process.argv[2] ?? 'Order 1042 arrived damaged. Can I get a refund? Please use lookup_order.';

const orders = { 1042: { status: 'delivered', damaged_on_arrival: true, refundable: true } };
const tools = [{
  type: 'function',
  function: {
    name: 'lookup_order',
    description: 'Find an order by its number',
    parameters: { type: 'object', properties: { order_id: { type: 'string' } }, required: ['order_id'] },
  },
}];
function lookupOrder({ order_id }) {
  return orders[order_id] ?? { status: 'unknown order', order_id };
}

const messages = [{ role: 'system', content: system }, { role: 'user', content: ticket }];
const first = await client.chat.completions.create({ model, temperature: 0.7, messages, tools });
const reply = first.choices[0].message;
messages.push(reply);
for (const call of reply.tool_calls ?? []) {
  const args = JSON.parse(call.function.arguments);
  const result = lookupOrder(args);
  console.log(`[tool] ${call.function.name}(${call.function.arguments}) -> ${JSON.stringify(result)}`);
  messages.push({ role: 'tool', tool_call_id: call.id, content: JSON.stringify(result) });
}

const stream = client.chat.completions.stream({
  model, temperature: 0.7, messages, tools, stream_options: { include_usage: true },
});
stream.on('content', (delta) => process.stdout.write(delta));
const final = await stream.finalChatCompletion();
console.log(`\n[${final.usage?.total_tokens ?? '?'} tokens, ${final.choices[0].finish_reason}]`);
