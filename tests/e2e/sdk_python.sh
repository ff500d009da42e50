# The Python SDK and the event API: tool, retrieval, clock, random and
# checkpoint events recorded and replayed without calling the real
# functions; exceptions replayed; spans and model requests nested;
# divergences named; forks, overrides, plain mode and bad input.
source "$(dirname "$0")/lib.sh"
export PYTHONPATH=$SRC/sdk/python
start_sim --sim-seed 5
export OPENAI_BASE_URL=$SIM_URL/v1 OPENAI_API_KEY=sk-test-SDKPYKEY0001

cat > prog.py <<'PY'
import json, os, sys, urllib.request
import retrace

class QuotaExceeded(Exception):
    pass

def guard(name):
    if os.environ.get("TOOLS") == "raise":
        raise SystemExit("real %s called during replay" % name)

@retrace.tool
def add(a, b=2):
    "Adds two numbers."
    guard("add")
    return a + b

@retrace.tool
def charge(account):
    guard("charge")
    raise QuotaExceeded("account %s is over quota" % account)

def lookup(query):
    guard("lookup")
    return [{"doc": 1, "text": "about " + query}]

def ask(content, traced):
    body = json.dumps({"model": "gpt-4o", "temperature": 0, "messages": [{"role": "user", "content": content}]})
    headers = {"Content-Type": "application/json", "Authorization": "Bearer " + os.environ["OPENAI_API_KEY"]}
    if traced:
        headers.update(retrace.headers())
    req = urllib.request.Request(os.environ["OPENAI_BASE_URL"] + "/chat/completions", data=body.encode(), headers=headers)
    with urllib.request.urlopen(req) as r:
        return json.load(r)["choices"][0]["message"]["content"][:20]

first = int(os.environ.get("FIRST", "1"))
with retrace.span("step"):
    print("add", add(first), add(5, b=10))
    print("lookup", retrace.retrieval("kb", "paris", lookup, source={"index": "kb", "version": 2}))
    try:
        charge("acme")
    except QuotaExceeded as e:
        print("raised", type(e).__name__, e)
    retrace.checkpoint("state", {"n": first})
    print("model", ask("hello", traced=True))
print("model", ask("untraced", traced=False))
print("mul", retrace.tool_call("mul", lambda x, y: guard("mul") or x * y, x=3, y=4))
t, r = retrace.now(), retrace.random()
print("clock", type(t).__name__, "random", 0 <= r < 1)
print("values", repr(t), repr(r))
PY

# Plain mode: no retrace, every call passes through.
plain=$(python3 prog.py)
expect_contains "$plain" "add 3 15"
expect_contains "$plain" "raised QuotaExceeded account acme is over quota"
# The control: the guarded functions do raise when called.
expect_exit 1 env TOOLS=raise python3 prog.py
expect_contains "$ERR" "real add called during replay"

retrace record --name py -- python3 prog.py > rec.out 2> rec.err
expect_eq "$(grep -v '^model' rec.out | grep -v values)" "$(grep -v '^model' <<< "$plain" | grep -v values)"
show=$(retrace show py)
expect_contains "$show" "tool       add"
expect_contains "$show" '{"a":1,"b":2} -> 3'
expect_contains "$show" "! raised __main__.QuotaExceeded"
expect_contains "$show" "retrieval  kb"
expect_contains "$show" "checkpoint state"
retrace show py --json > py.json
# Event tree: the span holds the tools, the retrieval, the checkpoint and the
# traced model request; the untraced one (outside any span) is top level.
python3 - py.json <<'PY'
import json, sys
events = json.load(open(sys.argv[1]))["events"]
by = {e["seq"]: e for e in events}
step = [e for e in events if e["kind"] == "custom" and e["name"] == "step"][0]
kids = sorted((e["kind"], e["name"]) for e in events if e["parent"] == step["seq"])
assert kids == [("checkpoint", "state"), ("llm", "POST /chat/completions"), ("retrieval", "kb"),
                ("tool", "add"), ("tool", "add"), ("tool", "charge")], kids
top = [e for e in events if e["kind"] == "llm" and e["parent"] == 0]
assert len(top) == 1, top
assert all(e["seq"] > step["seq"] for e in events if e["parent"] == step["seq"])
kinds = sorted(e["kind"] for e in events)
assert kinds.count("tool") == 4 and kinds.count("clock") == 1 and kinds.count("random") == 1, kinds
charge = [e for e in events if e["name"] == "charge"][0]
assert charge["attrs"]["error"]["type"] == "__main__.QuotaExceeded", charge
PY
cond=$(retrace show py --json | json 'json.dumps([sorted(j["conditions"]["tools"]), j["conditions"]["data"]["retrieval"]])')
expect_eq "$cond" '[["add", "charge"], {"kb": [{"index": "kb", "version": 2}]}]'

