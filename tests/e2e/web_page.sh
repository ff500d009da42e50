# The page `retrace serve` serves, in a real browser (Debian's Chromium
# through playwright-core, web/tests/browser.mjs), over a store of real
# recordings: the official SDKs against the sim (streams, a tool call), SDK
# events, a replay that diverged, a probe with scripted failures, a run
# whose message holds markup, a recorder killed mid-run. What the page
# shows must be what the CLI's --json says: every run and the filters'
# exact rows, a row and a bar per event at its start, a stream's frames,
# the diff's first divergence, the probe's interval; a run recorded while
# the list is open appears on it; markup in data stays text and runs
# nothing; without the token, 403. (serve over HTTP: serve.sh.)
source "$(dirname "$0")/lib.sh"
[[ -d $SRC/tests/node/node_modules/playwright-core ]] || fail "node packages missing: run scripts/bootstrap"
[[ -x /usr/bin/chromium ]] || fail "chromium missing: run scripts/bootstrap"
export OPENAI_API_KEY=sk-test-WEBPAGEKEY0001 ANTHROPIC_API_KEY=sk-ant-WEBPAGEKEY0002
start_sim --sim-seed 9
ASK_URL=$SIM_URL
export OPENAI_BASE_URL=$ASK_URL/v1 ANTHROPIC_BASE_URL=$ASK_URL

# The official openai and anthropic SDKs: plain and streamed chat, a tool
# call round trip, Responses, embeddings, concurrent streams.
cd "$SRC/tests/node"
expect_exit 0 "$RETRACE_BIN" record --name agent -- node agent_prog.mjs
expect_contains "$OUT" "tool call: get_weather"
# The Node SDK's events: tools (one raises), a retrieval, a span, a checkpoint.
expect_exit 0 "$RETRACE_BIN" record --name node-sdk -- node sdk_prog.mjs
expect_contains "$OUT" "raised QuotaExceeded"
cd "$WORK"

# Two questions; a replay asked another second question diverges there,
# after a first step that matched.
cat > ask.sh <<'SH'
ask() {
  curl -sS -f "$OPENAI_BASE_URL/chat/completions" -H "authorization: Bearer $OPENAI_API_KEY" \
    -H 'content-type: application/json' \
    -d "{\"model\":\"gpt-4o-mini\",\"temperature\":0,\"messages\":[{\"role\":\"user\",\"content\":\"$1\"}]}"
  echo
}
ask "What is a run?"
ask "${Q:-What is a replay?}"
SH
expect_exit 0 "$RETRACE_BIN" record --name ask -- sh ask.sh
expect_exit 1 env Q="What is a probe?" "$RETRACE_BIN" replay ask
expect_contains "$ERR" "retrace: diverged"
replay=$(retrace runs --kind replay --json | json 'j[0]["id"]')

# Markup in a message (and in the program's output): the page must show
# these characters, and run none of them.
cat > xss.py <<'PY'
import json, os, urllib.request
msg = os.environ["MSG"]
print(msg)
body = {"model": "gpt-4o-mini", "temperature": 0, "messages": [{"role": "user", "content": msg}]}
req = urllib.request.Request(os.environ["OPENAI_BASE_URL"] + "/chat/completions", data=json.dumps(body).encode(),
                             headers={"content-type": "application/json", "authorization": "Bearer " + os.environ["OPENAI_API_KEY"]})
print(json.load(urllib.request.urlopen(req))["choices"][0]["message"]["content"])
PY
export MSG='Quote this back: <script>window.__pwned=1</script> and <img src=x onerror="window.__pwned=2">'
expect_exit 0 "$RETRACE_BIN" record --name xss -- python3 xss.py
expect_contains "$OUT" "$MSG"

# A recorder killed mid-run (its program kills it): never sealed. (Through
# sh, whose word of the kill goes with the rest of its stderr.)
expect_exit 137 sh -c '"$@"' sh "$RETRACE_BIN" record --name crashed -- sh -c 'sh ask.sh > /dev/null; kill -KILL $PPID'
expect_eq "$(retrace show crashed --json | json 'j["state"]')" "incomplete"

# A probe whose failures are scripted: every third request fails, 2 of 6.
start_sim --sim-seed 3 --fail-sequence 500,ok,ok
cat > cite.sh <<'SH'
curl -sS -f "$OPENAI_BASE_URL/chat/completions" -H "authorization: Bearer $OPENAI_API_KEY" \
  -H 'content-type: application/json' \
  -d '{"model":"gpt-4o","temperature":0,"messages":[{"role":"user","content":"cite your source"}]}'
