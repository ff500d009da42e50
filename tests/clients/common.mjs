// Shared by the client-matrix programs: the prompt word and a section runner.
// A section that throws is reported on stderr and makes the program exit 1,
// and the other sections still run, so one run shows every failing check.
export const topic = process.env.TOPIC ?? 'Paris';

export async function section(name, body) {
  try {
    await body();
  } catch (err) {
    console.error(`${name}: FAILED: ${err?.stack ?? err}`);
    process.exitCode = 1;
  }
}

// Throws with MESSAGE unless COND holds (a program's own control check).
export function check(cond, message) {
  if (!cond) throw new Error(`check failed: ${message}`);
}
