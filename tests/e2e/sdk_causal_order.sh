# SDK events are numbered in the program's causal order without
# retrace.headers() or flush(): a tool call whose result the program puts
# in its next model request is numbered before that request, though the
# SDK posts events from a background sender. Checked three ways, each a
# few hundred iterations of tool call -> model request (urllib, no
# retrace headers), Python and Node:
#  - the sender slowed down (each post 20 ms late, patched in by the test
#    program): without the ledger (the control) requests overtake their
#    tool events (most of them; how many is the machine's timing); with
#    it, none does;
#  - under load (two busy loops pinned to the cores): none does.
source "$(dirname "$0")/lib.sh"
export PYTHONPATH=$SRC/sdk/python
# (the sanitizer build runs 50: the order it checks is the same)
if sanitized; then ITERATIONS=${ITERATIONS:-50}; else ITERATIONS=${ITERATIONS:-200}; fi

cat > prog.py <<'PY'
import json, os, sys, time, urllib.request
if os.environ.get("CONTROL"):
    os.environ.pop("RETRACE_ORDER_DIR", None)  # the SDK counts nothing
import retrace
_client = sys.modules["retrace._client"]
if os.environ.get("SLOW_SENDER"):
    post = _client._Connection.post
    def slow(self, *args):
        time.sleep(0.02)
        return post(self, *args)
    _client._Connection.post = slow

@retrace.tool
def lookup(i):
    return "result-%d" % i

base = os.environ["OPENAI_BASE_URL"]
headers = {"Content-Type": "application/json", "Authorization": "Bearer " + os.environ["OPENAI_API_KEY"]}
for i in range(int(sys.argv[1])):
    result = lookup(i)
    body = json.dumps({"model": "gpt-4o", "max_tokens": 4, "messages": [{"role": "user", "content": result}]}).encode()
    req = urllib.request.Request(base + "/chat/completions?iter=%d" % i, data=body, headers=headers)
    urllib.request.urlopen(req, timeout=30).read()
print("done")
PY

cat > prog.mjs <<JS
import * as retrace from "$SRC/sdk/node/index.js";
const lookup = retrace.tool(async function lookup(i) { return \`result-\${i}\`; });
for (let i = 0; i < Number(process.argv[2]); ++i) {
  const result = await lookup(i);
  const res = await fetch(\`\${process.env.OPENAI_BASE_URL}/chat/completions?iter=\${i}\`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer " + process.env.OPENAI_API_KEY },
    body: JSON.stringify({ model: "gpt-4o", max_tokens: 4, messages: [{ role: "user", content: result }] }),
  });
  await res.text();
}
console.log("done");
JS

# How many model requests were numbered before the tool event whose
# result they carry.
reorderings() {
  retrace show "$1" --json | python3 -c '
import json, re, sys
j, n = json.load(sys.stdin), int(sys.argv[1])
tool, req = [], {}
for e in j["events"]:
    if e["kind"] == "tool":
        tool.append(e["seq"])
    m = re.search(r"iter=(\d+)", e["attrs"].get("query") or "")
    if m:
        req[int(m.group(1))] = e["seq"]
assert len(tool) == len(req) == n, (len(tool), len(req))
print(sum(1 for i in req if req[i] < tool[i]))' "$2"
}

start_sim --sim-seed 6
export OPENAI_BASE_URL=$SIM_URL/v1 OPENAI_API_KEY=sk-test-CAUSALORDER001

# A slow sender: the control reorders every step, the ledger none.
N=30
retrace record --name control -- env CONTROL=1 SLOW_SENDER=1 python3 prog.py $N > /dev/null 2>&1
control=$(reorderings control $N)
echo "slow sender, without the ledger: $control reorderings of $N"
((control > 0)) || fail "the control reorders nothing: the test could not see a reordering"
retrace record --name slow -- env SLOW_SENDER=1 python3 prog.py $N > /dev/null 2>&1
expect_eq "$(reorderings slow $N)" 0 "with the ledger, a slow sender reorders nothing"

# Under load: two busy loops pinned to the cores while the programs run.
for cpu in 0 1; do
  taskset -c $((cpu % $(nproc))) sh -c 'while :; do :; done' &
  BG_PIDS+=($!)
done
retrace record --name py-load -- python3 prog.py "$ITERATIONS" > /dev/null 2>&1
py=$(reorderings py-load "$ITERATIONS")
retrace record --name node-load -- node prog.mjs "$ITERATIONS" > /dev/null 2>&1
node=$(reorderings node-load "$ITERATIONS")
echo "under load: python $py, node $node reorderings of $ITERATIONS"
expect_eq "$py" 0 "python under load"
expect_eq "$node" 0 "node under load"
echo "sdk_causal_order: ok"
