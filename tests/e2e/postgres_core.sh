# The end-to-end core against the PostgreSQL team store, as against SQLite:
# record model traffic (official SDKs) and SDK events, replay byte-identical
# with the provider stopped, diff, probe, verify, tamper detection; a run
# pushed from SQLite to PostgreSQL and pulled back into a fresh SQLite store
# verifies and shows identically, with the same digests on either engine.
source "$(dirname "$0")/lib.sh"
start_postgres
PG=$(pg_database core)
export RETRACE_STORE=$PG
LITE=$WORK/lite
start_sim --sim-seed 7
export OPENAI_API_KEY=sk-test-PGCOREKEY0001 ANTHROPIC_API_KEY=sk-ant-PGCOREKEY0002
export OPENAI_BASE_URL=$SIM_URL/v1 ANTHROPIC_BASE_URL=$SIM_URL
cd "$SRC/tests/node"

# Record: 11 model exchanges through both SDKs; then the Node SDK's events.
retrace record --name agent -- node agent_prog.mjs > "$WORK/agent.out" 2> /dev/null
expect_contains "$(cat "$WORK/agent.out")" "tool call: get_weather"
expect_eq "$(retrace show agent --json | json 'len(j["events"])')" 12 "process + 11 model exchanges"
retrace record --name node-sdk -- node sdk_prog.mjs > "$WORK/sdk.out" 2> /dev/null
expect_eq "$(retrace show node-sdk --json | json 'sorted(set(e["kind"] for e in j["events"]))')" \
  "['checkpoint', 'clock', 'custom', 'llm', 'process', 'random', 'retrieval', 'tool']"
# A second, live recording of the agent: other answers (temperature 0.9).
retrace record --name agent -- node agent_prog.mjs > "$WORK/agent2.out" 2> /dev/null
expect_ne "$(cat "$WORK/agent2.out")" "$(cat "$WORK/agent.out")" "a live rerun differs"

# Replay with the provider stopped and every upstream a tripwire.
kill "$SIM_PID"; wait "$SIM_PID" 2> /dev/null || true
start_tripwire
agent1=$(retrace runs --name agent --json | json 'j[1]["id"]')
expect_exit 0 env -u OPENAI_API_KEY -u ANTHROPIC_API_KEY OPENAI_BASE_URL=$TRIP_URL/v1 \
  ANTHROPIC_BASE_URL=$TRIP_URL "$RETRACE_BIN" replay "$agent1"
expect_eq "$OUT" "$(cat "$WORK/agent.out")" "the replayed program prints the same bytes"
expect_contains "$ERR" "retrace: reproduced"
expect_contains "$ERR" "11 recorded answer(s) served"
expect_exit 0 env TOOLS=raise "$RETRACE_BIN" replay node-sdk
expect_eq "$OUT" "$(cat "$WORK/sdk.out")"
expect_contains "$ERR" "retrace: reproduced"
expect_eq "$(wc -l < "$TRIP_LOG")" 0 "connections to the network during replay"
replay_of=$(retrace show @latest --json | json 'j["replay_of"]')
expect_eq "$replay_of" "$(retrace show node-sdk --json | json 'j["id"]')"

# A probe: exact counts from a failure schedule fixed in advance.
cd "$WORK"
cat > cite.sh <<'SH'
curl -sS -f "$OPENAI_BASE_URL/chat/completions" -H "authorization: Bearer $OPENAI_API_KEY" \
  -H 'content-type: application/json' \
  -d '{"model":"gpt-4o","temperature":0,"messages":[{"role":"user","content":"cite your source"}]}' > /dev/null 2>&1
SH
start_sim --sim-seed 3 --fail-sequence 500,ok,ok,ok
expect_exit 3 env OPENAI_BASE_URL=$SIM_URL/v1 "$RETRACE_BIN" probe --k 12 --jobs 4 \
  --hypothesis "the citation step fails" --rule "fail_rate >= 0.2" --name cite -- sh cite.sh
expect_contains "$OUT" "runs       12 of 12, 3 failed"
expect_eq "$(retrace runs --name cite.run --json | json 'len(j)')" 12

# Everything verifies.
expect_exit 0 retrace verify --all
expect_not_contains "$OUT" "FAILED"
runs=$(retrace runs --json | json 'len(j)')

# Diff of the two agent runs, here and in a SQLite copy: the same report.
agent2=$(retrace runs --name agent --json | json 'j[0]["id"]')
expect_exit 1 retrace diff "$agent1" "$agent2"
diff_pg=$OUT
ids=$(retrace runs --json | json '" ".join(r["id"] for r in j if r["state"] == "sealed")')
# shellcheck disable=SC2086
expect_exit 0 env RETRACE_STORE=$LITE "$RETRACE_BIN" pull $ids --from "$PG"
expect_contains "$OUT" "pulled $runs runs into $LITE"
expect_not_contains "$OUT$ERR" "pw-" "the password in output"
expect_exit 1 env RETRACE_STORE=$LITE "$RETRACE_BIN" diff "$agent1" "$agent2"
expect_eq "$OUT" "$diff_pg" "diff on SQLite and on PostgreSQL"
# Every run shows the same on either engine, digests and all.
for id in $ids; do
  expect_eq "$(retrace show "$id" --json)" "$(RETRACE_STORE=$LITE "$RETRACE_BIN" show "$id" --json)" "show of $id"
