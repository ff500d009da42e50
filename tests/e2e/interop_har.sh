# HTTP archives in and out (`export --format har`, `import FILE.har`).
# A HAR a real browser wrote (Debian's Chromium through playwright-core,
# loading a page whose script POSTs JSON to a local server's API) imports
# as a sealed run; with the server stopped, a plain program asking the same
# API at $RETRACE_ROUTE_API is answered from it with what the browser got,
# matched by body, and the page itself is served on the route named after
# its host. retrace's own HAR of a recorded run (the official SDKs against
# the sim) passes har-validator, holds no API key, has one entry per model
# exchange, and imports back into a run that replays the program with the
# sim stopped. A malformed HAR is refused in one line naming the entry and
# field, exit 2, and leaves the store as it was.
source "$(dirname "$0")/lib.sh"
runs_count() { retrace runs --json | json 'len(j)'; }

# 1. A browser's HAR. The server's answers carry a token of its own, so
# nothing but its answers (live or recorded) can print it.
cat > page.html <<'HTML'
<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>asking</title></head>
<body><pre id="out"></pre>
<script>
(async () => {
  const lines = [];
  for (const q of [{a: 6, b: 7}, {a: 3, b: 5}]) {
    const r = await fetch('/api/answer', {
      method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify(q)});
    lines.push(`answer ${q.a}x${q.b} ${r.status} ${await r.text()}`);
  }
  const s = await fetch('/api/status?verbose=1');
  lines.push(`status ${s.status} ${await s.text()}`);
  document.getElementById('out').textContent = lines.join('\n');
  document.title = 'done';
})();
</script></body></html>
HTML
cat > site.py <<'PY'
import http.server, json, os, secrets
TOKEN = secrets.token_hex(4)
PAGE = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "page.html"), "rb").read()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def send(self, status, ctype, body):
        self.send_response(status)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        if self.path == "/":
            self.send(200, "text/html; charset=utf-8", PAGE)
        elif self.path == "/api/status?verbose=1":
            self.send(200, "application/json", json.dumps({"ok": True, "server": TOKEN}).encode())
        else:
            self.send(404, "text/plain", b"no such page")
    def do_POST(self):
        q = json.loads(self.rfile.read(int(self.headers["content-length"])))
        if self.path != "/api/answer":
            return self.send(404, "text/plain", b"no such api")
        self.send(200, "application/json", json.dumps({"answer": q["a"] * q["b"], "server": TOKEN}).encode())
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(f"{s.server_address[1]}\n{TOKEN}", flush=True)
s.serve_forever()
PY
start_upstream "$WORK/site.py"
port=${UP##*:}
token=$(sed -n 2p "$WORK/upstream.port")
want="answer 6x7 200 {\"answer\": 42, \"server\": \"$token\"}
answer 3x5 200 {\"answer\": 15, \"server\": \"$token\"}
status 200 {\"ok\": true, \"server\": \"$token\"}"
expect_exit 0 timeout 60 node "$SRC/tests/node/har_browser.mjs" "$UP/" page.har
expect_eq "$OUT" "$want" "what the browser's page got"
# The archive: the page (no favicon request: the page names a data: icon),
# the two POSTs with the bodies the page's JSON.stringify wrote, the status.
expect_eq "$(json 'j["log"]["creator"]["name"], [(e["request"]["method"], e["request"]["url"], e["response"]["status"], e["request"].get("postData", {}).get("text")) for e in j["log"]["entries"]]' < page.har)" \
  "Playwright [('GET', '$UP/', 200, None), ('POST', '$UP/api/answer', 200, '{\"a\":6,\"b\":7}'), ('POST', '$UP/api/answer', 200, '{\"a\":3,\"b\":5}'), ('GET', '$UP/api/status?verbose=1', 200, None)]"

# A program that asks the same API without a browser: its JSON is spaced
# otherwise (bodies match as canonical JSON). Given the name of a route's
# variable, it first gets the page from that route.
cat > ask.py <<'PY'
import hashlib, json, os, sys, urllib.error, urllib.request
def call(url, body=None):
    data = json.dumps(body).encode() if body else None
    req = urllib.request.Request(url, data=data, headers={"content-type": "application/json"} if body else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
if len(sys.argv) > 1:
    status, text = call(os.environ[sys.argv[1]] + "/")
    print(f"page {status} {len(text)} {hashlib.sha256(text.encode()).hexdigest()}")
api = os.environ["RETRACE_ROUTE_API"]
for q in os.environ.get("QUESTIONS", "6x7 3x5").split():
    a, b = map(int, q.split("x"))
    status, text = call(api + "/answer", {"a": a, "b": b})
    print(f"answer {a}x{b} {status} {text}")
status, text = call(api + "/status?verbose=1")
print(f"status {status} {text}")
PY
# Control: directly, the program gets what the browser got from the server...
expect_exit 0 env RETRACE_ROUTE_API=$UP/api python3 ask.py
expect_eq "$OUT" "$want" "the program, directly"

expect_exit 0 retrace import page.har --name page --route api=$UP/api
page_run=$(retrace show page --json | json 'j["id"]')
expect_eq "$OUT" "imported 4 exchange(s) from har page.har as run $page_run
  route 127-0-0-1-$port: 1 exchange(s)
  route api: 3 exchange(s)
replay it: retrace replay $page_run -- YOUR COMMAND"
retrace show page --json > page.json
expect_eq "$(json 'j["state"], [(e["seq"], e["kind"], e["attrs"]["route"], e["name"], e["attrs"].get("query"), e["attrs"]["status"]) for e in j["events"]]' < page.json)" \
  "sealed [(1, 'http', '127-0-0-1-$port', 'GET /', None, 200), (2, 'http', 'api', 'POST /answer', None, 200), (3, 'http', 'api', 'POST /answer', None, 200), (4, 'http', 'api', 'GET /status', '?verbose=1', 200)]"
expect_exit 0 retrace verify page
expect_contains "$OUT" "ok     $page_run (4 events"
# A HAR holds no command: replay wants one.
expect_exit 2 retrace replay page
expect_eq "$ERR" "retrace: run $page_run has no recorded command (give one after --)"

# ...and with the server stopped, no longer.
kill "$UP_PID"; wait "$UP_PID" 2> /dev/null || true
expect_exit 1 env RETRACE_ROUTE_API=$UP/api python3 ask.py
expect_contains "$ERR" "Connection refused"

# Replayed: the browser's answers. The page, never asked for, is left
# unused: a divergence unless --allow-unused says it is not.
expect_exit 1 timeout 30 "$RETRACE_BIN" replay page -- python3 ask.py
expect_eq "$OUT" "$want" "replayed, the page unused"
expect_contains "$ERR" "of $page_run: 3 recorded answer(s) served"
expect_contains "$ERR" "retrace: diverged: 1 recorded exchange(s) never requested, first #1 GET /127-0-0-1-$port/"
expect_exit 0 timeout 30 "$RETRACE_BIN" replay page --allow-unused -- python3 ask.py
expect_eq "$OUT" "$want" "replayed"
expect_contains "$ERR" "of $page_run: 3 recorded answer(s) served"
expect_contains "$ERR" "retrace: reproduced"
# No command ran in an imported run, so none's exit code is compared; the
# program's failure is the replay's all the same.
expect_exit 1 timeout 30 "$RETRACE_BIN" replay page --allow-unused -- sh -c 'python3 ask.py; exit 3'
expect_contains "$ERR" "retrace: diverged: the program exited 3 (the recording has no command's exit code to compare)"
# The page too, on its host's route (route 127-0-0-1-PORT, in the variable
# RETRACE_ROUTE_127_0_0_1_PORT): the bytes the browser was sent.
page_line=$(python3 - page.har <<'PY'
import hashlib, json, sys
r = json.load(open(sys.argv[1]))["log"]["entries"][0]["response"]
text = r["content"]["text"]
print("page", r["status"], len(text), hashlib.sha256(text.encode()).hexdigest())
PY
)
expect_eq "$page_line" "page 200 $(wc -c < page.html) $(sha256sum page.html | cut -d' ' -f1)" "the page in the HAR"
expect_exit 0 timeout 30 "$RETRACE_BIN" replay page -- python3 ask.py "RETRACE_ROUTE_127_0_0_1_$port"
expect_eq "$OUT" "$page_line
$want" "replayed with the page"
expect_contains "$ERR" "of $page_run: 4 recorded answer(s) served"
expect_contains "$ERR" "retrace: reproduced"
# Answers are matched by body: another question has none.
expect_exit 1 env QUESTIONS="6x8 3x5" timeout 30 "$RETRACE_BIN" replay page --allow-unused -- python3 ask.py
expect_contains "$ERR" "retrace: diverged: POST /api/answer: no recorded request matches (nearest recorded: #2)"
expect_contains "$ERR" '$.b: 7 -> 8'

# 2. retrace's own HAR of a run recorded against the sim.
start_sim --sim-seed 11
openai_key=sk-test-INTEROPHARKEY0001 anthropic_key=sk-ant-INTEROPHARKEY0002
cd "$SRC/tests/node"
recorded=$(OPENAI_BASE_URL=$SIM_URL/v1 ANTHROPIC_BASE_URL=$SIM_URL \
  OPENAI_API_KEY=$openai_key ANTHROPIC_API_KEY=$anthropic_key \
  retrace record --name agent -- node agent_prog.mjs 2> "$WORK/rec.err")
cd "$WORK"
expect_contains "$recorded" "tool call: get_weather"
expect_contains "$recorded" "anthropic: tool_use get_weather"
expect_exit 0 retrace export agent --format har -o agent.har
expect_eq "$OUT$ERR" "" "export -o prints nothing"
expect_eq "$(retrace export agent --format har)" "$(cat agent.har)" "the same HAR on stdout"

# har-validator's promise API on each file: "FILE valid", or "FILE invalid"
# and its errors. Chromium's HAR is checked too, and retrace's HAR of the
# run imported from it.
cat > validate.cjs <<'JS'
const fs = require('fs');
const validator = require(process.argv[2]);
(async () => {
  for (const file of process.argv.slice(3)) {
    await validator.har(JSON.parse(fs.readFileSync(file, 'utf8'))).then(() => console.log(`${file} valid`),
      (e) => console.log(`${file} invalid ${e.errors.map((x) => `${x.dataPath} ${x.message}`).join('; ')}`));
  }
})();
JS
# Control: a copy with an entry's cache gone and a status written as a string.
python3 - agent.har broken.har <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
del j["log"]["entries"][0]["cache"]
j["log"]["entries"][1]["response"]["status"] = "200"
json.dump(j, open(sys.argv[2], "w"))
PY
retrace export page --format har -o page-again.har
expect_eq "$(node validate.cjs "$SRC/tests/node/node_modules/har-validator" agent.har broken.har page.har page-again.har)" \
  "agent.har valid
broken.har invalid .log.entries[0] should have required property 'cache'; .log.entries[1].response.status should be integer
page.har valid
page-again.har valid" "har-validator"

# No API key anywhere in it; every entry had one, stored redacted.
expect_not_contains "$(cat agent.har)" "INTEROPHARKEY" "an API key in the HAR"
expect_eq "$(json 'sorted({h["value"] for e in j["log"]["entries"] for h in e["request"]["headers"] if h["name"] in ("authorization", "x-api-key")}), sum(any(h["name"] in ("authorization", "x-api-key") for h in e["request"]["headers"]) for e in j["log"]["entries"])' < agent.har)" \
  "['[REDACTED]'] 11"
# One entry per model exchange of the run, in order.
retrace show agent --json > agent.json
expect_eq "$(json '[e["seq"] for e in j["events"] if e["kind"] == "llm"]' < agent.json)" "[2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]"
expect_eq "$(json '[e["_retrace"]["event"] for e in j["log"]["entries"]]' < agent.har)" "[2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]"
expect_eq "$(json '[e["request"]["url"] for e in j["log"]["entries"]].count("https://api.openai.com/v1/chat/completions"), j["log"]["entries"][-1]["request"]["url"]' < agent.har)" \
  "8 https://api.anthropic.com/v1/messages"

# The round trip: the HAR imported, the sim stopped, the program replayed.
expect_exit 0 retrace import agent.har --name agent-har
har_run=$(retrace show agent-har --json | json 'j["id"]')
expect_eq "$OUT" "imported 11 exchange(s) from har agent.har as run $har_run
  route anthropic: 1 exchange(s)
  route openai: 10 exchange(s)
replay it: retrace replay $har_run -- YOUR COMMAND"
kill "$SIM_PID"; wait "$SIM_PID" 2> /dev/null || true
expect_exit 7 curl -sS "$SIM_URL/v1/models"
cd "$SRC/tests/node"
expect_exit 0 env -u OPENAI_API_KEY -u ANTHROPIC_API_KEY timeout 60 \
  "$RETRACE_BIN" replay agent-har -- node agent_prog.mjs
cd "$WORK"
expect_eq "$OUT" "$recorded" "the program replayed from the imported HAR"
expect_contains "$ERR" "of $har_run: 11 recorded answer(s) served"
expect_contains "$ERR" "retrace: reproduced"

# 3. Malformed HARs: exit 2, one line naming the entry and field, no run
# added and nothing in the store changed.
printf '{"log": {"entries": [}' > not_json.har
python3 - page.har <<'PY'
import copy, json, sys
har = json.load(open(sys.argv[1]))
def variant(name, change):
    j = copy.deepcopy(har)
    change(j)
    json.dump(j, open(name, "w"))
variant("no_log.har", lambda j: j.pop("log"))
variant("no_entries.har", lambda j: j["log"].pop("entries"))
variant("empty.har", lambda j: j["log"].update(entries=[]))
variant("no_url.har", lambda j: j["log"]["entries"][1]["request"].pop("url"))
variant("bad_date.har", lambda j: j["log"]["entries"][2].update(startedDateTime="yesterday at noon"))
variant("bad_header.har", lambda j: j["log"]["entries"][1]["response"]["headers"][2].pop("value"))
variant("bad_time.har", lambda j: j["log"]["entries"][0].update(time="46ms"))
variant("relative_url.har", lambda j: j["log"]["entries"][3]["request"].update(url="/api/status"))
PY
runs_before=$(runs_count)
store_before=$(store_dump | sha256sum)
# refuse FILE MESSAGE: importing FILE exits 2 with MESSAGE as its one line.
refuse() {
  expect_exit 2 retrace import "$1" --route api=$UP/api
  expect_eq "$ERR" "$2" "importing $1"
  expect_eq "$OUT" "" "stdout importing $1"
  expect_eq "$(runs_count)" "$runs_before" "runs after importing $1"
}
expect_exit 2 retrace import not_json.har
expect_contains "$ERR" "retrace: HAR file not_json.har: not JSON: invalid JSON at byte 22: parse error at line 1, column 22"
expect_not_contains "$ERR" $'\n' "a one-line error"
expect_eq "$(runs_count)" "$runs_before" "runs after importing not_json.har"
refuse no_log.har 'retrace: HAR file no_log.har: no "log" object: not an HTTP archive'
refuse no_entries.har "retrace: HAR file no_entries.har: log.entries must be an array"
refuse empty.har "retrace: HAR file empty.har holds no exchanges: there is nothing to import"
refuse no_url.har "retrace: HAR file no_url.har: entry 2: request.url must be a string"
refuse bad_date.har "retrace: HAR file bad_date.har: entry 3: startedDateTime 'yesterday at noon' is not an ISO 8601 date"
refuse bad_header.har "retrace: HAR file bad_header.har: entry 2: response.headers[2].value must be a string"
refuse bad_time.har "retrace: HAR file bad_time.har: entry 1: time must be a number of milliseconds"
# (found once the whole file is read and the store is open: all or nothing)
refuse relative_url.har "retrace: HAR file relative_url.har: entry 4: '/api/status' is not an absolute http(s) URL"
expect_exit 2 retrace import page.har --route api=127.0.0.1:$port/api
expect_eq "$ERR" "retrace: --route api: '127.0.0.1:$port/api' is not an absolute http(s) URL"
expect_eq "$(runs_count)" "$runs_before" "runs after a bad --route"
expect_eq "$(store_dump | sha256sum)" "$store_before" "the store after the refused imports"
# Control: a valid import does add a run.
expect_exit 0 retrace import page.har --name page-again --route api=$UP/api
expect_eq "$(runs_count)" "$((runs_before + 1))" "runs after a valid import"
