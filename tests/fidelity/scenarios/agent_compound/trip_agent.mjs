// A three-hop booking agent with the official openai SDK. Hop 1: the model
// picks the departure airport for "Paris" (search_flights). Hop 2: the
// program searches its schedule and lets the model book one of the
// flights found (book_flight, whose schema enumerates them). Hop 3: the
// model writes the confirmation. The planted error is small and early: at
// temperature 0.4 without a seed, hop 1 sometimes picks Beauvais (BVA),
// a Paris airport with no flights to Lisbon; hop 2 then has nothing to
// offer, the model books a flight that does not exist, and the run ends
// without a booking.
import OpenAI from 'openai';

const client = new OpenAI({ maxRetries: 0 });
const SCHEDULE = {
  CDG: [{ id: 'TP441', dep: '07:10' }, { id: 'AF1024', dep: '12:35' }],
  ORY: [{ id: 'TO3400', dep: '09:50' }],
  BVA: [],
};
const search = {
  type: 'function',
  function: {
    name: 'search_flights',
    description: 'Flights from a departure airport to Lisbon tomorrow',
    parameters: { type: 'object', properties: { origin: { type: 'string', enum: ['CDG', 'ORY', 'BVA'] } },
                  required: ['origin'] },
  },
};
const messages = [
  { role: 'system', content: 'You book flights. Use the tools.' },
  { role: 'user', content: 'Book me the earliest flight from Paris to Lisbon tomorrow.' },
];
const hop1 = await client.chat.completions.create({
  model: 'gpt-4o', temperature: 0.4, messages, tools: [search], tool_choice: 'required',
});
const call1 = hop1.choices[0].message.tool_calls[0];
const { origin } = JSON.parse(call1.function.arguments);
const flights = SCHEDULE[origin];
console.log(`hop 1: search_flights(${origin}) -> ${flights.length} flight(s)`);

const book = {
  type: 'function',
  function: {
    name: 'book_flight',
    description: 'Book one of the flights found',
    parameters: { type: 'object', required: ['flight'],
                  properties: { flight: flights.length ? { type: 'string', enum: flights.map((f) => f.id) }
                                                       : { type: 'string' } } },
  },
};
// Hop 2 is a sub-task of its own: the booking step sees the search result.
const booking = [
  { role: 'system', content: 'You book the earliest flight found. Use the tool.' },
  { role: 'user', content: `Flights found from ${origin}: ${JSON.stringify(flights)}` },
];
const hop2 = await client.chat.completions.create({
  model: 'gpt-4o', temperature: 0.4, messages: booking, tools: [book], tool_choice: 'required',
});
const call2 = hop2.choices[0].message.tool_calls[0];
const { flight } = JSON.parse(call2.function.arguments);
if (!flights.some((f) => f.id === flight)) {
  console.log(`hop 2: booked ${JSON.stringify(flight)}, which is no flight found: no booking`);
  process.exit(1);
}
booking.push(hop2.choices[0].message, { role: 'tool', tool_call_id: call2.id, content: JSON.stringify({ booked: flight }) });
const hop3 = await client.chat.completions.create({ model: 'gpt-4o', temperature: 0.4, messages: booking });
console.log(`hop 3: booked ${flight}: ${hop3.choices[0].message.content.slice(0, 40)}`);
