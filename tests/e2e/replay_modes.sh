# `retrace replay` beyond the happy path: divergence reports, retries, cut
# streams, repeated requests, unused exchanges, --mask, --ignore,
# --override, --until, --pace recorded, and bad input.
source "$(dirname "$0")/lib.sh"
start_sim --sim-seed 3
export OPENAI_BASE_URL=$SIM_URL/v1 ANTHROPIC_BASE_URL=$SIM_URL OPENAI_API_KEY=sk-test-MODESKEY0001
# ask.sh CONTENT [EXTRA_JSON]: one chat request with curl; prints the body.
cat > ask.sh <<'SH'
#!/bin/sh
curl -sS -N -D "headers.$$" "$OPENAI_BASE_URL/chat/completions" -H "authorization: Bearer $OPENAI_API_KEY" \
  -H 'content-type: application/json' \
  -d "{\"model\":\"gpt-4o\",\"temperature\":0.8,\"messages\":[{\"role\":\"user\",\"content\":\"$1\"}]${2:-}}"
echo " [curl exit $?]"
grep -i '^x-retrace-replayed' "headers.$$" | tr -d '\r' >> marks.log; rm -f "headers.$$"
SH
chmod +x ask.sh

# The client receives a divergence as an error it does not retry, the
# report names the JSON path, and replay exits 1 (no hang: timeout 30).
retrace record --name one -- ./ask.sh hello > one.out 2> /dev/null
[[ ! -s marks.log ]] || fail "recorded responses are marked replayed"
expect_exit 0 timeout 30 "$RETRACE_BIN" replay one
expect_eq "$OUT" "$(cat one.out)"
expect_eq "$(cat marks.log)" "x-retrace-replayed: 1" "replayed responses are marked"
expect_contains "$ERR" "retrace: reproduced"
expect_exit 1 timeout 30 "$RETRACE_BIN" replay one -- ./ask.sh goodbye
expect_contains "$OUT" '"type":"retrace_divergence"'
expect_contains "$ERR" 'diverged: POST /openai/chat/completions: no recorded request matches (nearest recorded: #2)'
expect_contains "$ERR" '$.messages[0].content: "hello" -> "goodbye"'
expect_contains "$ERR" "1 recorded exchange(s) never requested"

# A recorded 429 followed by the SDK's successful retry replays as such.
kill $SIM_PID; wait $SIM_PID 2> /dev/null || true
start_sim --sim-seed 3 --fail-sequence 429,ok
export OPENAI_BASE_URL=$SIM_URL/v1
cd "$SRC/tests/node"
retry_prog='import OpenAI from "openai";
const c = new OpenAI({ maxRetries: 2 });
const r = await c.chat.completions.create({ model: "gpt-4o", temperature: 0.8, messages: [{ role: "user", content: "retry me" }] });
console.log(r.choices[0].message.content);'
recorded=$(retrace record --name retry -- node --input-type=module -e "$retry_prog" 2> /dev/null)
cd "$WORK"
expect_eq "$(retrace show retry --json | json '[e["attrs"]["status"] for e in j["events"][1:]]')" "[429, 200]"
kill $SIM_PID; wait $SIM_PID 2> /dev/null || true
cd "$SRC/tests/node"
expect_exit 0 timeout 60 "$RETRACE_BIN" replay retry
expect_eq "$OUT" "$recorded" "the retry reproduced"
cd "$WORK"
expect_eq "$(retrace show @latest --json | json '[e["attrs"]["status"] for e in j["events"][1:]]')" "[429, 200]"

# A stream cut mid-way under record is replayed cut at the same frame.
start_sim --sim-seed 3 --fail-sequence midstream
export OPENAI_BASE_URL=$SIM_URL/v1
retrace record --name cut -- ./ask.sh streamed ',"stream":true' > cut.out 2> /dev/null || true
expect_not_contains "$(cat cut.out)" "curl exit 0"
expect_contains "$(cat cut.out)" "data: {"
kill $SIM_PID; wait $SIM_PID 2> /dev/null || true
expect_exit 0 timeout 30 "$RETRACE_BIN" replay cut
expect_eq "$OUT" "$(cat cut.out)" "cut at the same byte, same curl error"
expect_eq "$(retrace show @latest --json | json 'j["events"][1]["attrs"]["truncated"]')" "True"

# Repeated identical requests get their recorded answers in order; one more
# than recorded is a divergence, unless --reuse.
start_sim --sim-seed 3
export OPENAI_BASE_URL=$SIM_URL/v1
retrace record --name twice -- sh -c './ask.sh same; ./ask.sh same' > twice.out 2> /dev/null
expect_ne "$(sed -n 1p twice.out)" "$(sed -n 2p twice.out)" "temperature 0.8: two different answers"
kill $SIM_PID; wait $SIM_PID 2> /dev/null || true
expect_exit 0 "$RETRACE_BIN" replay twice
expect_eq "$OUT" "$(cat twice.out)" "answers in recorded order"
expect_exit 1 "$RETRACE_BIN" replay twice -- sh -c './ask.sh same; ./ask.sh same; ./ask.sh same'
expect_contains "$ERR" "its 2 recorded answer(s) were all used"
expect_exit 1 "$RETRACE_BIN" replay twice --reuse -- sh -c './ask.sh same; ./ask.sh same; ./ask.sh same'
expect_not_contains "$ERR" "were all used"
expect_contains "$ERR" "stdout line 3" "only the extra output differs"

