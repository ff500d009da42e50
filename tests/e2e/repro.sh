# `retrace repro`: a failed run is reproduced offline, and against a passing
# run of the same program its cause is isolated among the differences and
# proven both ways. The program (repro/support_agent.py) closes an account
# when its tools, retrieval, clock, random source, model, provider, command
# line or environment say so; each pair of runs plants one cause (one of
# each kind) among answers that differ and change nothing.
source "$(dirname "$0")/lib.sh"
export PYTHONPATH=$SRC/sdk/python
agent=$SRC/tests/e2e/repro/support_agent.py
world() { printf '%s' "$2" > "$WORK/$1.json"; }
params=()  # record's --param options for the next runs
record() {  # record NAME WORLD [ARGS...]: a run of the agent in that world
  set +e
  WORLD=$WORK/$2.json retrace record --name "$1" --env ACCOUNT_TIER "${params[@]}" -- \
    python3 "$agent" "${@:3}" > "$WORK/$2.out" 2> /dev/null
  set -e
}
# (repro runs in the failing run's world: the program reads which lookups to
# make from it; every answer comes from the recordings)
repro_json() {  # repro_json ARGS...: the JSON report in $WORK/r.json, the exit code in RC
  set +e
  retrace repro "$@" --json > "$WORK/r.json" 2> "$WORK/r.err"
  RC=$?
  set -e
}
field() { json "$1" < "$WORK/r.json"; }

# 1. A stale tool result among three lookups that differ for nothing.
world pass1 '{"state": {"status": "overdue", "grace": true}, "docs": ["grace of 30 days"], "noise": {"a": 1, "b": 2, "c": 3}}'
world fail1 '{"state": {"status": "overdue"}, "docs": ["grace of 30 days"], "noise": {"a": 9, "b": 8, "c": 7}}'
record agent pass1
record agent fail1
expect_contains "$(cat "$WORK/fail1.out")" "closed account A-1: overdue without grace"
failed=$(latest_id)
WORLD=$WORK/fail1.json repro_json "$failed" --k 5
expect_eq "$RC" 0 "repro exit code; $(tail -3 "$WORK/r.err")"
expect_eq "$(field 'j["validate"]["failed_as_recorded"], j["validate"]["replays"]')" "5 5"
expect_eq "$(field 'j["passing"]["how"]')" "the newest passing run named agent"
expect_eq "$(field 'len(j["differences"])')" 4 "account_state and three lookups differ"
expect_eq "$(field '[(c["kind"], c["name"]) for c in j["isolate"]["cause"]]')" "[('tool', 'account_state')]"
expect_eq "$(field '[c["path"] for c in j["isolate"]["cause"][0]["changes"]]')" "['\$.grace']"
expect_eq "$(field 'j["proof"]["cause_applied_fails"], j["proof"]["cause_reverted_passes"], j["proof"]["of"]')" "5 5 5"
# Every replay is a run of its own, marked as this repro's.
expect_eq "$(field 'len(j["runs"])')" "$(retrace runs --json --name agent.repro | json 'len(j)')"
expect_contains "$(retrace show "$(field 'j["runs"][-1]')" --json | json 'j["conditions"]["params"]')" "'retrace_repro': '$failed'"
# The text report names the cause and its proof.
set +e; text=$(WORLD=$WORK/fail1.json retrace repro "$failed" --k 2 2> /dev/null); set -e
expect_contains "$text" "tool account_state"
expect_contains "$text" "\$.grace: true -> (absent)"
expect_contains "$text" "verdict    reproduced, cause isolated and proven"

# 2. Two differences that fail only together: the clock past 23:00 and a
# draw above 0.5. Either alone passes.
world pass2 '{"state": {"status": "current"}, "docs": [], "now": 1764547200, "draw": 0.25, "noise": {"a": 1, "b": 2}}'
world fail2 '{"state": {"status": "current"}, "docs": [], "now": 1764631800, "draw": 0.75, "noise": {"a": 5, "b": 6}}'
record pair pass2
record pair fail2
WORLD=$WORK/fail2.json repro_json pair --k 3
expect_eq "$RC" 0 "repro of the pair; $(tail -3 "$WORK/r.err")"
expect_eq "$(field 'sorted((c["kind"], c["name"]) for c in j["isolate"]["cause"])')" "[('clock', 'now'), ('random', 'random')]"
expect_eq "$(field 'j["proof"]["proven"]')" "True"