SH
expect_exit 3 env OPENAI_BASE_URL=$SIM_URL/v1 "$RETRACE_BIN" probe --k 6 --rule "fail_rate >= 0.2" \
  --hypothesis "the citation step fails in about a third of runs" --name cite -- sh cite.sh
expect_contains "$OUT" "runs       6 of 6, 2 failed"

# What the page must show, from the CLI.
RUNS=$(retrace runs --json) AGENT=$(retrace show agent --json) SDK=$(retrace show node-sdk --json) \
  XSS=$(retrace show xss --json) PROBES=$(retrace probes --json) REPLAY=$replay \
  python3 - > facts.json <<'PY'
import json, os, subprocess
def cli(*args, ok=(0,)):
    p = subprocess.run([os.environ["RETRACE_BIN"], *args, "--json"], capture_output=True, text=True)
    assert p.returncode in ok, (args, p.stderr)
    return json.loads(p.stdout)
def ids(*args):
    return [r["id"] for r in cli("runs", *args)]
agent, sdk, xss = (json.loads(os.environ[k]) for k in ("AGENT", "SDK", "XSS"))
# The first streamed chat answer, and the first answer that calls a tool.
details = {e["seq"]: cli("show", agent["id"], "--event", str(e["seq"])) for e in agent["events"] if e["kind"] == "llm"}
stream = next(s for s, d in details.items() if d["response"]["assembled"]["stream"] and d["response"]["assembled"]["text"])
tool = next(s for s, d in details.items() if d["response"]["assembled"]["tool_calls"])
call = details[tool]["response"]["assembled"]["tool_calls"][0]
ask = cli("show", "ask")["id"]
probes = json.loads(os.environ["PROBES"])
print(json.dumps({
    "runs": json.loads(os.environ["RUNS"]),
    "filters": [
        {"what": "none", "set": {}, "ids": ids()},
        {"what": "name cite.run", "set": {"name": "cite.run"}, "ids": ids("--name", "cite.run")},
        {"what": "state incomplete", "set": {"state": "incomplete"}, "ids": ids("--state", "incomplete")},
        {"what": "kind replay", "set": {"kind": "replay"}, "ids": ids("--kind", "replay")},
        {"what": "kind probe", "set": {"kind": "probe"}, "ids": ids("--kind", "probe")},
        {"what": "search -sdk", "set": {"q": "-sdk"}, "ids": ids("--search", "-sdk")},
        {"what": "name and state", "set": {"name": "ask", "state": "incomplete"}, "ids": ids("--name", "ask", "--state", "incomplete")},
    ],
    "agent": {"id": agent["id"], "show": agent,
              "stream": {"seq": stream, "detail": details[stream]},
              "tool": {"seq": tool, "name": call["name"], "arguments": call["arguments"]}},
    "sdk": {"id": sdk["id"], "show": sdk},
    "diff": {"a": ask, "b": os.environ["REPLAY"], "report": cli("diff", ask, os.environ["REPLAY"], ok=(0, 1))},
    "probes": probes,
    "probe": {"show": cli("probe", "show", probes[0]["probe"], ok=(0, 1, 3))},
    "xss": {"id": xss["id"], "message": os.environ["MSG"],
            "seq": next(e["seq"] for e in xss["events"] if e["kind"] == "llm"),
            "process_seq": next(e["seq"] for e in xss["events"] if e["kind"] == "process")},
    "live": {"argv": [os.environ["RETRACE_BIN"], "record", "--name", "live", "--", "sh", "ask.sh"],
             "cwd": os.getcwd(), "name": "live"},
}))
PY
expect_eq "$(json 'len(j["filters"][1]["ids"]), len(j["filters"][2]["ids"]), len(j["filters"][3]["ids"])' < facts.json)" "6 1 1" "the store as meant"

# The page, served from the binary (or from $RETRACE_WEB_DIR when set).
: > serve.out
"$RETRACE_BIN" serve > serve.out 2> serve.err &
BG_PIDS+=("$!")
for _ in $(seq 200); do grep -q ' on http' serve.out 2> /dev/null && break; sleep 0.02; done
URL=$(sed -n 's/^serving .* on //p' serve.out)
[[ -n $URL ]] || fail "serve did not start: $(cat serve.err)"
export SCREENSHOT_DIR=${SCREENSHOT_DIR:-$WORK/screenshots}
# (the live check's recording asks the first sim)
export OPENAI_BASE_URL=$ASK_URL/v1
set +e
timeout 90 node "$SRC/web/tests/browser.mjs" "$URL" facts.json
rc=$?
set -e
expect_eq "$rc" 0 "the browser checks"
# Looking changed nothing but the run recorded meanwhile.
expect_eq "$(retrace runs --json | json 'len(j)')" "$(($(json 'len(j["runs"])' < facts.json) + 1))"
echo "web_page: ok"
