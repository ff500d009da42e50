// The two trajectories of a diff, side by side: the rows of the server's
// alignment (`retrace diff --json`'s trajectory.steps, src/analysis/diff.cpp),
// each step with its event, the first divergence marked. Pure (no DOM),
// tested in Node: the page draws what `retrace diff` decided, never an
// alignment of its own.

// One row per entry of steps: {a, b, status}, a and b {seq, kind, name,
// event} or null; status 'same' (paired, answered alike), 'divergent' (the
// first divergence), 'paired' (paired, answered differently, after it),
// 'only-a' or 'only-b'.
export function rowsOf(report, eventsA, eventsB) {
  const t = (report && report.trajectory) || {};
  const fd = t.first_divergence || null;
  const bySeq = (events) => new Map((events || []).map((e) => [Number(e.seq), e]));
  const ea = bySeq(eventsA), eb = bySeq(eventsB);
  const step = (seq, events) => {
    if (seq === null || seq === undefined) return null;
    const e = events.get(Number(seq)) || { seq: Number(seq) };
    return { seq: Number(seq), kind: e.kind, name: e.name, event: e };
  };
  const seqOf = (s) => (s && s.seq !== undefined && s.seq !== null ? Number(s.seq) : null);
  const fa = fd ? seqOf(fd.a) : null, fb = fd ? seqOf(fd.b) : null;
  let marked = false;
  const rows = (t.steps || []).map((s) => {
    const a = step(s.a, ea), b = step(s.b, eb);
    const sa = a ? a.seq : null, sb = b ? b.seq : null;
    let status = a && b ? (s.equal ? 'same' : 'paired') : a ? 'only-a' : 'only-b';
    // (a divergence with only one side names a step the other run lacks:
    // the row of that step alone)
    if (fd && !marked && !s.equal && sa === fa && sb === fb) {
      status = 'divergent';
      marked = true;
    }
    return { a, b, status };
  });
  // A request that changed: its key changed, so the alignment pairs
  // neither step and lists each alone (a's, then b's), while the
  // divergence names both, as `retrace diff` prints them: one row of the
  // two, where a's was.
  if (fd && !marked && fa !== null && fb !== null) {
    const ia = rows.findIndex((r) => r.status === 'only-a' && r.a.seq === fa);
    const ib = rows.findIndex((r) => r.status === 'only-b' && r.b.seq === fb);
    if (ia >= 0 && ib >= 0) {
      const row = { a: rows[ia].a, b: rows[ib].b, status: 'divergent' };
      rows.splice(ib, 1);
      rows.splice(ib < ia ? ia - 1 : ia, 1, row);
    }
  }
  return rows;
}
