// Two identical chat requests at once, plain and streamed, through the
// official SDK: the answers are printed in the order the program issued them.
import OpenAI from 'openai';
const openai = new OpenAI({ maxRetries: 0 });
const ask = { model: 'gpt-4o', temperature: 0.9, messages: [{ role: 'user', content: 'pick a word' }] };
const plain = await Promise.all([1, 2].map(() => openai.chat.completions.create(ask)));
const streamed = await Promise.all([1, 2].map(() => openai.chat.completions.stream(ask).finalChatCompletion()));
console.log([...plain, ...streamed].map((r) => r.choices[0].message.content.slice(0, 24)).join(' | '));
