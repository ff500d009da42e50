# A program using the official openai and @anthropic-ai/sdk clients (chat,
# streaming, a tool call round trip, Responses streaming, embeddings, three
# concurrent streams, Anthropic tool_use) is recorded against the sim, then
# replayed with the sim stopped and every upstream pointing at a listener
# that fails the test on any connection: same bytes out, `reproduced`, no
# credentials needed, and the replay is itself a verified run.
source "$(dirname "$0")/lib.sh"
start_sim --sim-seed 7
export OPENAI_API_KEY=sk-test-REPLAYKEY0001 ANTHROPIC_API_KEY=sk-ant-REPLAYKEY0002
cd "$SRC/tests/node"
recorded=$(OPENAI_BASE_URL=$SIM_URL/v1 ANTHROPIC_BASE_URL=$SIM_URL \
  retrace record --name agent -- node agent_prog.mjs 2> "$WORK/rec.err")
expect_contains "$recorded" "tool call: get_weather"
expect_contains "$recorded" "anthropic: tool_use get_weather"
source_id=$(retrace show agent --json | json 'j["id"]')
events=$(retrace show agent --json | json 'len(j["events"])')
expect_eq "$events" 12 "process + 11 model exchanges"

# Control: the program run live again gives other answers (temperature 0.9),
# so a replay that matches is the recording speaking.
live=$(OPENAI_BASE_URL=$SIM_URL/v1 ANTHROPIC_BASE_URL=$SIM_URL node agent_prog.mjs)
expect_ne "$live" "$recorded" "a live rerun differs"

kill $SIM_PID; wait $SIM_PID 2>/dev/null || true
start_tripwire
export OPENAI_BASE_URL=$TRIP_URL/v1 ANTHROPIC_BASE_URL=$TRIP_URL
set +e
replayed=$(env -u OPENAI_API_KEY -u ANTHROPIC_API_KEY timeout 60 \
  "$RETRACE_BIN" replay agent 2> "$WORK/replay.err")
rc=$?
set -e
expect_eq "$rc" 0 "replay exit code; stderr: $(cat "$WORK/replay.err")"
expect_eq "$replayed" "$recorded" "the replayed program prints the same bytes"
expect_contains "$(cat "$WORK/replay.err")" "retrace: reproduced"
expect_contains "$(cat "$WORK/replay.err")" "11 recorded answer(s) served"
expect_eq "$(wc -l < "$TRIP_LOG")" 0 "connections to the network during replay"

cd "$WORK"
retrace show @latest --json > replay.json
expect_eq "$(json 'j["replay_of"]' < replay.json)" "$source_id"
expect_eq "$(json 'len(j["events"])' < replay.json)" 12
expect_eq "$(json 'sorted(e["attrs"]["replayed_from"] for e in j["events"] if e["kind"] == "llm")' < replay.json)" \
  "[2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]"
expect_exit 0 retrace verify @latest
# The placeholder key reached the SDKs, never a real one.
expect_eq "$(json 'j["events"][1]["attrs"]["request_headers"]["authorization"]' < replay.json)" "[REDACTED]"

# --json gives the verdict to programs.
cd "$SRC/tests/node"
"$RETRACE_BIN" replay agent --json > "$WORK/verdict.out" 2> /dev/null
# The program's own output comes first; the JSON document follows it.
sed -n '/^{$/,$p' "$WORK/verdict.out" > "$WORK/verdict.json"
expect_eq "$(json 'j["verdict"], j["served"], j["unused"], j["replay_of"]' < "$WORK/verdict.json")" \
  "reproduced 11 [] $source_id"

# Control for the tripwire: a request the recording cannot answer, sent
# live, does reach it.
set +e
PROMPT="something new" timeout 60 "$RETRACE_BIN" replay agent --on-miss live > /dev/null 2>&1
set -e
[[ $(wc -l < "$TRIP_LOG") -ge 1 ]] || fail "the tripwire saw no live request"
echo "replay_sdk: ok"
