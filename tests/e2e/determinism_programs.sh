# --deterministic with programs that never heard of retrace: a Python
# program (urllib and http.client to the model; time, datetime, random,
# uuid in its own code) started through a version-manager-style wrapper
# that execs the interpreter, a Node program (fetch; Date.now,
# Math.random, crypto.randomUUID) and a shell script (curl with the base
# URL in its arguments and the key in a header; date, shuf, od of
# /dev/urandom). Each
# is recorded once and replayed 20 times in a row with the sim stopped and
# a tripwire as every upstream: 20 of 20 reproduce. Before, the wrapper's
# streams were lost at exec (0 of 20), Node's randomUUID differed with the
# layout (0 of 20), and curl's stream was named after an argv holding this
# run's port and token (0 of 20).
source "$(dirname "$0")/lib.sh"
# (the sanitizer build replays each 5 times: what the shim feeds back is
# the same, and its recorder starts several times slower)
if sanitized; then REPLAYS=${REPLAYS:-5}; else REPLAYS=${REPLAYS:-20}; fi

cat > prog.py <<'PY'
import datetime, http.client, json, os, random, time, urllib.parse, urllib.request, uuid
now = time.time()
pick = random.choice(["alpha", "beta", "gamma", "delta"])
base = os.environ["OPENAI_BASE_URL"]
headers = {"Content-Type": "application/json", "Authorization": "Bearer " + os.environ["OPENAI_API_KEY"]}
def body(user):
    return json.dumps({"model": "gpt-4o", "messages": [
        {"role": "system", "content": "Time %.6f, %s, session %s" % (now, datetime.datetime.now().isoformat(), uuid.uuid4())},
        {"role": "user", "content": user}]}).encode()
req = urllib.request.Request(base + "/chat/completions", data=body("Say " + pick), headers=headers)
with urllib.request.urlopen(req, timeout=30) as r:
    first = json.load(r)["choices"][0]["message"]["content"]
u = urllib.parse.urlsplit(base)
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
conn.request("POST", u.path + "/chat/completions", body=body("%s %d" % (pick, random.randint(0, 10**9))), headers=headers)
second = json.loads(conn.getresponse().read())["choices"][0]["message"]["content"]
print(pick, now, first[:40], second[:40], time.time() - now > 0)
PY
# What a version manager puts first on PATH: a shell script that looks
# its version up in subprocesses, then execs the interpreter.
PY=$(command -v python3)
cat > python3-wrapper <<SH
#!/bin/bash
version=\$(cat /proc/version | cut -c1-5)
[ -n "\$(date +%s)" ] && exec "$PY" "\$@"
SH
chmod +x python3-wrapper

cat > prog.mjs <<'JS'
const now = Date.now();
const pick = ["alpha", "beta", "gamma", "delta"][Math.floor(Math.random() * 4)];
const id = crypto.randomUUID();
const res = await fetch(process.env.OPENAI_BASE_URL + "/chat/completions", {
  method: "POST",
  headers: { "content-type": "application/json", authorization: "Bearer " + process.env.OPENAI_API_KEY },
  body: JSON.stringify({ model: "gpt-4o", messages: [
    { role: "system", content: `Now ${now} ${new Date().toISOString()} session ${id}` },
    { role: "user", content: `Say ${pick} ${Math.random()}` }] }),
});
const answer = (await res.json()).choices[0].message.content;
console.log(pick, now, id, answer.slice(0, 40));
JS

cat > prog.sh <<'SH'
#!/bin/bash
now=$(date +%s.%N)
pick=$(shuf -n1 -e alpha beta gamma delta)
nonce=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
answer=$(curl -sS "$OPENAI_BASE_URL/chat/completions" -H "Authorization: Bearer $OPENAI_API_KEY" \
  -H 'Content-Type: application/json' \
  -d "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"system\",\"content\":\"Now $now nonce $nonce\"},{\"role\":\"user\",\"content\":\"Say $pick\"}]}")
