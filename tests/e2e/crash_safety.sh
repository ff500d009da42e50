# kill -9 of `retrace record` mid-run leaves a store that opens, lists the
# run as incomplete, and keeps every earlier sealed run verifiable. The child
# dies with its recorder (PR_SET_PDEATHSIG).
source "$(dirname "$0")/lib.sh"

start_sim --sim-seed 1
for i in 1 2 3; do retrace record --name sealed$i -- sh -c "echo run $i" >/dev/null 2>&1; done
# The victim completes a model exchange and a tool event, opens a span, and
# is killed: its process event (#1, written at the end) and the span never
# reach the store, so its event numbers have gaps.
cat > victim.sh <<'SH'
curl -s -o /dev/null -H 'content-type: application/json' "$OPENAI_BASE_URL/chat/completions" \
  -d '{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}'
curl -s -o /dev/null -H 'content-type: application/json' "$RETRACE_PROXY_URL/_retrace/v1/events" \
  -d '{"kind":"custom","name":"agent","span":"00f067aa0ba902b7","phase":"start","start_ns":1}'
curl -s -o /dev/null -H 'content-type: application/json' "$RETRACE_PROXY_URL/_retrace/v1/events" \
  -d '{"kind":"tool","name":"search","input":{"q":"x"},"output":{"hits":1},"start_ns":1,"end_ns":2}'
echo $$ > child.pid
sleep 60
SH
"$RETRACE_BIN" record --name victim --upstream openai="$SIM_URL/v1" -- sh victim.sh > victim.out 2>&1 &
rec=$!
for _ in $(seq 100); do [[ -s child.pid ]] && break; sleep 0.05; done
[[ -s child.pid ]] || fail "child never started"
kill -9 $rec
wait $rec 2>/dev/null || true
child=$(cat child.pid)
for _ in $(seq 100); do kill -0 "$child" 2>/dev/null || break; sleep 0.05; done
kill -0 "$child" 2>/dev/null && fail "child $child outlived its recorder"

expect_exit 0 retrace runs --json
expect_eq "$(echo "$OUT" | json 'j[0]["name"] + " " + j[0]["state"]')" "victim incomplete"
expect_eq "$(echo "$OUT" | json 'len(j)')" 4
victim=$(retrace runs --json | json 'j[0]["id"]')
# verify: every sealed run ok, the killed one intact as far as it goes
# (event #1 missing, #2 and #4 stored), and exit 0.
expect_exit 0 retrace verify --all
expect_contains "$OUT" "incomplete $victim (never sealed: 2 events intact, up to #4"
expect_contains "$OUT" "1 run(s) incomplete"
expect_eq "$(echo "$OUT" | grep -c '^ok ')" 3
expect_exit 0 retrace verify --all --json
expect_eq "$(echo "$OUT" | json '[r["run_id"] for r in j["runs"] if r["incomplete"] and r["ok"]] == ["'$victim'"]')" True
# The control: damage inside the incomplete run is still found (its events
# are not chained until the seal, but each must be canonical and its blobs
# must match their digests).
python3 - "$RETRACE_STORE/retrace.db" "$victim" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE events SET attrs = attrs || ' ' WHERE run_id = ? AND kind = 'tool'", (sys.argv[2],))
db.commit()
PY
expect_exit 1 retrace verify "$victim"
expect_contains "$OUT" "FAILED $victim: event 4 attrs"
expect_exit 0 retrace show victim
expect_contains "$OUT" "incomplete"
# The store still takes new runs.
expect_exit 0 retrace record -- true
echo "crash_safety: ok"
