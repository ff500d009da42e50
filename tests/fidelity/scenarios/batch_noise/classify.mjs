// Labels a support conversation, with a self-consistency guard: the same
// request at temperature 0 is sent twice and the label is accepted only
// when both answers agree ("temperature 0 is deterministic, so a mismatch
// means something is badly wrong"). The planted bug is that assumption:
// the provider's batching makes a temperature-0 answer differ now and
// then, under one system_fingerprint, and the guard fails the run.
import OpenAI from 'openai';

const client = new OpenAI({ maxRetries: 0 });
const request = {
  model: 'gpt-4o-mini',
  temperature: 0,
  messages: [
    { role: 'system', content: 'Label the conversation: billing, bug, feature, or other.' },
    { role: 'user', content: 'The export button does nothing when I click it.' },
  ],
};
const first = await client.chat.completions.create(request);
const second = await client.chat.completions.create(request);
const a = first.choices[0].message.content, b = second.choices[0].message.content;
if (a !== b) {
  console.log(`inconsistent labels at temperature 0 (${first.system_fingerprint}, ${second.system_fingerprint})`);
  process.exit(1);
}
console.log(`label: ${a.split(' ')[0]}`);
