# JSON nested deeper than retrace reads (512 levels) is refused with a clear
# 400, never read by recursion: a 200 KB request body or event nested
# 100,000 levels deep once overflowed the recorder's stack. The program goes
# on, and its other requests and events are recorded as usual.
source "$(dirname "$0")/lib.sh"
start_sim --sim-seed 4
cat > deep.py <<'EOF'
import json, os, sys, urllib.error, urllib.request
base = os.environ["OPENAI_BASE_URL"]
events = os.environ["RETRACE_PROXY_URL"] + "/_retrace/v1/events"
def post(url, body):
    req = urllib.request.Request(url, data=body, headers={
        "content-type": "application/json", "authorization": "Bearer sk-test-DEEPKEY0001"})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
def nested(depth):
    return "[" * depth + "]" * depth
ok = json.dumps({"model": "gpt-4o", "temperature": 0, "messages": [{"role": "user", "content": "hi"}]})
depth = int(sys.argv[1])
out = []
out.append(post(base + "/chat/completions", ok.encode()))
# a request body whose messages hold a value nested `depth` levels
deep_req = ok[:-1] + ', "metadata": ' + nested(depth) + "}"
out.append(post(base + "/chat/completions", deep_req.encode()))
deep_event = '{"kind": "tool", "name": "t", "input": 1, "output": ' + nested(depth) + "}"
out.append(post(events, deep_event.encode()))
out.append(post(events, b'{"kind": "tool", "name": "t", "input": 2, "output": [[["fine"]]]}'))
out.append(post(base + "/chat/completions", ok.encode()))
for status, body in out:
    print(status, body[:300].replace("\n", " "))
EOF
export OPENAI_BASE_URL=$SIM_URL/v1

# Control: nesting well within the bound is read, recorded and answered.
expect_exit 0 retrace record --name shallow -- python3 deep.py 100
codes=$(echo "$OUT" | cut -d' ' -f1 | tr '\n' ' ')
expect_eq "$codes" "200 200 200 200 200 "

for depth in 513 100000; do
  expect_exit 0 retrace record --name "deep$depth" -- python3 deep.py $depth
  codes=$(echo "$OUT" | cut -d' ' -f1 | tr '\n' ' ')
  expect_eq "$codes" "200 400 400 200 200 " "depth $depth"
  expect_contains "$(echo "$OUT" | sed -n 2p)" "nested deeper than 512 levels"
  expect_contains "$(echo "$OUT" | sed -n 3p)" "nested deeper than 512 levels"
  expect_exit 0 retrace verify "deep$depth"
  kinds=$(retrace show "deep$depth" --json | json '" ".join(e["kind"] for e in j["events"] if e["kind"] != "process")')
  # the refused request is recorded as answered (400); the refused event is not an event
  expect_eq "$kinds" "llm llm tool llm" "depth $depth"
done
# The refused requests were stored like any: headers redacted, and the key
# nowhere in the decompressed store (control: the redacted header is there).
store_dump > dump.txt
grep -qF '"authorization":"[REDACTED]"' dump.txt || fail "stored request headers not found in the dump"
if grep -F "DEEPKEY0001" dump.txt; then fail "the API key leaked into the store (lines above)"; fi
echo "crash_deep_json: ok"