# 3. One cause among 50 differences: the policy documents, the last of
# them (the worst place for the search), found in a logarithmic number of
# test replays: 2 log2(50) + 4 = 15.3 at most.
noise_p=$(python3 -c 'import json; print(json.dumps({"k%02d" % i: i for i in range(49)}))')
noise_f=$(python3 -c 'import json; print(json.dumps({"k%02d" % i: 100 + i for i in range(49)}))')
world pass3 "{\"state\": {\"status\": \"current\"}, \"docs\": [\"grace of 30 days\"], \"noise\": $noise_p}"
world fail3 "{\"state\": {\"status\": \"current\"}, \"docs\": [\"no grace after 60 days\"], \"noise\": $noise_f}"
record many pass3
record many fail3
WORLD=$WORK/fail3.json repro_json many --k 2
expect_eq "$RC" 0 "repro among 50; $(tail -3 "$WORK/r.err")"
expect_eq "$(field 'len(j["differences"])')" 50
expect_eq "$(field '[(c["kind"], c["name"]) for c in j["isolate"]["cause"]]')" "[('retrieval', 'policy')]"
expect_eq "$(field 'j["isolate"]["tests"]')" 12 "test replays to isolate one cause among 50"

# 4. Tests that ask for what neither run holds are unresolved, and the
# cause is still found: `detail` is asked with the answers of n2 and n3
# together, so a test with one of them from each run asks for neither's.
world pass4 '{"state": {"status": "current"}, "docs": ["grace"], "noise": {"n1": 1, "n2": 2, "n3": 3, "n4": 4}}'
world fail4 '{"state": {"status": "current"}, "docs": ["no grace"], "noise": {"n1": 9, "n2": 8, "n3": 7, "n4": 6}}'
record follow pass4
record follow fail4
WORLD=$WORK/fail4.json repro_json follow --k 2
expect_eq "$RC" 0 "repro with unresolved tests; $(tail -3 "$WORK/r.err")"
expect_eq "$(field '[(c["kind"], c["name"]) for c in j["isolate"]["cause"]]')" "[('retrieval', 'policy')]"
expect_eq "$(field 'j["isolate"]["unresolved"] >= 1')" "True" "some tests were unresolved"

# 5. No passing run: validated, bundled, and exit 3 with the way to get one.
record alone fail1
WORLD=$WORK/fail1.json repro_json alone --k 2 -o "$WORK/alone"
expect_eq "$RC" 3 "no passing run"
expect_eq "$(field 'j["validate"]["failed_as_recorded"]')" 2
expect_contains "$(field 'j["not_isolated"]')" "retrace probe"
expect_eq "$(field 'j["bundle"]["runs"], j["bundle"]["revalidated"]["reproduced"]')" "1 2" "bundled and re-validated"
expect_eq "$(json 'j["cause"], j["passing"]' < "$WORK/alone/manifest.json")" "[] None"
expect_contains "$(cat "$WORK/alone/README.md")" "Not isolated: no passing run of this program"
WORLD=$WORK/fail1.json expect_exit 0 retrace repro check "$WORK/alone" --k 1
expect_contains "$OUT" "reproduced 1/1"

# 6. A failure that does not reproduce: the program fails on its first run
# only (a counter file it keeps, which nothing records).
cat > "$WORK/flaky.py" <<'PY'
import os, sys
path = os.environ["COUNTER"]
n = int(open(path).read()) if os.path.exists(path) else 0
open(path, "w").write(str(n + 1))
print("attempt", "first" if n == 0 else "later")
sys.exit(1 if n == 0 else 0)
PY
set +e; COUNTER=$WORK/counter retrace record --name flaky -- python3 "$WORK/flaky.py" > /dev/null 2>&1; set -e
set +e; COUNTER=$WORK/counter retrace repro flaky --k 3 > "$WORK/flaky.out" 2> /dev/null; rc=$?; set -e
expect_eq "$rc" 1 "not reproduced"
expect_contains "$(cat "$WORK/flaky.out")" "validate   0/3 replays failed as recorded"
expect_contains "$(cat "$WORK/flaky.out")" 'stdout line 1: recorded "attempt first", replayed "attempt later"'
expect_contains "$(cat "$WORK/flaky.out")" "verdict    not reproduced"

