# `retrace probe`: pre-registered, K recorded runs judged by an oracle, a
# Wilson interval, a decision on the interval, a verdict; exact counts from
# a failure schedule fixed in advance, so the test cannot flake.
source "$(dirname "$0")/lib.sh"
export OPENAI_API_KEY=sk-test-PROBEKEY0001
cat > cite.sh <<'SH'
curl -sS -f "$OPENAI_BASE_URL/chat/completions" -H "authorization: Bearer $OPENAI_API_KEY" \
  -H 'content-type: application/json' \
  -d '{"model":"gpt-4o","temperature":0,"messages":[{"role":"user","content":"cite your source"}]}' 2> /dev/null |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["system_fingerprint"])'
SH
runs() { retrace runs --json | json 'len(j)'; }

# Every fourth request fails (500): exactly 10 of 40.
start_sim --sim-seed 3 --fail-sequence 500,ok,ok,ok
export OPENAI_BASE_URL=$SIM_URL/v1
expect_exit 3 "$RETRACE_BIN" probe --k 40 --jobs 4 --hypothesis "the citation step fails in ~30% of runs" \
  --rule "fail_rate >= 0.2" --name cite -- sh cite.sh
expect_contains "$OUT" "runs       40 of 40, 10 failed"
expect_contains "$OUT" "fail rate  0.250  95% CI [0.142, 0.402]"
expect_contains "$OUT" "rule       fail_rate >= 0.2: inconclusive at this K"
expect_contains "$OUT" "verdict    stochastic (rate [0.142, 0.402])"
# The registration is announced before the first run.
expect_eq "$(head -1 <<< "$ERR" | cut -d' ' -f2,4)" "probe registered,"
expect_contains "$(sed -n 2p <<< "$ERR")" "retrace: probe: 1 of 40 runs"
probe_id=$(head -1 <<< "$ERR" | cut -d' ' -f3)
expect_eq "$(retrace show cite.run --json | json 'j["conditions"]["params"]["retrace_probe"]')" "$probe_id"
expect_eq "$(retrace runs --name cite.run --json | json 'len(j)')" "40"
# The probe's own records are sealed like every run: with their end and
# duration (the registration once lacked duration_ms); a run as the control.
sealed_keys() { retrace show "$1" --json | json '" ".join(k for k in ("ended_ns", "duration_ms") if k in j["metadata"])'; }
expect_eq "$(sealed_keys cite.run)" "ended_ns duration_ms"
expect_eq "$(sealed_keys "$probe_id")" "ended_ns duration_ms"
# The decision uses the interval: accepted when all of it satisfies the
# rule, rejected when none of it does.
expect_exit 0 "$RETRACE_BIN" probe --k 8 --rule "fail_rate >= 0.01 or pass_rate < 0.99" --name accept -- sh cite.sh
expect_contains "$OUT" ": accept"
expect_exit 1 "$RETRACE_BIN" probe --k 8 --rule "fail_rate >= 0.9" --name reject -- sh cite.sh
expect_contains "$OUT" ": reject"
# A finished probe re-prints; probes are listed.
expect_exit 0 "$RETRACE_BIN" probe show "$probe_id"
expect_contains "$OUT" "runs       40 of 40, 10 failed"
expect_contains "$(retrace probe show "$probe_id" --json | json 'j["fail_rate_interval"]')" "[0.1418"
expect_contains "$(retrace probes)" "$probe_id"
expect_contains "$(retrace probes)" "10 of 40 failed, stochastic"
expect_exit 2 "$RETRACE_BIN" probe show cite.run
expect_contains "$ERR" "is not a probe registration"
# Tokens from the recorded usage; cost with --prices.
echo '{"gpt-4o": {"input": 2.5, "output": 10}}' > prices.json
expect_exit 0 "$RETRACE_BIN" probe --k 4 --prices prices.json --name priced --json -- sh cite.sh
expect_eq "$(json '(j["tokens"]["input"] > 0, j["cost_usd"]["total"] > 0, j["cost_usd"]["unpriced_models"])' <<< "$OUT")" "(True, True, [])"
echo '{"gpt-4o": {"input": "cheap"}}' > badprices.json
expect_exit 2 "$RETRACE_BIN" probe --k 2 --prices badprices.json -- true
# The stored registration is tamper-evident.
expect_exit 0 "$RETRACE_BIN" verify "$probe_id"
sqlite3 "$RETRACE_STORE/retrace.db" "UPDATE events SET attrs = replace(attrs, 'citation step', 'citation steps') WHERE run_id = '$probe_id'"
expect_exit 1 "$RETRACE_BIN" verify "$probe_id"
kill "$SIM_PID"; wait "$SIM_PID" 2> /dev/null || true

