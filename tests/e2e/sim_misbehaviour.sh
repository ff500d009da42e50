# Each misbehaviour switch of `retrace sim`, made deterministic with
# --sim-seed, --fail-sequence and --batch-noise-every, next to the control
# that shows the well-behaved sim does not do it.
source "$(dirname "$0")/lib.sh"

# chat [CURL ARGS...] < BODY: POST a chat completion, print the response body.
chat() { curl -sS "$SIM_URL/v1/chat/completions" -H 'authorization: Bearer sk-test-aaaaaaaaaaaa' -H 'content-type: application/json' "$@" --data-binary @-; }
field() { json "$1"; }
body() { echo "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}],\"temperature\":$1${2:+,$2}}"; }
content() { field 'j["choices"][0]["message"]["content"]'; }
fingerprint() { field 'j["system_fingerprint"]'; }
restart_sim() { kill $SIM_PID 2>/dev/null; wait $SIM_PID 2>/dev/null || true; start_sim "$@"; }

# --- seeds: honoured by default, ignored with --ignore-seed
start_sim --sim-seed 1
a=$(body 0.7 '"seed":5' | chat | content); b=$(body 0.7 '"seed":5' | chat | content)
expect_eq "$a" "$b" "control: a seed at temperature 0.7 makes outputs equal"
c=$(body 0.7 | chat | content); d=$(body 0.7 | chat | content)
expect_ne "$c" "$d" "temperature 0.7 without a seed samples"
restart_sim --sim-seed 1 --ignore-seed
a=$(body 0.7 '"seed":5' | chat | content); b=$(body 0.7 '"seed":5' | chat | content)
expect_ne "$a" "$b" "--ignore-seed: seeded requests differ"

# --- fingerprint rotation: the fourth response has a new fingerprint and output
restart_sim --sim-seed 1 --rotate-fingerprint 3
outs=(); fps=()
for i in 1 2 3 4; do r=$(body 0 | chat); outs+=("$(echo "$r" | content)"); fps+=("$(echo "$r" | fingerprint)"); done
expect_eq "${fps[1]} ${fps[2]}" "${fps[0]} ${fps[0]}" "first three share a fingerprint"
expect_eq "${outs[1]}|${outs[2]}" "${outs[0]}|${outs[0]}" "first three share an output"
expect_ne "${fps[3]}" "${fps[0]}" "fourth response: new fingerprint"
expect_ne "${outs[3]}" "${outs[0]}" "fourth response: new output"
restart_sim --sim-seed 1
x=$(body 0 | chat | fingerprint); for i in 1 2 3 4; do y=$(body 0 | chat | fingerprint); done
expect_eq "$y" "$x" "control: no rotation without the switch"

# --- batch noise: exactly every 2nd temperature-0 request differs, same fingerprint
restart_sim --sim-seed 1 --batch-noise-every 2
r1=$(body 0 | chat); r2=$(body 0 | chat); r3=$(body 0 | chat)
expect_eq "$(echo "$r3" | content)" "$(echo "$r1" | content)" "requests 1 and 3 are not perturbed"
expect_ne "$(echo "$r2" | content)" "$(echo "$r1" | content)" "request 2 is perturbed"
expect_eq "$(echo "$r2" | fingerprint)" "$(echo "$r1" | fingerprint)" "batch noise keeps the fingerprint"
# --batch-noise P is reproducible under one --sim-seed.
pattern() { local p=; for i in $(seq 12); do p+=$(body 0 | chat | content | sha256sum | cut -c1-4)" "; done; echo "$p"; }
restart_sim --sim-seed 42 --batch-noise 0.5; p1=$(pattern)
restart_sim --sim-seed 42 --batch-noise 0.5; p2=$(pattern)
expect_eq "$p2" "$p1" "same --sim-seed, same noise pattern"
[[ $(echo "$p1" | tr ' ' '\n' | sort -u | grep -c .) -gt 1 ]] || fail "--batch-noise 0.5 perturbed nothing in 12 requests"

# --- persona by key: the account changes the output, nothing in the response says so
restart_sim --sim-seed 1 --persona-by-key
k1=$(body 0 | chat); k1b=$(body 0 | chat)
k2=$(body 0 | curl -sS "$SIM_URL/v1/chat/completions" -H 'authorization: Bearer sk-test-bbbbbbbbbbbb' --data-binary @-)
expect_eq "$(echo "$k1b" | content)" "$(echo "$k1" | content)" "same key, same output"
expect_ne "$(echo "$k2" | content)" "$(echo "$k1" | content)" "another key, another output"
expect_eq "$(echo "$k2" | fingerprint)" "$(echo "$k1" | fingerprint)" "with the same fingerprint"
restart_sim --sim-seed 1
k1=$(body 0 | chat | content)
k2=$(body 0 | curl -sS "$SIM_URL/v1/chat/completions" -H 'authorization: Bearer sk-test-bbbbbbbbbbbb' --data-binary @- | content)
expect_eq "$k2" "$k1" "control: keys do not matter without --persona-by-key"