# 6b. A replay that exits as the failure did, but crashed on the way (an input
# that is gone): not the same failure.
cat > "$WORK/reads.py" <<'PY'
import os, sys
print("closed: " + open(os.environ["INPUT_FILE"]).read().strip())
sys.exit(1)
PY
echo "stale" > "$WORK/input.txt"
set +e; INPUT_FILE=$WORK/input.txt retrace record --name reads -- python3 "$WORK/reads.py" > /dev/null 2>&1; set -e
INPUT_FILE=$WORK/input.txt expect_exit 3 retrace repro reads --k 2
expect_contains "$OUT" "validate   2/2 replays failed as recorded" "control: the input still there"
rm "$WORK/input.txt"
INPUT_FILE=$WORK/input.txt expect_exit 1 retrace repro reads --k 2
expect_contains "$OUT" "validate   0/2 replays failed as recorded"
expect_contains "$OUT" 'escaped  a replay failed another way: stdout line 1: recorded "closed: stale"'

# 6c. An unrecorded source of randomness (recorded without --deterministic):
# every replay fails, each with another order id than the recording's.
cat > "$WORK/orders.py" <<'PY'
import sys, uuid
print("duplicate order", uuid.uuid4())
sys.exit(1)
PY
set +e; retrace record --name orders -- python3 "$WORK/orders.py" > /dev/null 2>&1; set -e
expect_exit 1 retrace repro orders --k 3
expect_contains "$OUT" "validate   0/3 replays failed as recorded"
expect_contains "$OUT" "escaped  a replay failed another way: stdout line 1"
expect_eq "$(grep -c 'failed another way' <<< "$OUT")" 1 "said once, not once per replay"
expect_contains "$OUT" "escaped  doctor: clock and randomness"

# 7. The command line: a trigger word among answers that differ for nothing.
world pass7 '{"state": {"status": "current"}, "docs": [], "noise": {"a": 1, "b": 2}}'
world fail7 '{"state": {"status": "current"}, "docs": [], "noise": {"a": 3, "b": 4}}'
record words pass7
record words fail7 --urgent
WORLD=$WORK/fail7.json repro_json words --k 2
expect_eq "$RC" 0 "repro of a trigger word; $(tail -3 "$WORK/r.err")"
expect_eq "$(field '[(c["kind"], c["changes"][0]["path"], c["changes"][0]["failing"]) for c in j["isolate"]["cause"]]')" \
  "[('argv', '\$.argv[2]', '\"--urgent\"')]"

# 8. An environment variable declared with --env: the tests run in the
# failing run's recorded environment, whatever the shell running repro has.
record tier pass7
ACCOUNT_TIER=trial record tier fail7
ACCOUNT_TIER=gold WORLD=$WORK/fail7.json repro_json tier --k 2
expect_eq "$RC" 0 "repro of an environment variable; $(tail -3 "$WORK/r.err")"
expect_eq "$(field 'j["validate"]["failed_as_recorded"]')" 2 "replayed in the recorded environment"
expect_eq "$(field '[(c["kind"], c["name"], c["changes"][0]["failing"]) for c in j["isolate"]["cause"]]')" \
  "[('env', 'ACCOUNT_TIER', '\"trial\"')]"

# 8b. A param (record --param, which the program gets as RETRACE_PARAM_REGION),
# beside one that differs and changes nothing.
params=(--param REGION=eu --param BATCH=1); record region pass7
params=(--param REGION=legacy --param BATCH=2); record region fail7
params=()
expect_contains "$(cat "$WORK/fail7.out")" "the legacy region closes"
WORLD=$WORK/fail7.json repro_json region --k 2
expect_eq "$RC" 0 "repro of a param; $(tail -3 "$WORK/r.err")"
expect_eq "$(field 'sorted(d["kind"] + " " + d["name"] for d in j["differences"] if d["kind"] == "param")')" \
  "['param BATCH', 'param REGION']"
expect_eq "$(field '[(c["kind"], c["name"], c["changes"][0]["passing"], c["changes"][0]["failing"]) for c in j["isolate"]["cause"]]')" \
  "[('param', 'REGION', '\"eu\"', '\"legacy\"')]"