done
expect_exit 0 env RETRACE_STORE=$LITE "$RETRACE_BIN" verify --all
# Pulling again copies nothing (idempotent).
# shellcheck disable=SC2086
expect_exit 0 env RETRACE_STORE=$LITE "$RETRACE_BIN" pull $ids --from "$PG"
expect_contains "$OUT" "pulled 0 runs into $LITE ($runs already there)"

# SQLite -> PostgreSQL -> a fresh SQLite store: identical.
printf 'input data\n' > in.txt
RETRACE_STORE=$LITE "$RETRACE_BIN" record --name local --input in.txt --param k=v -- sh -c 'echo local' > /dev/null 2>&1
expect_exit 0 env RETRACE_STORE=$LITE "$RETRACE_BIN" push local --to "$PG"
expect_contains "$OUT" "pushed 1 run to postgres://retrace_admin:****@"
expect_contains "$ERR" "[1/1]"
expect_exit 0 env RETRACE_STORE=$WORK/fresh "$RETRACE_BIN" pull local --from "$PG"
local_lite=$(RETRACE_STORE=$LITE "$RETRACE_BIN" show local --json)
expect_eq "$(RETRACE_STORE=$WORK/fresh "$RETRACE_BIN" show local --json)" "$local_lite" "show after the round trip"
expect_eq "$(retrace show local --json)" "$local_lite" "show on PostgreSQL"
expect_exit 0 env RETRACE_STORE=$WORK/fresh "$RETRACE_BIN" verify --all
expect_eq "$(retrace which in.txt --json | json 'j["runs"][0]["name"]')" local "which finds the pushed run's input"

# Tamper detection: one changed byte in any of these is found and named,
# and restoring it makes the store verify again.
flip_text() { echo "overlay($1 placing chr(ascii(substr($1, length($1) / 2, 1)) # 1) from length($1) / 2 for 1)"; }
tamper() {  # TABLE COLUMN WHERE EXPRESSION_TO_SET
  sql "$PG" "UPDATE $1 SET $2 = $4 WHERE $3" > /dev/null
  expect_exit 1 retrace verify --all
  expect_contains "$OUT" "FAILED" "verify after changing $1.$2"
  sql "$PG" "UPDATE $1 SET $2 = $4 WHERE $3" > /dev/null  # (each change is its own inverse)
  expect_exit 0 retrace verify --all
}
tamper events attrs "run_id = '$agent1' AND seq = 2" "$(flip_text attrs)"
tamper events name "run_id = '$agent1' AND seq = 3" "$(flip_text name)"
tamper runs conditions "id = '$agent1'" "$(flip_text conditions)"
tamper runs metadata "id = '$agent1'" "$(flip_text metadata)"
tamper runs outcome "id = '$agent1'" "$(flip_text outcome)"
tamper blobs data "digest = (SELECT response FROM events WHERE run_id = '$agent1' AND seq = 2)" \
  "set_byte(data, length(data) / 2, get_byte(data, length(data) / 2) # 1)"
tamper events start_ns "run_id = '$agent1' AND seq = 4" "start_ns # 1"
tamper runs event_links "id = '$agent1'" \
  "set_byte(event_links, length(event_links) / 2, get_byte(event_links, length(event_links) / 2) # 1)"

# pack from PostgreSQL, unpack into another PostgreSQL database; rm and gc.
# (one pack per run: an unpacked run refers to every blob of its pack)
expect_exit 0 retrace pack "$agent1" -o "$WORK/agent.pack"
expect_exit 0 retrace pack local -o "$WORK/local.pack"
OTHER=$(pg_database other)
expect_exit 0 env RETRACE_STORE=$OTHER "$RETRACE_BIN" unpack "$WORK/agent.pack"
expect_contains "$OUT" "verified 1 runs, imported 1"
expect_exit 0 env RETRACE_STORE=$OTHER "$RETRACE_BIN" unpack "$WORK/local.pack"
expect_eq "$(RETRACE_STORE=$OTHER "$RETRACE_BIN" show "$agent1" --json)" "$(retrace show "$agent1" --json)" "show after pack/unpack"
expect_exit 0 env RETRACE_STORE=$OTHER "$RETRACE_BIN" verify --all
blobs_before=$(sql "$OTHER" "SELECT count(*) FROM blobs")
expect_exit 0 env RETRACE_STORE=$OTHER "$RETRACE_BIN" rm "$agent1"
expect_eq "$(RETRACE_STORE=$OTHER "$RETRACE_BIN" runs --json | json 'len(j)')" 1 "runs after rm"
expect_exit 0 env RETRACE_STORE=$OTHER "$RETRACE_BIN" gc
expect_eq "$(sql "$OTHER" "SELECT count(*) < $blobs_before FROM blobs")" t "gc freed the removed run's blobs"
expect_exit 0 env RETRACE_STORE=$OTHER "$RETRACE_BIN" verify --all
echo "postgres_core: ok ($runs runs on PostgreSQL, copied to SQLite and back)"
