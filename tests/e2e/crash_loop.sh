# kill -9 at random moments, many times: `record` with model requests
# (plain and streamed), SDK event batches and open spans in flight, then
# the gateway with several clients' runs in flight. After every kill the
# store opens; at the end `verify --all` exits 0, every sealed run is
# intact and every killed one verifies as incomplete. The kill points come
# from a fixed seed; which of them land before the seal is up to timing, so
# the counts asserted are the ones that hold either way.
source "$(dirname "$0")/lib.sh"

start_sim --sim-seed 3 --stream-interval 2
RANDOM=20261203
# (100 kills each in the Release build; the sanitizer build runs 10, as the
# invariants are the same and its processes start ten times slower)
if sanitized; then kills=10; else kills=100; fi

# The program: rounds of a chat request, a streamed one, a batch of tool
# events and a span opened and closed, for longer than any kill waits.
cat > agent.py <<'PY'
import http.client, json, os, sys, urllib.parse
proxy = urllib.parse.urlsplit(os.environ["RETRACE_PROXY_URL"])
base = urllib.parse.urlsplit(os.environ["OPENAI_BASE_URL"]).path
token = {"x-retrace-token": os.environ["RETRACE_TOKEN"], "authorization": "Bearer sk-test-crash-0000000001"}
conn = http.client.HTTPConnection(proxy.hostname, proxy.port)
def post(path, body):
    conn.request("POST", path, json.dumps(body), {"content-type": "application/json", **token})
    r = conn.getresponse()
    r.read()
    assert r.status == 200, (path, r.status)
for i in range(int(sys.argv[1])):
    msgs = [{"role": "user", "content": f"step {i}"}]
    post(base + "/chat/completions", {"model": "gpt-4o", "messages": msgs})
    post(base + "/chat/completions", {"model": "gpt-4o", "messages": msgs, "stream": True})
    span = f"{i + 1:016x}"
    post("/_retrace/v1/events", {"kind": "custom", "name": "step", "span": span, "phase": "start"})
    post("/_retrace/v1/events", [{"kind": "tool", "name": "search", "parent": span,
                                  "input": {"q": i, "k": k}, "output": {"hits": k}} for k in range(20)])
    post("/_retrace/v1/events", {"kind": "custom", "name": "step", "span": span, "phase": "end", "output": i})
PY
# A run that is not killed: its count of events is what a whole run holds.
expect_exit 0 retrace record --name whole --upstream openai="$SIM_URL/v1" -- python3 agent.py 3
expect_exit 0 retrace verify whole
expect_contains "$OUT" "70 events"  # 3 x (2 exchanges + 20 tools + 1 span) + the process

for i in $(seq $kills); do
  # a wait of 0 to 1 s: before the program starts, in its rounds. Every
  # other kill counts its wait from when the run exists, so that half of
  # them land in a run however slowly record starts (a sanitizer build
  # on a busy machine can take most of a second).
  ms=$((RANDOM % 1000))
  delay=$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))
  before=$(latest_id)
  "$RETRACE_BIN" record --name victim --upstream openai="$SIM_URL/v1" -- python3 agent.py 1000 \
    > victim.out 2>&1 &
  rec=$!
  if ((i % 2 == 0)); then
    for _ in $(seq 500); do [[ $(latest_id) != "$before" ]] && break; sleep 0.02; done
  fi
  sleep "$delay"
  kill -9 $rec 2>/dev/null || true
  wait $rec 2>/dev/null || true
  # The store opens after every kill, and takes the next run.
  expect_exit 0 retrace runs --limit 1 --json
done

expect_exit 0 retrace verify --all --json
report=$OUT
read -r runs intact incomplete killed_events <<< "$(echo "$report" | json '" ".join(map(str, (len(j["runs"]), sum(r["ok"] for r in j["runs"]), sum(r["incomplete"] for r in j["runs"]), sum(r["events"] for r in j["runs"] if r["incomplete"]))))')"
# (a kill before record has made its run leaves no run; the program never
# finishes its rounds, so no victim is sealed)
expect_eq "$intact" "$runs" "intact runs of $runs after $kills kills of record"
expect_eq "$incomplete" "$((runs - 1))" "incomplete runs"
(( runs - 1 >= kills / 2 )) || fail "only $((runs - 1)) of $kills kills landed in a run"
(( killed_events >= 10 * (runs - 1) )) || fail "the killed runs hold only $killed_events events"
expect_eq "$(echo "$report" | json 'j["incomplete"]')" "$((runs - 1))"
expect_exit 0 retrace verify --all
expect_contains "$OUT" "$((runs - 1)) run(s) incomplete"

# The gateway: three clients, each its own run, killed at random moments
# and started again on the same store.
cat > clients.py <<'PY'
import http.client, json, sys, threading, urllib.parse
gw = urllib.parse.urlsplit(sys.argv[1])
def client(name):
    conn = http.client.HTTPConnection(gw.hostname, gw.port)
    try:
        for i in range(1000):
            for stream in (False, True):
                body = {"model": "gpt-4o", "stream": stream,
                        "messages": [{"role": "user", "content": f"{name} {i}"}]}
                conn.request("POST", "/openai/chat/completions", json.dumps(body),
                             {"content-type": "application/json", "x-retrace-run": name,
                              "authorization": f"Bearer sk-test-{name}-0000000001"})
                conn.getresponse().read()
    except (OSError, http.client.HTTPException):
        pass  # the gateway was killed
threads = [threading.Thread(target=client, args=(n,)) for n in ("ann", "bob", "cyd")]
for t in threads: t.start()
for t in threads: t.join()
PY
gw_kills=$((kills / 4))
for i in $(seq $gw_kills); do
  start_gateway --upstream openai="$SIM_URL/v1"
  python3 clients.py "$GW_URL" &
  clients=$!
  sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
  kill -9 $GW_PID
  wait $GW_PID 2>/dev/null || true
  wait $clients
done
expect_exit 0 retrace verify --all --json
expect_eq "$(echo "$OUT" | json 'all(r["ok"] for r in j["runs"])')" True "every run intact after the gateway's kills"
gw_runs=$(echo "$OUT" | json 'len(j["runs"])')
(( gw_runs > runs )) || fail "the gateway's killed runs are not in the store ($gw_runs runs)"
expect_exit 0 retrace verify --all
# And the store still takes a whole run.
expect_exit 0 retrace record --name after --upstream openai="$SIM_URL/v1" -- python3 agent.py 1
expect_exit 0 retrace verify after
echo "crash_loop: ok ($kills kills of record: $((runs - 1)) runs cut holding $killed_events events; $gw_kills of the gateway; $gw_runs runs in all)"
