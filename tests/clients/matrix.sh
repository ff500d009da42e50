#!/usr/bin/env bash
# Client matrix (docs/clients.md): one real program written with a popular
# client library is run directly against `retrace sim`, recorded through
# retrace, replayed with the sim stopped, and replayed with one word of its
# prompts changed.
#   matrix.sh PROGRAM   PROGRAM: openai | anthropic | langchain | aisdk | py_sse
# (a) direct: runs twice with the same output (the programs and the sim are
#     deterministic), with the program's own expected lines, and differently
#     with another TOPIC (so the prompt word matters);
# (b) record: the same bytes as the direct run, every exchange stored;
# (c) replay, sim stopped, base URLs on a tripwire, no API keys: exit 0, the
#     same bytes, `retrace: reproduced`, no connection;
# (d) replay with TOPIC changed: exit 1, the differing JSON path named, and
#     the program ends by itself (no timeout).
# Every check runs and every failure is reported (not only the first), so
# one run shows what a client does and does not get through.
source "$(dirname "$0")/../e2e/lib.sh"
FAILURES=()
fail() { echo "FAIL: $*" >&2; FAILURES+=("$*"); }

prog=${1:?usage: matrix.sh openai|anthropic|langchain|aisdk|py_sse}
CLIENTS=$SRC/tests/clients
[[ -d $CLIENTS/node_modules ]] || fail "no $CLIENTS/node_modules: run scripts/bootstrap (npm ci there)"
anthropic_suffix=""  # what follows the host in ANTHROPIC_BASE_URL
# Per program: the command, the number of model requests it makes, lines its
# output must contain, and the JSON path a TOPIC change shows first.
case $prog in
  openai)
    cmd=(node openai_prog.mjs); requests=12; first_path='$.messages[1].content'
    expected=('chat: [stop] ' 'chat stream: '
      'tools round 1: [tool_calls] get_weather({"city":' ' get_time({"city":'
      'tools round 2: [tool_calls] convert_units({"' 'tools round 3: [stop] '
      'sequential round 1: [tool_calls] get_weather({"city":' 'sequential round 2: [tool_calls] get_time({"city":'
      'sequential round 3: [stop] '
      'responses call: lookup_city({"city":' 'responses answer: '
      'parse: city=' ' country={"name":' ' stops=[' 'embeddings: 2 x 256 ') ;;
  anthropic)
    cmd=(node anthropic_prog.mjs); requests=7; first_path='$.messages[0].content'
    expected=('message: [end_turn] ' 'turn 1: [tool_use] get_weather({"city":' ' get_time({"city":'
      'turn 2: [tool_use] convert_units({"' 'turn 3: [end_turn] '
      'sequential turn 1: [tool_use] get_weather({"city":' 'sequential turn 2: [tool_use] get_time({"city":'
      'sequential turn 3: [end_turn] ') ;;
  langchain)
    cmd=(node langchain_prog.mjs); requests=14; first_path='$.messages[1].content'
    expected=('invoke: ' 'stream: ' 'bindTools call: get_weather({"city":' 'bindTools answer: '
      'agent calls: get_weather({"city":' ' get_time({"city":' 'agent calls: convert_units({"'
      'agent calls: summarize({"text":' 'agent tool summarize: ' 'agent answer: '
      'agent responses calls: get_weather({"city":' 'agent responses calls: get_weather({"city":'
      'agent responses answer: '
      'structured: city=' ' country={"name":' 'embeddings: 2 x 256 ') ;;
  aisdk)
    cmd=(node aisdk_prog.mjs); requests=20; first_path='$.messages[1].content'
    anthropic_suffix=/v1  # @ai-sdk/anthropic appends /messages to its base URL
    expected=()
    for api in chat responses; do
      expected+=("$api generateText: [stop] " "$api streamText: "
        "$api tools step 1: [tool-calls] get_weather({\"city\":" ' get_time({"city":'
        "$api tools step 2: [tool-calls] convert_units({\"" "$api tools step 3: [stop] ")
    done
    expected+=('responses streamText tools step 1: [tool-calls] get_weather({"city":' ' get_time({"city":'
      'responses streamText tools step 2: [tool-calls] convert_units({"' 'responses streamText tools step 3: [stop] '
      'responses generateObject: city=' 'chat Output.object: city='
      'anthropic generateText step 1: [tool-calls] get_weather({"city":' 'anthropic generateText step 2: [stop] '
      'anthropic streamText step 1: [tool-calls] get_weather({"city":'
      'anthropic streamText step 2: [tool-calls] convert_units({"' 'anthropic streamText step 3: [stop] ') ;;
  py_sse)
    cmd=(python3 py_sse.py); requests=2; first_path='$.messages[0].content'
    expected=('openai sse: [stop] ' 'anthropic sse: [end_turn] ') ;;
  *) echo "matrix.sh: unknown program $prog" >&2; exit 2 ;;