# Unused recorded exchanges are a divergence unless --allow-unused.
expect_exit 1 "$RETRACE_BIN" replay twice -- sh -c './ask.sh same > /dev/null'
expect_contains "$ERR" "1 recorded exchange(s) never requested, first #3"
expect_exit 0 "$RETRACE_BIN" replay twice --allow-unused -- sh -c './ask.sh same > /dev/null; cat twice.out'

# --mask blanks volatile output before comparing; the control differs.
retrace record --name clock -- sh -c 'date +%s%N' > /dev/null
expect_exit 1 "$RETRACE_BIN" replay clock
expect_contains "$ERR" "stdout line 1"
expect_exit 0 "$RETRACE_BIN" replay clock --mask '[0-9]{19}'

# --ignore drops a volatile body field from matching; the control diverges.
start_sim --sim-seed 3
export OPENAI_BASE_URL=$SIM_URL/v1
retrace record --name volatile -- sh -c './ask.sh stamp ",\"user\":\"$(date +%s%N)\""' > /dev/null 2>&1
kill $SIM_PID; wait $SIM_PID 2> /dev/null || true
expect_exit 1 "$RETRACE_BIN" replay volatile
expect_contains "$ERR" '$.user: "'
expect_exit 0 "$RETRACE_BIN" replay volatile --ignore '$.user'

# --override N=FILE replays with event N's answer replaced.
echo '{"id":"x","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"OVERRIDDEN"},"finish_reason":"stop"}]}' > answer.json
expect_exit 1 "$RETRACE_BIN" replay one --override 2=answer.json
expect_contains "$OUT" '"content":"OVERRIDDEN"'
expect_contains "$ERR" "stdout line 1" "a counterfactual is not a reproduction"

# --until N: events up to N from the recording, later requests live.
start_sim --sim-seed 3
export OPENAI_BASE_URL=$SIM_URL/v1
expect_exit 1 "$RETRACE_BIN" replay twice --until 2
expect_eq "$(sed -n 1p <<< "$OUT")" "$(sed -n 1p twice.out)" "event 2 from the recording"
expect_ne "$(sed -n 3p <<< "$OUT")" "$(sed -n 2p twice.out)" "event 3 live, sampled anew"
expect_eq "$(retrace show @latest --json | json '[(e["attrs"].get("replayed_from"), e["attrs"].get("live")) for e in j["events"][1:]]')" \
  "[(2, None), (None, True)]"

# --pace recorded replays a stream at its recorded timing; the default is fast.
kill $SIM_PID; wait $SIM_PID 2> /dev/null || true
start_sim --sim-seed 3 --stream-interval 40
export OPENAI_BASE_URL=$SIM_URL/v1
retrace record --name slow -- ./ask.sh slowly ',"stream":true' > /dev/null 2>&1
kill $SIM_PID; wait $SIM_PID 2> /dev/null || true
span() { retrace show @latest --json | json 'j["events"][1]["attrs"]["chunks"][-1][0] // 1000'; }
recorded_ms=$(retrace show slow --json | json 'j["events"][1]["attrs"]["chunks"][-1][0] // 1000')
(( recorded_ms > 400 )) || fail "the recorded stream took ${recorded_ms} ms"
expect_exit 0 "$RETRACE_BIN" replay slow
(( $(span) < recorded_ms / 4 )) || fail "a fast replay took $(span) ms of ${recorded_ms}"
expect_exit 0 "$RETRACE_BIN" replay slow --pace recorded
(( $(span) >= recorded_ms * 9 / 10 )) || fail "a paced replay took $(span) ms of ${recorded_ms}"

# Bad input: one line, exit 2, nothing recorded.
before=$(retrace runs --json | json 'len(j)')
expect_exit 2 "$RETRACE_BIN" replay nosuchrun
expect_contains "$ERR" "nosuchrun"
expect_exit 2 "$RETRACE_BIN" replay one --override 9=answer.json
expect_contains "$ERR" "--override 9"
expect_exit 2 "$RETRACE_BIN" replay one --override 2=missing.json
expect_exit 2 "$RETRACE_BIN" replay one --ignore 'user'
expect_contains "$ERR" "JSONPath"
expect_exit 2 "$RETRACE_BIN" replay one --mask '('
expect_exit 2 "$RETRACE_BIN" replay one --on-miss sometimes
retrace record --name secretargv -- echo sk-test-ARGVSECRET0001 > /dev/null
expect_exit 2 "$RETRACE_BIN" replay secretargv
expect_contains "$ERR" "give the command after --"
before=$(retrace runs --json | json 'len(j)')
expect_eq "$(retrace runs --json | json 'len(j)')" "$before" "bad input recorded nothing"
echo "replay_modes: ok"
