# A large batch of SDK events is stored whole, in order, and within a
# bounded memory: the recorder reads the batch one event at a time (twice:
# to check it, then to apply it), its writer's queue is bounded (a producer
# faster than the disk waits for room), and the seal reads the run's
# events one at a time. A batch whose last event is bad records nothing.
source "$(dirname "$0")/lib.sh"

cat > batch.py <<'EOF'
# batch.py N [BAD]: sends N tool events in one POST, built as text (this
# program's own memory stays small); BAD appends an event without a name.
import http.client, json, os, sys, urllib.parse
n = int(sys.argv[1])
parts = ['{"kind":"tool","name":"lookup","input":{"q":%d},"output":{"r":%d}}' % (i, 2 * i)
         for i in range(n)]
if len(sys.argv) > 2:
    parts.append('{"kind":"tool","input":1}')
body = ("[" + ",".join(parts) + "]").encode()
del parts
u = urllib.parse.urlparse(os.environ["RETRACE_PROXY_URL"])
c = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
c.request("POST", u.path + "/_retrace/v1/events", body, {"content-type": "application/json"})
r = c.getresponse()
answer = r.read()
if r.status != 200:
    print(r.status, json.loads(answer)["error"]["message"])
    sys.exit(0)
print(r.status, len(json.loads(answer)), len(body))
EOF
cat > peak.py <<'EOF'
# peak.py CMD...: runs CMD and prints the largest resident size (KiB) any
# of its processes reached, as the kernel kept it.
import resource, subprocess, sys
rc = subprocess.call(sys.argv[1:])
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(rc)
EOF

N=60000
expect_exit 0 python3 peak.py "$RETRACE_BIN" record --name big -- python3 batch.py $N
read -r status answers bytes < <(head -1 <<< "$OUT")
expect_eq "$status $answers" "200 $N" "every event answered"
peak_kib=$(tail -1 <<< "$OUT")
expect_eq "$(retrace show big --json | json 'sum(e["kind"] == "tool" for e in j["events"])')" "$N"
expect_eq "$(retrace show big --json | json '[e["name"] for e in j["events"]][1:4]')" \
  "['lookup', 'lookup', 'lookup']"
expect_exit 0 retrace verify big
expect_contains "$OUT" "$((N + 1)) events"
# Memory: the batch is about 5 MB. Holding it as a tree, queueing every
# event and loading the run whole at the seal took 280 MiB here; read an
# event at a time, about 90 MiB. (Not under the sanitizers, whose
# shadow memory is most of a process's size.)
if ! sanitized; then
  (( peak_kib < 150 * 1024 )) || fail "record peaked at $((peak_kib / 1024)) MiB for a batch of $((bytes / 1048576)) MB"
fi

# The same batch with a bad event at its end: refused whole, nothing stored.
expect_exit 0 retrace record --name bad -- python3 batch.py 1000 bad
expect_eq "$OUT" "400 event 1000: 'name' is missing"
expect_eq "$(retrace show bad --json | json 'sum(e["kind"] == "tool" for e in j["events"])')" "0"
echo "event_batch_bounds: ok"