esac

start_sim --sim-seed 11
export OPENAI_API_KEY=sk-test-MATRIXKEY0001 ANTHROPIC_API_KEY=sk-ant-MATRIXKEY0002
unset TOPIC
at_sim() { env OPENAI_BASE_URL="$SIM_URL/v1" ANTHROPIC_BASE_URL="$SIM_URL$anthropic_suffix" "$@"; }
cd "$CLIENTS"

# (a) Directly against the sim.
run_to() {  # run_to NAME CMD...: stdout to $WORK/out.NAME, stderr to err.NAME; sets RC
  set +e; "${@:2}" > "$WORK/out.$1" 2> "$WORK/err.$1"; RC=$?; set -e
}
err() { tail -n 20 "$WORK/err.$1"; }  # the end of a run's stderr, for messages
# stderr_has NAME TEXT MESSAGE: checks that run NAME's stderr contains TEXT.
stderr_has() { grep -qF -- "$2" "$WORK/err.$1" || fail "$3: '$2' not in the stderr, which ends: $(tail -n 8 "$WORK/err.$1")"; }
run_to direct at_sim "${cmd[@]}"
expect_eq "$RC" 0 "direct run's exit code; stderr: $(err direct)"
direct=$(cat "$WORK/out.direct")
[[ -n $direct ]] || fail "the direct run printed nothing"
for line in "${expected[@]}"; do expect_contains "$direct" "$line" "direct output"; done
expect_not_contains "$direct" "FAILED" "direct output"
run_to direct2 at_sim "${cmd[@]}"
expect_eq "$(cat "$WORK/out.direct2")" "$direct" "a second direct run (the program is deterministic)"
run_to other at_sim env TOPIC=Oslo "${cmd[@]}"
expect_ne "$(cat "$WORK/out.other")" "$direct" "a direct run with another TOPIC"

# (b) Recorded: the same bytes, every exchange stored.
run_to rec at_sim "$RETRACE_BIN" record --name m -- "${cmd[@]}"
expect_eq "$RC" 0 "record's exit code; stderr: $(err rec)"
expect_eq "$(cat "$WORK/out.rec")" "$direct" "recorded output vs direct output"
llm=$(retrace show m --json | json 'sum(1 for e in j["events"] if e["kind"] == "llm")' || echo "(no run)")
expect_eq "$llm" "$requests" "model exchanges recorded"

# (c) Replayed with the sim stopped: nothing reaches the network.
kill "$SIM_PID"; wait "$SIM_PID" 2> /dev/null || true
start_tripwire
export OPENAI_BASE_URL=$TRIP_URL/v1 ANTHROPIC_BASE_URL=$TRIP_URL$anthropic_suffix
run_to replay env -u OPENAI_API_KEY -u ANTHROPIC_API_KEY timeout 60 "$RETRACE_BIN" replay m
expect_eq "$RC" 0 "replay's exit code; stderr: $(err replay)"
expect_eq "$(cat "$WORK/out.replay")" "$(cat "$WORK/out.rec")" "replayed output vs recorded output"
stderr_has replay "retrace: reproduced" "replay's verdict"
stderr_has replay "$requests recorded answer(s) served" "replay's count"
expect_eq "$(wc -l < "$TRIP_LOG")" 0 "connections to the network during replay"

# (d) One word of the prompts changed: the replay names the first difference
# and the program ends (a miss is an error answer, not a hang).
run_to diverged env TOPIC=Oslo timeout 60 "$RETRACE_BIN" replay m
expect_ne "$RC" 124 "the diverged replay timed out; stderr: $(err diverged)"
expect_eq "$RC" 1 "diverged replay's exit code; stderr: $(err diverged)"
stderr_has diverged "retrace: diverged: " "diverged replay's verdict"
stderr_has diverged "$first_path: " "the differing JSON path"
grep -q "^retrace: *\\$.*Paris.* -> .*Oslo" "$WORK/err.diverged" ||
  fail "the diverged replay does not show Paris -> Oslo: $(grep '^retrace:' "$WORK/err.diverged")"
expect_eq "$(wc -l < "$TRIP_LOG")" 0 "connections to the network during the diverged replay"

if ((${#FAILURES[@]})); then
  echo "clients.$prog: ${#FAILURES[@]} check(s) failed; the runs' out.* and err.* are ${KEEP:+in $WORK}${KEEP:-kept with KEEP=1}" >&2
  exit 1
fi
echo "clients.$prog: ok"
