# A program that gives up on an answer is recorded as having given up,
# and replays as it ran. Through the official Node SDK: a stream aborted
# 500 ms after its first chunk (frames 200 ms apart: 100 ms either side of
# the abort, for a loaded machine), and a 300 ms SDK
# timeout (one retry) against an answer that takes 1.5 s; with Python's
# urllib, a 300 ms socket timeout. The recording says when the client left
# and how many chunks it had read; the proxy stopped reading the upstream
# there (a provider goes on generating, and billing, for a client that
# left). Each is replayed 20 times with the sims stopped: 20 of 20 read
# what they read when recorded. Before, the proxy read on and stored the
# whole stream as complete, the timeouts as ordinary 200s, and replays
# sent everything at once (the abort read every chunk, the timeouts got
# answers).
source "$(dirname "$0")/lib.sh"
# (the sanitizer build replays each 5 times: the timing is the proxy's,
# the same in both builds)
if sanitized; then REPLAYS=${REPLAYS:-5}; else REPLAYS=${REPLAYS:-20}; fi
PROG=$SRC/tests/node/give_up_prog.mjs
export OPENAI_API_KEY=sk-test-GIVEUP0000000001

cat > timeout.py <<'PY'
import json, os, socket, urllib.error, urllib.request
req = urllib.request.Request(os.environ["OPENAI_BASE_URL"] + "/chat/completions",
    data=json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}).encode(),
    headers={"Content-Type": "application/json", "Authorization": "Bearer " + os.environ["OPENAI_API_KEY"]})
try:
    with urllib.request.urlopen(req, timeout=0.3) as r:
        print("answered", json.load(r)["choices"][0]["message"]["content"][:24])
except (urllib.error.URLError, socket.timeout) as e:
    print("timed out:", type(getattr(e, "reason", e)).__name__)
PY

start_sim --sim-seed 3 --stream-interval 200
STREAM_URL=$SIM_URL STREAM_PID=$SIM_PID
start_sim --sim-seed 3 --latency 1500
SLOW_URL=$SIM_URL SLOW_PID=$SIM_PID

# The control: the same stream read to its end.
retrace record --upstream openai="$STREAM_URL/v1" --name whole -- node "$PROG" whole > whole.out 2> /dev/null
expect_contains "$(cat whole.out)" "the whole stream"
whole_chunks=$(retrace show whole --json | json '[len(e["attrs"]["chunks"]) for e in j["events"] if e["kind"] == "llm"][0]')
retrace record --upstream openai="$STREAM_URL/v1" --name abort -- node "$PROG" abort > abort.out 2> /dev/null
expect_eq "$(cat abort.out)" "aborted after 3 chunks"
retrace record --upstream openai="$SLOW_URL/v1" --name sdk-timeout -- node "$PROG" timeout > sdk-timeout.out 2> /dev/null
expect_eq "$(cat sdk-timeout.out)" "gave up: APIConnectionTimeoutError"
retrace record --upstream openai="$SLOW_URL/v1" --name py-timeout -- python3 timeout.py > py-timeout.out 2> /dev/null
expect_eq "$(cat py-timeout.out)" "timed out: TimeoutError"

# What was recorded: who left, after how many chunks, and that nothing
# more was read of the stream than had come when the client left.
exchanges() {
  retrace show "$1" --json | json '"\n".join("%s %s %s %s" % (e["attrs"]["status"], len(e["attrs"]["chunks"]), e["attrs"].get("truncated"), e["attrs"].get("client_cancelled", {}).get("chunks_sent", "-")) for e in j["events"] if e["kind"] == "llm")'
}
expect_eq "$(exchanges whole)" "200 $whole_chunks False -"
read -r status stored truncated sent <<< "$(exchanges abort)"
expect_eq "$status $truncated $sent" "200 False 3" "the abort: status, truncated, chunks the client read"
((stored <= 4 && whole_chunks > 6)) || fail "the proxy read on after the client left: $stored of $whole_chunks chunks stored"
expect_eq "$(exchanges sdk-timeout)" $'0 0 False 0\n0 0 False 0' "the SDK's timeout and its retry"
expect_eq "$(exchanges py-timeout)" "0 0 False 0" "urllib's timeout"
left_ms=$(retrace show py-timeout --json | json '[e["attrs"]["client_cancelled"]["at_us"] // 1000 for e in j["events"] if e["kind"] == "llm"][0]')
# (counted from when the proxy had the request: the client's 300 ms began
# before it had connected and sent it, so a little under 300 is right)
((left_ms >= 200 && left_ms < 1500)) || fail "urllib left after $left_ms ms"
# doctor says the program gave up, not that a stream broke off.
"$RETRACE_BIN" doctor abort > doctor.out || true
expect_contains "$(cat doctor.out)" "client gave up: 1 request(s) the program itself left"
expect_not_contains "$(cat doctor.out)" "broke off"
expect_contains "$(retrace show abort)" "3 chunks read)"

kill "$STREAM_PID" "$SLOW_PID"; wait "$STREAM_PID" "$SLOW_PID" 2> /dev/null || true
start_tripwire
for name in abort sdk-timeout py-timeout; do
  reproduced=0
  for ((i = 0; i < REPLAYS; i++)); do
    if "$RETRACE_BIN" replay "$name" --upstream openai="$TRIP_URL/v1" > replay.out 2> replay.err; then
      [[ $(cat replay.out) == "$(cat "$name.out")" ]] && reproduced=$((reproduced + 1))
    else
      tail -n 2 replay.err >&2
    fi
  done
  echo "$name: reproduced $reproduced/$REPLAYS"
  expect_eq "$reproduced" "$REPLAYS" "$name replays"
done
# The replay's own run records that its client left too.
read -r status stored truncated sent <<< "$(exchanges @latest)"
expect_eq "$status $sent" "0 0" "the replayed urllib timeout"
# The control for the pacing: sent at once, the abort comes too late.
expect_exit 1 "$RETRACE_BIN" replay abort --pace fast --upstream openai="$TRIP_URL/v1"
expect_ne "$OUT" "aborted after 3 chunks"
expect_eq "$(cat "$TRIP_LOG")" "" "nothing reached the network during replay"
echo "client_gives_up: ok"
