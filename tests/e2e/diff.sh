# `retrace diff A B`: the verdict names why two runs differ — a rotated
# backend, another account, a changed input file, sampling, a tool that
# returned something else — and a replay is identical to its recording.
source "$(dirname "$0")/lib.sh"
export OPENAI_API_KEY=sk-test-DIFFKEY00001 PYTHONPATH=$SRC/sdk/python
cat > ask.sh <<'SH'
curl -sS "$OPENAI_BASE_URL/chat/completions" -H "authorization: Bearer $OPENAI_API_KEY" \
  -H 'content-type: application/json' \
  -d "{\"model\":\"gpt-4o\",\"temperature\":${TEMP:-0},\"messages\":[{\"role\":\"user\",\"content\":\"${ASK:-hello}\"}]}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["choices"][0]["message"]["content"][:40])'
SH
verdict() { retrace diff "$1" "$2" --json | json 'j["verdict"] + ": " + j["explanation"]'; }

# A backend that rotates its fingerprint between the two runs.
start_sim --sim-seed 4 --rotate-fingerprint 1
export OPENAI_BASE_URL=$SIM_URL/v1
retrace record --name fp1 -- sh ask.sh > /dev/null 2>&1
retrace record --name fp2 -- sh ask.sh > /dev/null 2>&1
expect_exit 1 "$RETRACE_BIN" diff fp1 fp2
expect_contains "$OUT" "verdict    backend differs: the program asked for the same thing; the provider's system_fingerprint"
expect_contains "$OUT" '$.backend.openai.system_fingerprints[0]:'
kill "$SIM_PID"; wait "$SIM_PID" 2> /dev/null || true

# Two accounts behind one model.
start_sim --sim-seed 4 --persona-by-key
export OPENAI_BASE_URL=$SIM_URL/v1
retrace record --name k1 -- sh ask.sh > /dev/null 2>&1
OPENAI_API_KEY=sk-test-DIFFKEY00002 retrace record --name k2 -- sh ask.sh > /dev/null 2>&1
expect_contains "$(verdict k1 k2)" "backend differs: the program asked for the same thing; another account: credential fingerprint"

# Sampling: temperature 0.8, no seed, same everything else.
TEMP=0.8 retrace record --name t1 -- sh ask.sh > /dev/null 2>&1
TEMP=0.8 retrace record --name t2 -- sh ask.sh > /dev/null 2>&1
expect_eq "$(verdict t1 t2)" 'same conditions, outputs diverged: #2 llm POST /chat/completions: temperature 0.8 without a seed: the model samples'

# A changed input file: not comparable as reruns.
mkdir corpus && echo one > corpus/a.txt
retrace record --name in1 --input corpus -- cat corpus/a.txt > /dev/null 2>&1
echo two > corpus/a.txt
retrace record --name in2 --input corpus -- cat corpus/a.txt > /dev/null 2>&1
expect_contains "$(verdict in1 in2)" "conditions differ: data (the runs are not comparable as reruns)"
expect_exit 1 "$RETRACE_BIN" diff in1 in2
expect_contains "$OUT" '$.data.inputs["'"$WORK/corpus"'"].digest: "sha256:'

# A tool that returned something else; the program's request parted after it.
cat > agent.py <<'PY'
import json, os, urllib.request, retrace
@retrace.tool
def weather(city):
    return {"city": city, "sky": os.environ.get("SKY", "sunny")}
w = weather("Paris")
body = json.dumps({"model": "gpt-4o", "temperature": 0, "messages": [{"role": "user", "content": "Weather: %s" % w["sky"]}]})
req = urllib.request.Request(os.environ["OPENAI_BASE_URL"] + "/chat/completions", data=body.encode(),
                             headers={"Content-Type": "application/json", "Authorization": "Bearer " + os.environ["OPENAI_API_KEY"], **retrace.headers()})