# Failures that line up with one backend: conditional on conditions. The
# oracle passes only the first fingerprint the sim serves.
start_sim --sim-seed 3 --rotate-fingerprint 5
export OPENAI_BASE_URL=$SIM_URL/v1
first=$(sh cite.sh)
expect_exit 0 "$RETRACE_BIN" probe --k 10 --oracle "grep -q $first \"\$RETRACE_STDOUT\"" --name rot -- sh cite.sh
expect_contains "$OUT" "runs       10 of 10, 6 failed"
expect_contains "$OUT" "verdict    conditional on conditions"
expect_contains "$OUT" "$first  4 runs, 0 failed"
# A token budget stops the probe (every request here is answered).
expect_exit 0 "$RETRACE_BIN" probe --k 10 --budget-tokens 1 --name budget -- sh cite.sh
expect_contains "$OUT" "runs       1 of 10, 0 failed  (stopped early after 1 runs: the token budget (1) was spent)"

# A clear-cut case stops early under --sequential.
expect_exit 0 "$RETRACE_BIN" probe --k 40 --sequential p0=0.05,p1=0.3 --name always -- false
expect_contains "$OUT" "runs       2 of 40, 2 failed  (stopped early after 2 runs"
expect_contains "$OUT" "verdict    deterministic fail"
# The same outcome and trajectory every time: deterministic pass.
expect_exit 0 "$RETRACE_BIN" probe --k 5 --name steady --output steady.txt -- sh -c 'echo steady | tee steady.txt'
expect_contains "$OUT" "verdict    deterministic pass"
# Record options reach every run: here --output.
expect_eq "$(retrace which steady.txt --json | json 'len(j["runs"])')" "5"

# A deterministic-but-conditional bug: the program fails only when its
# input holds a trigger token. --vary finds the variant; a reroll of a
# harmless input never can.
cat > answer.sh <<'SH'
case "$1" in *'||'*) echo "parse error"; exit 1 ;; esac
echo "answer for $1 (variant $RETRACE_VARIANT)"
SH
printf '%s\n' '{"q":"weather in Paris"}' '{"q":"a || b"}' '{"q":"opening hours"}' '{"q":"refund policy"}' > variants.jsonl
expect_exit 0 "$RETRACE_BIN" probe --k 5 --jobs 2 --vary variants.jsonl --name vary --svg vary.svg -- sh answer.sh '{q}'
expect_contains "$OUT" "runs       20 of 20, 5 failed"
expect_contains "$OUT" 'variant    {"q":"a || b"}: 5 of 5 failed'
expect_contains "$OUT" 'verdict    conditional on input (variants {"q":"a || b"})'
expect_contains "$(retrace show vary.run --json | json 'j["events"][0]["attrs"]["argv"]')" "['sh', 'answer.sh',"
# The chart: a row per variant, the trigger's interval far right.
python3 - vary.svg <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
ns = "{http://www.w3.org/2000/svg}"
labels = [t.text for t in root.iter(ns + "text") if t.text and "/5)" in t.text]
assert labels == ['{"q":"weather in Paris"} (0/5)', '{"q":"a || b"} (5/5)', '{"q":"opening hours"} (0/5)', '{"q":"refund policy"} (0/5)'], labels
dots = [float(c.get("cx")) for c in root.iter(ns + "circle")]
assert dots[1] > max(dots[0], dots[2], dots[3]), dots
PY
expect_exit 0 "$RETRACE_BIN" probe --k 5 --name reroll -- sh answer.sh "weather in Paris"
expect_contains "$OUT" "verdict    deterministic pass"
echo '{"q": ' > broken.jsonl
expect_exit 2 "$RETRACE_BIN" probe --k 5 --vary broken.jsonl -- true
expect_contains "$ERR" "line 1: not a JSON object"

# Bad input: one line, exit 2, nothing stored.
before=$(runs)
expect_exit 2 "$RETRACE_BIN" probe --k 5 --rule "fail_rate >> 2" -- true
expect_contains "$ERR" "--rule"
expect_exit 2 "$RETRACE_BIN" probe --k 0 -- true
expect_exit 2 "$RETRACE_BIN" probe --k 5 --sequential p0=0.5 -- true
expect_eq "$(runs)" "$before" "bad input stored nothing"
echo "probe: ok"
