// Client matrix: the Vercel AI SDK (`ai`, `@ai-sdk/openai`,
// `@ai-sdk/anthropic`) as an application uses it: generateText and
// streamText, multi-step tool loops (stopWhen) on both the Chat Completions
// model (openai.chat) and the Responses model (openai.responses, the
// provider's default; also streamed), structured objects (generateObject on Responses,
// generateText with Output.object on Chat), and the Anthropic provider
// (generateText and streamText with a tool). Prints only what the models said.
//   OPENAI_BASE_URL, OPENAI_API_KEY, ANTHROPIC_BASE_URL, ANTHROPIC_API_KEY:
//   read by the providers. The AI SDK's Anthropic provider wants a base URL
//   that ends in /v1 (it appends /messages), e.g. http://127.0.0.1:PORT/v1.
//   TOPIC: one word of the prompts (default Paris), to make a replay diverge.
import { generateObject, generateText, Output, stepCountIs, streamText, tool } from 'ai';
import { openai } from '@ai-sdk/openai';
import { anthropic } from '@ai-sdk/anthropic';
import { z } from 'zod';
import { check, section, topic } from './common.mjs';

const tools = {
  get_weather: tool({
    description: 'Current weather in a city', inputSchema: z.object({ city: z.string() }),
    execute: async ({ city }) => ({ city, temp_c: 21, sky: 'clear' }),
  }),
  get_time: tool({
    description: 'Local time in a city', inputSchema: z.object({ city: z.string() }),
    execute: async ({ city }) => ({ city, time: '14:05' }),
  }),
  convert_units: tool({
    description: 'Convert a temperature', inputSchema: z.object({ value: z.number(), unit: z.enum(['C', 'F']) }),
    execute: async () => ({ value: 69.8, unit: 'F' }),
  }),
};
const common = { temperature: 0, maxRetries: 0 };
const describeSteps = (steps) => steps.map((s) => s.toolCalls.map((c) => c.toolName).join('+') || 'text').join(' ');
const printSteps = (label, steps) => steps.forEach((s, i) => {
  const calls = s.toolCalls.map((c) => `${c.toolName}(${JSON.stringify(c.input)})`).join(' ');
  console.log(`${label} step ${i + 1}: [${s.finishReason}] ${calls || s.text}`);
});
const Trip = z.object({
  city: z.string(),
  country: z.object({ name: z.string(), code: z.string() }),
  season: z.enum(['spring', 'summer', 'autumn', 'winter']),
  stops: z.array(z.object({ name: z.string(), kind: z.enum(['museum', 'park', 'restaurant']) })),
});
const showTrip = (t) => `city=${JSON.stringify(t.city)} country=${JSON.stringify(t.country)} season=${t.season} stops=${JSON.stringify(t.stops)}`;

// The two OpenAI APIs, the same program.
for (const [api, model] of [['chat', openai.chat('gpt-4o-mini')], ['responses', openai.responses('gpt-4o-mini')]]) {
  await section(`${api} generateText`, async () => {
    const { text, finishReason } = await generateText({
      model, ...common, system: 'Be brief.', prompt: `Name one landmark in ${topic}.`,
    });
    check(text, 'a text answer');
    console.log(`${api} generateText: [${finishReason}] ${text}`);
  });

  await section(`${api} streamText`, async () => {
    const result = streamText({ model, ...common, prompt: `Describe ${topic} in one sentence.` });
    let text = '';
    for await (const delta of result.textStream) text += delta;
    check(text && text === (await result.text), 'the deltas add up to the text');
    console.log(`${api} streamText: ${text}`);
  });

  await section(`${api} tools`, async () => {
    const { steps, text } = await generateText({
      model, ...common, tools, stopWhen: stepCountIs(5),
      prompt: `Use get_weather and get_time for ${topic}, then convert_units.`,
    });
    printSteps(`${api} tools`, steps);
    check(describeSteps(steps) === 'get_weather+get_time convert_units text', `steps: ${describeSteps(steps)}`);
    check(text, 'the last step is text');
  });
}

// A chat UI's path: streamText over the Responses API with a tool loop
// (function calls arrive as streamed function_call items).
await section('responses streamText tools', async () => {
  const result = streamText({
    model: openai('gpt-4o-mini'), ...common, tools, stopWhen: stepCountIs(5),
    prompt: `Use get_weather and get_time for ${topic}, then convert_units.`,
  });
  let text = '';
  for await (const delta of result.textStream) text += delta;
  const steps = await result.steps;
  printSteps('responses streamText tools', steps);
  check(describeSteps(steps) === 'get_weather+get_time convert_units text', `steps: ${describeSteps(steps)}`);
  check(text && text === (await result.text), 'streamed text');
});

await section('responses generateObject', async () => {
  const { object } = await generateObject({
    model: openai('gpt-4o'), ...common, schema: Trip, schemaName: 'trip', prompt: `Plan a short trip to ${topic}.`,
  });
  check(Trip.safeParse(object).success, 'the object matches the schema');
  console.log(`responses generateObject: ${showTrip(object)}`);
});

await section('chat Output.object', async () => {
  const { output } = await generateText({
    model: openai.chat('gpt-4o'), ...common, output: Output.object({ schema: Trip, name: 'trip' }),
    prompt: `Plan a short trip to ${topic}.`,
  });
  check(Trip.safeParse(output).success, 'the object matches the schema');
  console.log(`chat Output.object: ${showTrip(output)}`);
});

const claude = anthropic('claude-3-5-haiku-latest');

await section('anthropic generateText', async () => {
  const { steps, text } = await generateText({
    model: claude, ...common, maxOutputTokens: 1024, tools: { get_weather: tools.get_weather }, stopWhen: stepCountIs(3),
    prompt: `Use get_weather for ${topic}.`,
  });
  printSteps('anthropic generateText', steps);
  check(describeSteps(steps) === 'get_weather text', `steps: ${describeSteps(steps)}`);
  check(text, 'a final text');
});

await section('anthropic streamText', async () => {
  const result = streamText({
    model: claude, ...common, maxOutputTokens: 1024, tools, stopWhen: stepCountIs(5),
    prompt: `Use get_weather and get_time for ${topic}, then convert_units.`,
  });
  let text = '';
  for await (const delta of result.textStream) text += delta;
  const steps = await result.steps;
  printSteps('anthropic streamText', steps);
  check(describeSteps(steps) === 'get_weather+get_time convert_units text', `steps: ${describeSteps(steps)}`);
  check(text && text === (await result.text), 'streamed text');
});
