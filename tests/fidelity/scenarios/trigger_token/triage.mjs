// Triage a support ticket: the model picks a queue for it.
//   node triage.mjs "ticket text"
// The request body is built with a template string, as a quick script
// often is. The planted bug: the ticket is pasted into the JSON unescaped,
// so a ticket that quotes something ("disk full") makes the body invalid
// JSON; the provider answers 400 and the triage fails. Every other ticket
// works, so rerunning a harmless one never shows it.
const ticket = process.argv[2] ?? '';
const body = `{"model": "gpt-4o-mini", "temperature": 0, "messages": [
  {"role": "system", "content": "Route the ticket to one of: hardware, network, accounts."},
  {"role": "user", "content": "${ticket}"}]}`;
const res = await fetch(`${process.env.OPENAI_BASE_URL}/chat/completions`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: `Bearer ${process.env.OPENAI_API_KEY}` },
  body,
});
if (!res.ok) {
  console.log(`triage failed: ${res.status} ${(await res.text()).slice(0, 80)}`);
  process.exit(1);
}
const answer = (await res.json()).choices[0].message.content;
console.log(`queue: ${answer.split(' ').slice(0, 3).join(' ')}`);
