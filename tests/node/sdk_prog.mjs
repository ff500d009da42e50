// A Node program using the retrace SDK and the official openai client: a
// tool, a retrieval, the clock, a random draw, a checkpoint, a span with a
// model call inside, and a tool that throws. With TOOLS=raise, every real
// function throws if called (as in a replay that must not call them).
import OpenAI from "openai";
import * as retrace from "../../sdk/node/index.js";

const guard = (name) => {
  if (process.env.TOOLS === "raise") throw new Error(`real ${name} called during replay`);
};
class QuotaExceeded extends Error {}
retrace.registerError(QuotaExceeded);

const add = retrace.tool(function add({ a, b = 2 }) {
  guard("add");
  return a + b;
});
const charge = retrace.tool(async function charge({ account }) {
  guard("charge");
  throw new QuotaExceeded(`account ${account} is over quota`);
});
const first = Number(process.env.FIRST ?? "1");
const client = new OpenAI({ maxRetries: 0 });

await retrace.span("step", async () => {
  console.log("add", await add({ a: first }), await add({ a: 5, b: 10 }));
  console.log("lookup", JSON.stringify(await retrace.retrieval("kb", "paris", (q) => (guard("lookup"), [`about ${q}`]), { source: { index: "kb", version: 2 } })));
  try {
    await charge({ account: "acme" });
  } catch (e) {
    console.log("raised", e.constructor.name, e instanceof QuotaExceeded, e.message);
  }
  await retrace.checkpoint("state", { n: first });
  await retrace.flush();
  const r = await client.chat.completions.create(
    { model: "gpt-4o", temperature: 0, messages: [{ role: "user", content: "hello" }] },
    { headers: retrace.headers() },
  );
  console.log("model", r.choices[0].message.content.slice(0, 20));
});
console.log("mul", await retrace.toolCall("mul", ({ x, y }) => (guard("mul"), x * y), { x: 3, y: 4 }));
const t = await retrace.now(), r = await retrace.random();
console.log("values", t, r, typeof t, r >= 0 && r < 1);