echo "$pick $now ${answer:0:60}"
SH
chmod +x prog.sh

KEY=sk-test-DETERMINISM000001
start_sim --sim-seed 4
export OPENAI_BASE_URL=$SIM_URL/v1 OPENAI_API_KEY=$KEY
# The control: run plainly, each program differs from one run to the next.
for prog in "./python3-wrapper prog.py" "node prog.mjs" "./prog.sh"; do
  expect_ne "$($prog)" "$($prog)" "$prog by itself"
done
retrace record --deterministic --name py -- ./python3-wrapper prog.py > py.out 2> /dev/null
retrace record --deterministic --name node -- node prog.mjs > node.out 2> /dev/null
retrace record --deterministic --name sh -- ./prog.sh > sh.out 2> /dev/null
kill "$SIM_PID"; wait "$SIM_PID" 2> /dev/null || true
start_tripwire
export OPENAI_BASE_URL=$TRIP_URL/v1

# The wrapper's own processes are recorded too, whole, though the wrapper
# ends in exec and its subshells in _exit.
commands=$(retrace show py --json | json '"\n".join(s["command"] for e in j["events"] if e["kind"] == "process" for s in e["attrs"]["determinism"])')
expect_contains "$commands" "/bin/bash ./python3-wrapper prog.py"
expect_contains "$commands" "$PY prog.py"
# The key curl was given in a header is not stored with its stream, and
# the stream is named after the command line without this run's URL.
sh_streams=$(retrace show sh --json | json '[s["command"] for e in j["events"] if e["kind"] == "process" for s in e["attrs"]["determinism"] if s["command"].startswith("curl")]')
expect_contains "$sh_streams" 'curl -sS ${RETRACE_PROXY_URL}/openai/chat/completions -H Authorization: Bearer [REDACTED]'
store_dump > dump.txt
if grep -qF "$KEY" dump.txt; then fail "the key curl was given reached the store"; fi
# Nor an export of the run (a pack: a text header, then zstd frames).
retrace pack sh -o sh.pack > /dev/null
python3 - "$KEY" <<'PY' || fail "the key curl was given reached the pack"
import subprocess, sys
data = open("sh.pack", "rb").read()
content = subprocess.run(["zstd", "-dc"], input=data[data.find(b"\x28\xb5\x2f\xfd"):],
                         capture_output=True).stdout
assert b"curl -sS" in content and b"[REDACTED]" in content, "the stream's command is in the pack"
sys.exit(1 if sys.argv[1].encode() in content else 0)
PY
layout=$(retrace show node --json | json '[e["attrs"]["layout"] for e in j["events"] if e["kind"] == "process"][0]')
expect_eq "$layout" "fixed"

for name in py node sh; do
  reproduced=0
  for ((i = 0; i < REPLAYS; i++)); do
    if "$RETRACE_BIN" replay "$name" > replay.out 2> replay.err; then
      [[ $(cat replay.out) == "$(cat "$name.out")" ]] && reproduced=$((reproduced + 1))
    else
      tail -n 3 replay.err >&2
    fi
  done
  echo "$name: reproduced $reproduced/$REPLAYS"
  expect_eq "$reproduced" "$REPLAYS" "$name replays"
done
expect_eq "$(cat "$TRIP_LOG")" "" "nothing reached the network during replay"
# Doctor names what the shim could not reach: a run under --deterministic
# whose processes read nothing through the C library (here: none read).
retrace record --deterministic --name quiet -- true
"$RETRACE_BIN" doctor quiet > doctor.out || true
OUT=$(cat doctor.out)
expect_contains "$OUT" "no process read the clock or OS randomness through the C library"
"$RETRACE_BIN" doctor node > doctor.out || true
OUT=$(cat doctor.out)
expect_not_contains "$OUT" "no process read the clock"
expect_not_contains "$OUT" "address-space layout"
echo "determinism_programs: ok"
