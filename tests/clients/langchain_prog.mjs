// Client matrix: LangChain (`@langchain/openai`, `@langchain/core`,
// `langchain`) as an application uses it: invoke, stream, a bindTools round
// trip, an agent (createAgent) with several tools over several rounds, on
// Chat Completions and on the Responses API,
// withStructuredOutput with its default method, and embeddings. Prints only
// what the model said.
//   OPENAI_BASE_URL, OPENAI_API_KEY: where to send it (ChatOpenAI and
//   OpenAIEmbeddings read them; `configuration: { baseURL }` would too).
//   TOPIC: one word of the prompts (default Paris), to make a replay diverge.
import { ChatOpenAI, OpenAIEmbeddings } from '@langchain/openai';
import { HumanMessage, SystemMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { createAgent } from 'langchain';
import { z } from 'zod';
import { check, section, topic } from './common.mjs';

const chat = new ChatOpenAI({ model: 'gpt-4o-mini', temperature: 0, maxRetries: 0 });

const getWeather = tool(async ({ city }) => JSON.stringify({ city, temp_c: 21, sky: 'clear' }), {
  name: 'get_weather', description: 'Current weather in a city', schema: z.object({ city: z.string() }),
});
const getTime = tool(async ({ city }) => JSON.stringify({ city, time: '14:05' }), {
  name: 'get_time', description: 'Local time in a city', schema: z.object({ city: z.string() }),
});
const convertUnits = tool(async () => JSON.stringify({ value: 69.8, unit: 'F' }), {
  name: 'convert_units', description: 'Convert a temperature',
  schema: z.object({ value: z.number(), unit: z.enum(['C', 'F']) }),
});
const summarize = tool(async ({ text }) => `summary of ${text.split(' ').length} words`, {
  name: 'summarize', description: 'Summarize notes', schema: z.object({ text: z.string() }),
});
const describeCalls = (msg) => msg.tool_calls.map((c) => `${c.name}(${JSON.stringify(c.args)})`).join(' ');

await section('invoke', async () => {
  const res = await chat.invoke([new SystemMessage('Be brief.'), new HumanMessage(`Name one landmark in ${topic}.`)]);
  check(res.content, 'a text answer');
  console.log(`invoke: ${res.content}`);
});

await section('stream', async () => {
  let text = '';
  for await (const chunk of await chat.stream(`Describe ${topic} in one sentence.`)) text += chunk.content;
  check(text, 'streamed text');
  console.log(`stream: ${text}`);
});

await section('bindTools', async () => {
  const withTools = chat.bindTools([getWeather]);
  const messages = [new HumanMessage(`Use get_weather for ${topic}.`)];
  const first = await withTools.invoke(messages);
  check(first.tool_calls?.length === 1, `one tool call: ${JSON.stringify(first.tool_calls)}`);
  console.log(`bindTools call: ${describeCalls(first)}`);
  messages.push(first, await getWeather.invoke(first.tool_calls[0]));
  const second = await withTools.invoke(messages);
  check(second.content && !second.tool_calls?.length, 'a text answer after the tool result');
  console.log(`bindTools answer: ${second.content}`);
});

await section('agent', async () => {
  const agent = createAgent({
    model: chat, tools: [getWeather, getTime, convertUnits, summarize],
    systemPrompt: 'You are a travel assistant. Use the tools you are given.',
  });
  const { messages } = await agent.invoke({
    messages: [{ role: 'user', content: `Use get_weather and get_time for ${topic}, then convert_units, then summarize.` }],
  });
  const rounds = [];
  for (const m of messages) {
    if (m.type === 'ai' && m.tool_calls?.length) {
      rounds.push(m.tool_calls.map((c) => c.name).join('+'));
      console.log(`agent calls: ${describeCalls(m)}`);
    } else if (m.type === 'tool') {
      console.log(`agent tool ${m.name}: ${m.content}`);
    }
  }
  const last = messages.at(-1);
  console.log(`agent answer: ${last.content}`);
  check(rounds.join(' ') === 'get_weather+get_time convert_units summarize', `agent rounds: ${rounds.join(' ')}`);
  check(last.type === 'ai' && last.content, 'the agent ends with text');
});

// The same kind of agent on the Responses API (what createAgent makes of a
// model string such as "openai:gpt-4o-mini", here at temperature 0).
await section('agent responses', async () => {
  const model = new ChatOpenAI({ model: 'gpt-4o-mini', temperature: 0, maxRetries: 0, useResponsesApi: true });
  const agent = createAgent({ model, tools: [getWeather, getTime] });
  const { messages } = await agent.invoke({
    messages: [{ role: 'user', content: `Use get_weather and get_time for ${topic}, then get_weather.` }],
  });
  const rounds = [];
  for (const m of messages) {
    if (m.type === 'ai' && m.tool_calls?.length) {
      rounds.push(m.tool_calls.map((c) => c.name).join('+'));
      console.log(`agent responses calls: ${describeCalls(m)}`);
    }
  }
  const last = messages.at(-1);
  console.log(`agent responses answer: ${last.text}`);
  check(rounds.join(' ') === 'get_weather+get_time get_weather', `agent rounds: ${rounds.join(' ')}`);
  check(last.type === 'ai' && last.text, 'the agent ends with text');
});

await section('structured', async () => {
  const Trip = z.object({
    city: z.string().describe('The city'),
    country: z.object({ name: z.string(), code: z.string() }),
    season: z.enum(['spring', 'summer', 'autumn', 'winter']),
    stops: z.array(z.object({ name: z.string(), kind: z.enum(['museum', 'park', 'restaurant']) })),
  }).describe('A short trip');
  const trip = await chat.withStructuredOutput(Trip, { name: 'trip' }).invoke(`Plan a short trip to ${topic}.`);
  check(Trip.safeParse(trip).success, `the object matches the schema: ${JSON.stringify(trip)}`);
  console.log(`structured: city=${JSON.stringify(trip.city)} country=${JSON.stringify(trip.country)} season=${trip.season} stops=${JSON.stringify(trip.stops)}`);
});

await section('embeddings', async () => {
  const embeddings = new OpenAIEmbeddings({ model: 'text-embedding-3-small', maxRetries: 0 });
  const docs = await embeddings.embedDocuments([topic, `${topic} at night`]);
  const query = await embeddings.embedQuery(topic);
  check(docs.length === 2 && query.length === docs[0].length, 'two document vectors and a query vector');
  console.log(`embeddings: ${docs.length} x ${docs[0].length} ${docs[0].slice(0, 3).map((x) => x.toFixed(4)).join(' ')} query=${query.slice(0, 3).map((x) => x.toFixed(4)).join(' ')}`);
});
