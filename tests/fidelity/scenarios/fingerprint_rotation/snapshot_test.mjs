// A snapshot test of the release-notes writer, as a team might keep one:
// temperature 0 and a fixed seed, "so the answer is stable", and the first
// answer kept in __snapshots__/ (written when absent, as snapshot tools do)
// to compare every later run with. The planted bug is the assumption:
// the provider rotates its backend (a new system_fingerprint) and the
// same request gets another answer, with nothing in the program changed.
import fs from 'node:fs';
import OpenAI from 'openai';

const client = new OpenAI({ maxRetries: 0 });
const completion = await client.chat.completions.create({
  model: 'gpt-4o',
  temperature: 0,
  seed: 7,
  messages: [
    { role: 'system', content: 'You write one-line release notes.' },
    { role: 'user', content: 'Summarise: replay no longer needs credentials.' },
  ],
});
const answer = completion.choices[0].message.content;
const snapshot = '__snapshots__/release_notes.txt';
if (!fs.existsSync(snapshot)) {
  fs.mkdirSync('__snapshots__', { recursive: true });
  fs.writeFileSync(snapshot, answer);
  console.log(`snapshot written (${completion.system_fingerprint})`);
} else if (fs.readFileSync(snapshot, 'utf8') !== answer) {
  console.log(`snapshot mismatch (${completion.system_fingerprint}): ${answer.slice(0, 50)}`);
  process.exit(1);
} else {
  console.log('snapshot matches');
}