print(json.load(urllib.request.urlopen(req))["choices"][0]["message"]["content"][:30])
PY
retrace record --name w1 -- python3 agent.py > /dev/null 2>&1
SKY=rainy retrace record --name w2 -- python3 agent.py > /dev/null 2>&1
expect_contains "$(verdict w1 w2)" 'inputs differ: #2 tool weather returned differently ($.sky: "sunny" -> "rainy"); then #3 llm POST /chat/completions differs'
# The same value in the system prompt: the prompts differ, but as a
# consequence of the tool's answer, which is the cause named.
sed 's/"role": "user", "content": "Weather: %s" % w\["sky"\]/"role": "system", "content": "%s. Weather: %s" % (os.environ.get("TONE", "Be brief"), w["sky"])/' agent.py > sys_agent.py
grep -q '"role": "system"' sys_agent.py || fail "sys_agent.py was not made"
retrace record --name s1 -- python3 sys_agent.py > /dev/null 2>&1
SKY=rainy retrace record --name s2 -- python3 sys_agent.py > /dev/null 2>&1
expect_contains "$(verdict s1 s2)" 'inputs differ: #2 tool weather returned differently ($.sky: "sunny" -> "rainy"), and the program put it into its prompt (#3 llm POST /chat/completions sends it): the prompts differ as a consequence'
# The control: a prompt changed by the program itself is a changed condition.
TONE="Be thorough" retrace record --name s3 -- python3 sys_agent.py > /dev/null 2>&1
expect_contains "$(verdict s1 s3)" 'conditions differ: prompts'

# A replay is identical to its recording; a run to itself too.
kill "$SIM_PID"; wait "$SIM_PID" 2> /dev/null || true
retrace replay w1 > /dev/null 2>&1
expect_exit 0 "$RETRACE_BIN" diff w1 @latest
expect_contains "$OUT" "verdict    identical: same conditions, trajectory and outcome"
expect_exit 0 "$RETRACE_BIN" diff fp1 fp1
# Several runs: grouped by declared conditions, backend and outcome.
expect_exit 1 "$RETRACE_BIN" diff fp1 fp2 k1 --json
expect_eq "$(json '(j["groups"]["declared"], j["groups"]["observed"] >= 2, len(j["runs"]))' <<< "$OUT")" "(1, True, 3)"
expect_exit 0 "$RETRACE_BIN" diff --name fp1
expect_contains "$OUT" "1 runs: 1 declared condition group(s), 1 backend group(s), 1 outcome group(s)"
# Bad input: a one-line error, exit 2.
# A provider fault in one run: a 429 where the other got a 200 is its own
# verdict, not sampling noise, and the retry that followed is judged: a
# hand-written retry that adds the error to the conversation is named by
# the message it added; a clean retry sends the same request again.
start_sim --sim-seed 4 --fail-sequence 429,ok,ok
export OPENAI_BASE_URL=$SIM_URL/v1
cat > retry.py <<'PY'
import json, os, urllib.error, urllib.request
def ask(messages):
    body = json.dumps({"model": "gpt-4o", "temperature": 0, "messages": messages}).encode()
    req = urllib.request.Request(os.environ["OPENAI_BASE_URL"] + "/chat/completions", body,
                                 {"content-type": "application/json",
                                  "authorization": "Bearer " + os.environ["OPENAI_API_KEY"]})
    return json.load(urllib.request.urlopen(req))
messages = [{"role": "user", "content": "hello"}]
try:
    answer = ask(messages)
except urllib.error.HTTPError:
    if os.environ.get("RETRY") == "buggy":
        messages.append({"role": "assistant", "content": "rate limited, retrying"})
    answer = ask(messages)
print(answer["choices"][0]["message"]["content"][:40])
PY
RETRY=buggy retrace record --name fault1 -- python3 retry.py > /dev/null 2>&1  # 429, then ok
retrace record --name fault0 -- python3 retry.py > /dev/null 2>&1               # ok
retrace record --name fault2 -- python3 retry.py > /dev/null 2>&1               # 429, then ok
f1=$(retrace show fault1 --json | json 'j["id"][:8]'); f0=$(retrace show fault0 --json | json 'j["id"][:8]')
expect_eq "$(verdict fault1 fault0)" "provider fault: #2 llm POST /chat/completions: $f1 got 429, $f0 got 200; its next request #3 llm POST /chat/completions is not the same request again (\$.messages[1]: (absent) -> {\"content\":\"rate limited, retrying\",\"role\":\"assistant\"})"
expect_contains "$(verdict fault0 fault2)" "provider fault: #2 llm POST /chat/completions: $f0 got 200,"
expect_contains "$(verdict fault0 fault2)" "; it sent the same request again as #3 llm POST /chat/completions"

expect_exit 2 "$RETRACE_BIN" diff fp1 nosuchrun
expect_contains "$ERR" "nosuchrun"
expect_exit 2 "$RETRACE_BIN" diff fp1
expect_contains "$ERR" "diff needs two runs"
echo "diff: ok"