# Replay with the sim stopped and every real function raising if called:
# the same output (the clock and random values too), the same exception.
kill "$SIM_PID"; wait "$SIM_PID" 2> /dev/null || true
expect_exit 0 env TOOLS=raise "$RETRACE_BIN" replay py
expect_eq "$OUT" "$(cat rec.out)"
expect_contains "$OUT" "raised QuotaExceeded account acme is over quota"
expect_contains "$ERR" "retrace: reproduced"
expect_contains "$ERR" "10 recorded answer(s) served"
replayed=$(retrace show @latest)
expect_contains "$replayed" "(replayed #"

# A changed tool input: replay stops at that tool, naming it and the field.
expect_exit 1 env TOOLS=raise FIRST=7 "$RETRACE_BIN" replay py
expect_contains "$ERR" "diverged: tool add: no recorded call has this input (nearest recorded: #3)"
expect_contains "$ERR" '$.a: 1 -> 7'
expect_contains "$ERR" "Divergence: retrace replay diverged: tool add"
expect_not_contains "$ERR" "real add called"

# A changed checkpoint is caught where it happens.
cat > check.py <<'PY'
import os, retrace
retrace.checkpoint("plan", {"steps": int(os.environ.get("STEPS", "2"))})
print("done")
PY
retrace record --name ck -- python3 check.py > /dev/null 2>&1
expect_exit 0 "$RETRACE_BIN" replay ck
expect_exit 1 env STEPS=3 "$RETRACE_BIN" replay ck
expect_contains "$ERR" "checkpoint plan"
expect_contains "$ERR" '$.steps: 2 -> 3'

# --override N=FILE replaces a tool's recorded answer (a counterfactual).
add_seq=$(json '[e["seq"] for e in j["events"] if e["name"] == "mul"][0]' < py.json)
echo 99 > mul.json
expect_exit 1 env TOOLS=raise "$RETRACE_BIN" replay py --override "$add_seq=mul.json" --allow-unused
expect_contains "$OUT" "mul 99"
echo 'not json' > bad.json
expect_exit 2 "$RETRACE_BIN" replay py --override "$add_seq=bad.json"
expect_contains "$ERR" "whose answer must be JSON"

# A fork with --until: tools stay replayed unless --live-tools.
expect_exit 1 env TOOLS=raise "$RETRACE_BIN" replay py --until 1 --on-miss live
expect_contains "$OUT" "add 3 15"
start_sim --sim-seed 5
export OPENAI_BASE_URL=$SIM_URL/v1
expect_exit 1 "$RETRACE_BIN" replay py --until 1 --live-tools --upstream "openai=$SIM_URL/v1"
expect_contains "$OUT" "add 3 15"
forked=$(retrace show @latest --json)
expect_eq "$(json 'sum(1 for e in j["events"] if e["attrs"].get("live") and e["kind"] not in ("llm", "http"))' <<< "$forked")" "8" "SDK events ran live after the fork"
expect_eq "$(json 'sum(1 for e in j["events"] if "replayed_from" in e["attrs"])' <<< "$forked")" "0"

# A program that exits inside a span: the run is sealed, the span unfinished.
cat > crash.py <<'PY'
import os, retrace
with retrace.span("outer"):
    retrace.tool_call("t", lambda: 1)
    retrace.flush()
    os._exit(3)
PY
expect_exit 3 "$RETRACE_BIN" record --name crash -- python3 crash.py
expect_contains "$(retrace show crash)" "! unfinished"
expect_exit 0 "$RETRACE_BIN" verify crash

# Bad input to the event API: a one-line error, nothing recorded.
cat > bad.sh <<'SH'
u=$RETRACE_PROXY_URL/_retrace/v1
curl -sS $u/events -d '[{"kind":"tool","name":"ok","input":1},{"kind":"bogus","name":"x"}]'; echo
curl -sS $u/events -d '{"kind":"tool","name":"x","span":"XYZ"}'; echo
curl -sS $u/events -d 'not json'; echo
curl -sS $u/replay -d '{"kind":"tool","name":"x"}'; echo
curl -sS $u/nothing -d '{}'; echo
SH
retrace record --name bad -- sh bad.sh > bad.out
expect_contains "$(sed -n 1p bad.out)" "event 1: 'kind' must be one of tool, retrieval"
expect_contains "$(sed -n 2p bad.out)" "span ids are 16 lower-case hex digits"
expect_contains "$(sed -n 3p bad.out)" "body is not JSON"
expect_contains "$(sed -n 4p bad.out)" "retrace_not_replaying"
expect_contains "$(sed -n 5p bad.out)" "no such endpoint"
expect_eq "$(retrace show bad --json | json 'len(j["events"])')" "1" "only the process event"
echo "sdk_python: ok"
