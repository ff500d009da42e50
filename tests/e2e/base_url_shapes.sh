# Clients disagree on where /v1 goes: the Anthropic SDK appends /v1/messages
# to a bare host, the AI SDK's Anthropic provider appends /messages to a
# base ending in /v1, and some OpenAI-compatible clients append
# /v1/chat/completions to a bare host. Through `record`, every shape reaches
# the provider at its API's path, whichever shape ANTHROPIC_BASE_URL itself
# has, is recorded under one path, and replays.
source "$(dirname "$0")/lib.sh"
start_sim --sim-seed 3
export OPENAI_API_KEY=sk-test-SHAPES00001 ANTHROPIC_API_KEY=sk-ant-SHAPES00002
cat > "$WORK/shapes.sh" <<'PROG'
set -e
msg='{"model":"claude-3-5-haiku-latest","max_tokens":50,"temperature":0,"messages":[{"role":"user","content":"hi"}]}'
chat='{"model":"gpt-4o","temperature":0,"messages":[{"role":"user","content":"hi"}]}'
post() { curl -sS -o /dev/null -w '%{http_code}\n' -H 'content-type: application/json' \
  -H "x-api-key: $ANTHROPIC_API_KEY" -H 'anthropic-version: 2023-06-01' \
  -H "authorization: Bearer $OPENAI_API_KEY" -d "$2" "$1"; }
echo "anthropic /v1/messages $(post "$ANTHROPIC_BASE_URL/v1/messages" "$msg")"
echo "anthropic /messages $(post "$ANTHROPIC_BASE_URL/messages" "$msg")"
echo "openai /chat/completions $(post "$OPENAI_BASE_URL/chat/completions" "$chat")"
echo "openai /v1/chat/completions $(post "$OPENAI_BASE_URL/v1/chat/completions" "$chat")"
PROG
want="anthropic /v1/messages 200
anthropic /messages 200
openai /chat/completions 200
openai /v1/chat/completions 200"

# Control: straight at the sim, only the shape that fits the base URL works.
direct=$(ANTHROPIC_BASE_URL=$SIM_URL OPENAI_BASE_URL=$SIM_URL/v1 bash "$WORK/shapes.sh")
expect_contains "$direct" "anthropic /messages 404"
expect_contains "$direct" "openai /v1/chat/completions 404"

# Upstream given as a bare host (the Anthropic SDK's convention), then as a
# base ending in /v1 (the AI SDK's).
for upstream in "$SIM_URL" "$SIM_URL/v1"; do
  out=$(ANTHROPIC_BASE_URL=$upstream OPENAI_BASE_URL=$SIM_URL/v1 \
    retrace record --name "shapes" -- bash "$WORK/shapes.sh" 2> "$WORK/rec.err")
  expect_eq "$out" "$want" "every shape answered with upstream $upstream; $(cat "$WORK/rec.err")"
  expect_eq "$(retrace show shapes --json | json '[e["name"] for e in j["events"][1:]]')" \
    "['POST /v1/messages', 'POST /v1/messages', 'POST /chat/completions', 'POST /chat/completions']" \
    "one recorded path per API"
done

# Offline, each shape gets its recorded answer; the two of each API match
# either recorded exchange, being the same request.
kill $SIM_PID; wait $SIM_PID 2>/dev/null || true
start_tripwire
set +e
replayed=$(ANTHROPIC_BASE_URL=$TRIP_URL OPENAI_BASE_URL=$TRIP_URL/v1 \
  timeout 60 "$RETRACE_BIN" replay shapes 2> "$WORK/replay.err")
rc=$?
set -e
expect_eq "$rc" 0 "replay: $(cat "$WORK/replay.err")"
expect_eq "$replayed" "$want"
expect_contains "$(cat "$WORK/replay.err")" "retrace: reproduced"
expect_eq "$(wc -l < "$TRIP_LOG")" 0 "connections to the network during replay"
echo "base_url_shapes: ok"
