// The billing desk's escalation agent, as a service runs it for each ticket,
// written with the official openai SDK: it reads the account from the
// account service, has the model draft the notice to the customer, and acts:
// an overdue account is closed unless it has a grace period. Behind `retrace
// proxy` one ticket is one run: its model calls and its calls to the account
// service name the ticket in x-retrace-run.
//   OPENAI_BASE_URL=... ACCOUNTS_URL=... node agent.mjs TICKET ACCOUNT
import OpenAI from 'openai';

const [ticket, account] = process.argv.slice(2);
const headers = { 'x-retrace-run': ticket };
const client = new OpenAI({ defaultHeaders: headers });

async function accounts(method, path) {
  const response = await fetch(process.env.ACCOUNTS_URL + path, { method, headers });
  if (!response.ok) throw new Error(`account service: ${response.status} for ${method} ${path}`);
  return response.json();
}

const state = await accounts('GET', `/accounts/${account}`);
const draft = await client.chat.completions.create({
  model: 'gpt-4o-mini',
  temperature: 0,
  messages: [
    { role: 'system', content: 'You write short, kind notices to customers about their accounts.' },
    { role: 'user', content: `Account ${account} is ${state.status}. Draft the notice.` },
  ],
});
const action = state.status === 'overdue' && !state.grace_period ? 'close' : 'grace';
const done = await accounts('POST', `/accounts/${account}/${action}`);
console.log(`${ticket}: account ${account} ${done.result}`);
console.log(`notice: ${draft.choices[0].message.content.slice(0, 60)}`);
