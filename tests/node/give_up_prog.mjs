// A program that gives up on an answer, as users' programs do, through the
// official SDK. `abort`: reads a stream and aborts it (AbortController)
// 500 ms after its first chunk, with frames 200 ms apart. `timeout`: asks
// with the SDK's 300 ms timeout and one retry for an answer that takes
// longer. `whole`: reads the same stream to its end (the control).
import OpenAI from 'openai';

const mode = process.argv[2];
const ask = { model: 'gpt-4o', messages: [{ role: 'user', content: 'tell me a long story' }] };
if (mode === 'timeout') {
  const openai = new OpenAI({ maxRetries: 1, timeout: 300 });
  try {
    const r = await openai.chat.completions.create(ask);
    console.log(`answered: ${r.choices[0].message.content.slice(0, 24)}`);
  } catch (e) {
    console.log(`gave up: ${e.constructor.name}`);
  }
} else {
  const openai = new OpenAI({ maxRetries: 0 });
  const controller = new AbortController();
  const stream = await openai.chat.completions.create({ ...ask, stream: true }, { signal: controller.signal });
  let chunks = 0;
  try {
    for await (const chunk of stream) {
      if (++chunks === 1 && mode === 'abort') setTimeout(() => controller.abort(), 500);
    }
    console.log(controller.signal.aborted ? `aborted after ${chunks} chunks` : `read ${chunks} chunks, the whole stream`);
  } catch (e) {
    console.log(`aborted after ${chunks} chunks: ${e.constructor.name}`);
  }
}
