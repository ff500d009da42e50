# Many writers into one PostgreSQL store at once: 16 recorders in parallel
# processes, each in its own working directory with its own HOME (standing
# in for machines), and two gateway instances serving clients, all writing
# together. Every run is sealed, every exchange and event is present (exact
# counts), the answers the programs share are stored once, and
# `verify --all` is clean.
source "$(dirname "$0")/lib.sh"
start_postgres
PG=$(pg_database team)
export RETRACE_STORE=$PG
start_sim --sim-seed 4
export OPENAI_API_KEY=sk-test-PGMANYKEY0001

# Each recorder: 8 model exchanges (the first 4 prompts shared by every
# machine, so their answers are deduplicated under contention) and 8 tool
# events.
cat > work.sh <<'SH'
for i in 1 2 3 4 5 6 7 8; do
  if [ "$i" -le 4 ]; then prompt="shared $i"; else prompt="$MACHINE $i"; fi
  curl -sS -f -o /dev/null -H "authorization: Bearer $OPENAI_API_KEY" -H 'content-type: application/json' \
    "$OPENAI_BASE_URL/chat/completions" \
    -d "{\"model\":\"gpt-4o\",\"temperature\":0,\"messages\":[{\"role\":\"user\",\"content\":\"$prompt\"}]}" || exit 9
  curl -sS -f -o /dev/null -H 'content-type: application/json' "$RETRACE_PROXY_URL/_retrace/v1/events" \
    -d "{\"kind\":\"tool\",\"name\":\"step\",\"input\":{\"machine\":\"$MACHINE\",\"i\":$i},\"output\":{\"ok\":true},\"start_ns\":1,\"end_ns\":2}" || exit 8
done
echo "$MACHINE done"
SH

# Two gateways; each takes 4 clients of 6 requests, in named runs.
start_gateway --upstream openai=$SIM_URL/v1 --idle 60
GW1=$GW_URL GW1_PID=$GW_PID
start_gateway --upstream openai=$SIM_URL/v1 --idle 60
GW2=$GW_URL GW2_PID=$GW_PID
client() {  # client GATEWAY RUN
  for i in 1 2 3 4 5 6; do
    curl -sS -f -o /dev/null "$1/openai/chat/completions" -H "x-retrace-run: $2" \
      -H "authorization: Bearer $OPENAI_API_KEY" -H 'content-type: application/json' \
      -d "{\"model\":\"gpt-4o\",\"temperature\":0,\"messages\":[{\"role\":\"user\",\"content\":\"$2 $i\"}]}" || return 1
  done
}

pids=()
for m in $(seq 16); do
  mkdir -p "m$m/home"
  (cd "m$m" && HOME=$WORK/m$m/home MACHINE=m$m OPENAI_BASE_URL=$SIM_URL/v1 \
    "$RETRACE_BIN" record --name machine -- sh "$WORK/work.sh" > out 2> err) &
  pids+=($!)
done
for c in 1 2 3 4; do
  client "$GW1" "gw1-client$c" & pids+=($!)
  client "$GW2" "gw2-client$c" & pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=$((failed + 1)); done
expect_eq "$failed" 0 "recorders and clients that failed: $(cat m*/err)"
for m in $(seq 16); do expect_eq "$(cat "m$m/out")" "m$m done"; done
kill -TERM "$GW1_PID" "$GW2_PID"
wait "$GW1_PID" || fail "gateway 1 exited $?"
wait "$GW2_PID" || fail "gateway 2 exited $?"

retrace runs --json > runs.json
expect_eq "$(json 'len(j)' < runs.json)" 24 "16 recorded runs + 8 gateway runs"
expect_eq "$(json 'sorted(set(r["state"] for r in j))' < runs.json)" "['sealed']"
expect_eq "$(json 'len([r for r in j if r["name"] == "machine"])' < runs.json)" 16
# Every exchange and event, run by run.
counts=$(sql "$PG" "SELECT r.name, count(e.seq) FROM runs r JOIN events e ON e.run_id = r.id
                    GROUP BY r.id, r.name ORDER BY r.name, r.id" | sort | uniq -c | sed 's/^ *//')
expect_eq "$counts" "$(printf '1 gw1-client1|6\n1 gw1-client2|6\n1 gw1-client3|6\n1 gw1-client4|6\n1 gw2-client1|6\n1 gw2-client2|6\n1 gw2-client3|6\n1 gw2-client4|6\n16 machine|17')" \
  "events per run (a machine: process + 8 exchanges + 8 tools)"
expect_eq "$(sql "$PG" "SELECT count(*) FROM events WHERE kind = 'llm'")" $((16 * 8 + 8 * 6)) "model exchanges stored"
expect_eq "$(sql "$PG" "SELECT count(DISTINCT seq) = count(*) FROM events GROUP BY run_id" | sort -u)" t "seq unique per run"
# The shared prompts' requests: one blob each however many machines sent them.
shared=$(sql "$PG" "SELECT count(DISTINCT request), count(*) FROM events WHERE name = 'POST /chat/completions'
                    AND run_id IN (SELECT id FROM runs WHERE name = 'machine') AND seq IN (2, 4, 6, 8)")
# (the requests differ only in the prompt: 4 shared prompts -> 4 request blobs for 64 exchanges)
expect_eq "$shared" "4|64" "request blobs of the shared prompts"
expect_eq "$(sql "$PG" "SELECT count(*) FROM run_blobs rb LEFT JOIN blobs b USING (digest) WHERE b.digest IS NULL")" 0 \
  "references to missing blobs"
expect_exit 0 retrace verify --all
expect_eq "$(grep -c '^ok ' <<< "$OUT")" 24 "runs that verify"
expect_not_contains "$OUT" "incomplete"
echo "postgres_concurrency: ok (24 runs, $((16 * 17 + 8 * 6)) events from 18 writers at once)"