# --- scripted failures, with the provider's error shapes
restart_sim --sim-seed 1 --fail-sequence 429,ok,500,ok
codes=""
for i in 1 2 3 4; do codes+=$(body 0 | chat -o /dev/null -w '%{http_code} '); done
expect_eq "$codes" "429 200 500 200 "
restart_sim --sim-seed 1 --fail-sequence 429
h=$(body 0 | chat -D - -o "$WORK/429.json")
expect_contains "$h" "retry-after: 1"
expect_eq "$(field 'j["error"]["code"]' < "$WORK/429.json")" "rate_limit_exceeded"
restart_sim --sim-seed 1 --fail-sequence 529
code=$(curl -sS -o "$WORK/529.json" -w '%{http_code}' "$SIM_URL/v1/messages" -H 'x-api-key: k' \
  -d '{"model":"claude-sonnet-4-6","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}')
expect_eq "$code" 529
expect_eq "$(field 'j["type"] + " " + j["error"]["type"]' < "$WORK/529.json")" "error overloaded_error"

# --- random failures are reproducible under one --sim-seed
statuses() { local s=; for i in $(seq 10); do s+=$(body 0 | chat -o /dev/null -w '%{http_code} '); done; echo "$s"; }
restart_sim --sim-seed 3 --fail-rate 0.5; s1=$(statuses)
restart_sim --sim-seed 3 --fail-rate 0.5; s2=$(statuses)
expect_eq "$s2" "$s1" "same --sim-seed, same failures"
expect_contains "$s1" "200"; [[ $s1 == *429* || $s1 == *500* ]] || fail "no failure in: $s1"

# --- connection reset, and a stream cut in the middle
restart_sim --sim-seed 1 --fail-sequence reset
set +e; body 0 | chat -o /dev/null 2>/dev/null; rc=$?; set -e
[[ $rc == 56 || $rc == 52 ]] || fail "reset: curl exit $rc, expected a connection failure"
restart_sim --sim-seed 1 --fail-sequence midstream
set +e; body 0 '"stream":true' | chat -N > "$WORK/cut.sse" 2>/dev/null; rc=$?; set -e
expect_ne "$rc" 0 "a cut stream is an error for the client"
expect_contains "$(cat "$WORK/cut.sse")" "data: {"
expect_not_contains "$(cat "$WORK/cut.sse")" "[DONE]" "the stream was cut before its end"

# --- latency and stream pacing
restart_sim --sim-seed 1 --latency 300 --stream-interval 50
t=$(body 0 | chat -o /dev/null -w '%{time_total}')
python3 -c "import sys; sys.exit(0 if $t >= 0.3 else 1)" || fail "--latency 300 answered in ${t}s"
times=$(body 0 '"stream":true' | chat -N -o "$WORK/s.sse" -w '%{time_starttransfer} %{time_total}')
frames=$(grep -c '^data: ' "$WORK/s.sse")
python3 - $times $frames <<'PY' || fail "stream pacing: $times for $frames frames"
import sys
first, total, frames = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
assert total - first >= 0.05 * (frames - 2), (first, total, frames)  # frames arrive paced, not as one burst
PY

# --- stateful clock; per-request x-sim-* headers
restart_sim --sim-seed 1
expect_contains "$(body 0 | chat -H 'x-sim-stateful-clock: 1' | content)" "It is 20"
expect_not_contains "$(body 0 | chat | content)" "It is 20" "control: no clock without the switch"
a=$(body 0.7 '"seed":5' | chat -H 'x-sim-ignore-seed: 1' | content); b=$(body 0.7 '"seed":5' | chat -H 'x-sim-ignore-seed: 1' | content)
expect_ne "$a" "$b" "x-sim-ignore-seed per request"

# --- malformed requests get the provider's error shape, never a crash
expect_eq "$(echo '{not json' | chat -w ' %{http_code}' | tail -c 4)" " 400"
expect_eq "$(echo '{not json' | chat | field 'j["error"]["type"]')" "invalid_request_error"
expect_eq "$(echo '{"model":"gpt-4o","messages":"hi"}' | chat | field 'j["error"]["param"]')" "messages"
expect_eq "$(echo '{"model":"gpt-4o","messages":[{"role":"user","content":"x"}],"temperature":"hot"}' | chat | field 'j["error"]["param"]')" "temperature"
expect_eq "$(echo '{"model":"gpt-4o","messages":[7]}' | chat | field 'j["error"]["param"]')" "messages[0].role"
expect_eq "$(echo '[]' | curl -sS "$SIM_URL/v1/messages" -H 'x-api-key: k' --data-binary @- | field 'j["error"]["type"]')" "invalid_request_error"
expect_eq "$(body 0 | chat -H 'x-sim-bogus: 1' -o /dev/null -w '%{http_code}')" 400
expect_eq "$(curl -sS -o /dev/null -w '%{http_code}' "$SIM_URL/v1/models")" 200
kill -0 $SIM_PID || fail "the sim died"
echo "sim_misbehaviour: ok"
