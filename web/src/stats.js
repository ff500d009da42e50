// Wilson score interval (95%), as src/analysis/stats.cpp computes it: the
// server gives it for the whole probe and per variant; the conditions
// groups come with counts only, so the page works theirs out the same way.

const Z = 1.959963984540054;

export function wilson(failed, n) {
  if (!n) return [0, 1];
  const p = failed / n;
  const z2 = Z * Z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (Z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

// A rule such as "fail_rate >= 0.1" or "pass_rate > 0.9", as a threshold
// on the failure rate the chart can draw; null for rules it cannot (pass@k,
// and/or).
export function ruleThreshold(rule) {
  if (typeof rule !== 'string') return null;
  const m = /^\s*(fail_rate|pass_rate)\s*(<=|>=|<|>|==)\s*([0-9]*\.?[0-9]+)\s*$/.exec(rule);
  if (!m) return null;
  const x = Number(m[3]);
  return { at: m[1] === 'fail_rate' ? x : 1 - x, text: rule };
}