# 9. A model's answer under another backend fingerprint: the same request,
# answered at temperature 0 by a backend that rotates its fingerprint with
# every request (its second request is the recorded one). TRIGGER is a word
# that answer holds and the first backend's does not.
start_sim --sim-seed 9
SIM_A=$SIM_URL
ask='{"model": "gpt-4o", "temperature": 0, "messages": [{"role": "user", "content": "Account A-1 is current. What should we do?"}]}'
say() { curl -sS "$1/v1/chat/completions" -H 'authorization: Bearer k' -d "$ask" | json 'j["system_fingerprint"] + " " + j["choices"][0]["message"]["content"]'; }
start_sim --sim-seed 9 --rotate-fingerprint 1  # (a sim to learn the second answer from)
say "$SIM_URL" > /dev/null
a=$(say "$SIM_A") b=$(say "$SIM_URL")
expect_ne "${a%% *}" "${b%% *}" "two backends, two fingerprints"
start_sim --sim-seed 9 --rotate-fingerprint 1
SIM_B=$SIM_URL
say "$SIM_B" > /dev/null
export TRIGGER=$(python3 -c 'import sys; a = set(sys.argv[1].split()[1:]); print(next(w for w in sys.argv[2].split()[1:] if w not in a))' "$a" "$b")
export OPENAI_API_KEY=sk-test-REPRO000000001
world model '{"state": {"status": "current"}, "docs": [], "ask_model": true, "noise": {"a": 1}}'
OPENAI_BASE_URL=$SIM_A/v1 record backend model
world model2 '{"state": {"status": "current"}, "docs": [], "ask_model": true, "noise": {"a": 2}}'
OPENAI_BASE_URL=$SIM_B/v1 record backend model2
expect_contains "$(cat "$WORK/model2.out")" "the model said $TRIGGER"
WORLD=$WORK/model2.json repro_json backend --k 2
expect_eq "$RC" 0 "repro of a model's answer; $(tail -3 "$WORK/r.err")"
expect_eq "$(field '[(c["kind"], c["name"]) for c in j["isolate"]["cause"]]')" "[('llm', 'POST /chat/completions')]"
expect_contains "$(field '[c["path"] for c in j["isolate"]["cause"][0]["changes"]]')" "'\$.system_fingerprint'"

# 10. A provider fault: a 429, retried, and a retry path that loses the
# grace flag. The failing run's retry (a request the passing run never
# made) is answered from the failing run.
start_sim --sim-seed 9 --fail-sequence 429,ok
SIM_C=$SIM_URL
world grace '{"state": {"status": "overdue", "grace": true}, "docs": [], "ask_model": true, "noise": {"a": 1}}'
world grace2 '{"state": {"status": "overdue", "grace": true}, "docs": [], "ask_model": true, "noise": {"a": 2}}'
OPENAI_BASE_URL=$SIM_A/v1 record fault grace
OPENAI_BASE_URL=$SIM_C/v1 record fault grace2
expect_contains "$(cat "$WORK/grace2.out")" "retried after a 429"
WORLD=$WORK/grace2.json repro_json fault --k 2
expect_eq "$RC" 0 "repro of a provider fault; $(tail -3 "$WORK/r.err")"
expect_eq "$(field '[(c["kind"], c["changes"][0]["path"], c["changes"][0]["passing"], c["changes"][0]["failing"]) for c in j["isolate"]["cause"]]')" \
  "[('llm', 'status', '200', '429')]"
unset TRIGGER
# No credential reaches the store (every repro replay included) or the report.
store_dump > "$WORK/dump.txt"
grep -qF "retrace_repro_step" "$WORK/dump.txt" || fail "control: the repro runs' params are not in the dump"
for where in "$WORK/dump.txt" "$WORK/r.json"; do
  if grep -aqF "$OPENAI_API_KEY" "$where"; then fail "the API key leaked into $where"; fi
done

# Bad input changes nothing and says so in one line.
expect_exit 2 retrace repro "$failed" --k 0
expect_contains "$ERR" "--k wants a count of 1 or more"
count_runs() { retrace runs --json --limit 100000 | json 'len(j)'; }
before=$(count_runs)
expect_exit 2 retrace repro "$failed" --against "$failed"
expect_contains "$ERR" "--against names the failed run itself"
expect_eq "$(count_runs)" "$before" "no replay ran"
echo "repro: ok"
