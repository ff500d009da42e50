# Every wait of the proxy is bounded. A client that sends part of a request
# and then nothing gets a 408 after --read-timeout, while one that is slow
# but keeps sending is served; an idle connection is closed after
# --keepalive-timeout; `record` and the gateway stop within their grace
# even while a client holds a half-sent body; a program that leaves a
# process behind holding its output does not keep `record` waiting. At
# the file-descriptor limit the gateway waits for descriptors instead of
# spinning, and serves again once they are freed. An HTTP/1.0 client gets
# answers framed in HTTP/1.0 terms, recording and replaying.
source "$(dirname "$0")/lib.sh"
start_sim --sim-seed 5

cat > raw.py <<'EOF'
# raw.py HOST:PORT PATH SCRIPT: speaks HTTP by hand. SCRIPT is a list of
# steps: ["send", bytes-as-str], ["sleep", s]; then reads the answer's
# header and prints its status line, or "closed" when the server closed
# without answering.
import json, socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)))
s.settimeout(30)
for step in json.loads(sys.argv[2]):
    if step[0] == "send":
        try: s.sendall(step[1].encode())
        except OSError: break
    else:
        time.sleep(step[1])
data = b""
try:
    while True:
        b = s.recv(65536)
        if not b: break
        data += b
        if b"\r\n\r\n" in data: break  # (the status line is all it prints)
except ConnectionResetError:
    pass
print(data.split(b"\r\n")[0].decode() if data else "closed")
EOF

BODY='{"model":"gpt-4o","temperature":0,"messages":[{"role":"user","content":"hi"}]}'
LEN=${#BODY}
REQ_HEAD="POST /openai/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-test-SLOW0001\r\nContent-Type: application/json\r\nContent-Length: $LEN\r\n\r\n"

start_gateway() {  # start_gateway ARGS...: sets GW_PID, GW_ADDR
  : > gw.out
  "$RETRACE_BIN" proxy --listen 127.0.0.1:0 --upstream openai=$SIM_URL/v1 "$@" > gw.out 2> gw.err &
  GW_PID=$!
  BG_PIDS+=("$GW_PID")
  for _ in $(seq 200); do grep -q '^listening on ' gw.out 2> /dev/null && break; sleep 0.02; done
  GW_ADDR=$(sed -n 's|^listening on http://||p' gw.out)
  [[ -n $GW_ADDR ]] || fail "gateway did not start: $(cat gw.err)"
}
steps() { python3 -c 'import json,sys; print(json.dumps([[a, float(b)] if a == "sleep" else [a, b.encode().decode("unicode_escape")] for a, b in zip(sys.argv[1::2], sys.argv[2::2])]))' "$@"; }

# --- Read timeout (2 s) -----------------------------------------------------
start_gateway --read-timeout 2
half=$((LEN / 2))
# Control: a whole request at once, and one whose body trickles in five
# pieces half a second apart (2.5 s in all, no pause of 2 s): both answered.
expect_exit 0 python3 raw.py "$GW_ADDR" "$(steps send "$REQ_HEAD$BODY")"
expect_eq "$OUT" "HTTP/1.1 200 OK"
p=$(( (LEN + 4) / 5 ))
trickle=(send "$REQ_HEAD")
for i in 0 1 2 3 4; do trickle+=(sleep 0.5 send "${BODY:$((i * p)):$p}"); done
expect_exit 0 python3 raw.py "$GW_ADDR" "$(steps "${trickle[@]}")"
expect_eq "$OUT" "HTTP/1.1 200 OK" "a slow body that keeps coming is read"
# A header that never ends, and a body that stops half way: 408 each.
expect_exit 0 python3 raw.py "$GW_ADDR" "$(steps send 'POST /openai/chat/completions HTTP/1.1\r\nHost: x\r\n')"
expect_eq "$OUT" "HTTP/1.1 408 Request Timeout"
expect_exit 0 python3 raw.py "$GW_ADDR" "$(steps send "$REQ_HEAD${BODY:0:$half}")"
expect_eq "$OUT" "HTTP/1.1 408 Request Timeout"
# (only the two complete requests were exchanges)
kill -TERM $GW_PID
wait $GW_PID || fail "the gateway exited $?"
expect_contains "$(cat gw.err)" "2 exchange(s)"

# --- Keep-alive timeout (1 s) -------------------------------------------------
cat > idle.py <<'EOF'
# idle.py HOST:PORT BODY PAUSE: a request, PAUSE seconds idle, a second one
# on the same connection; prints the second's status line, or "closed".
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
body = sys.argv[2].encode()
req = (b"POST /openai/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-test-SLOW0001\r\nContent-Type: application/json\r\n"
       b"Content-Length: %d\r\n\r\n" % len(body)) + body
s = socket.create_connection((host, int(port)))
s.settimeout(30)
def answer():
    data = b""
    while b"\r\n\r\n" not in data:
        b = s.recv(65536)
        if not b: return None
        data += b
    while not data.endswith(b"\r\n0\r\n\r\n"):  # (the proxy answers HTTP/1.1 chunked)
        b = s.recv(65536)
        if not b: return None
        data += b
    return data.split(b"\r\n")[0].decode()
s.sendall(req); first = answer()
time.sleep(float(sys.argv[3]))
try:
    s.sendall(req); second = answer()
except OSError:
    second = None
print(first, "/", second or "closed")
EOF
start_gateway --keepalive-timeout 1
expect_exit 0 python3 idle.py "$GW_ADDR" "$BODY" 0.2
expect_eq "$OUT" "HTTP/1.1 200 OK / HTTP/1.1 200 OK" "control: a connection reused at once"
expect_exit 0 python3 idle.py "$GW_ADDR" "$BODY" 3
expect_eq "$OUT" "HTTP/1.1 200 OK / closed" "an idle connection is closed"
kill -TERM $GW_PID; wait $GW_PID || fail "the gateway exited $?"

# --- Stopping with a client holding a half-sent body ----------------------------
# (the client would hold it for 60 s; the proxy's read timeout is longer)
cat > hold.py <<'EOF'
import os, socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)))
s.sendall(b"POST /openai/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{")
open(sys.argv[2], "w").write("holding\n")
time.sleep(60)
EOF
start_gateway --read-timeout 120
python3 hold.py "$GW_ADDR" held.txt > /dev/null 2>&1 &
HOLD=$!
BG_PIDS+=("$HOLD")
for _ in $(seq 200); do [[ -s held.txt ]] && break; sleep 0.02; done
kill -TERM $GW_PID
expect_exit 0 timeout 15 tail --pid=$GW_PID -f /dev/null
wait $GW_PID || fail "the gateway exited $?"
expect_contains "$(cat gw.err)" "gateway stopped"
kill $HOLD 2> /dev/null || true

# record: the program sends one request, leaves a process behind that holds
# a half-sent body and the program's own output, and exits 0.
cat > leaves.sh <<'EOF'
python3 -c '
import json, os, urllib.request
req = urllib.request.Request(os.environ["OPENAI_BASE_URL"] + "/chat/completions",
    data=json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}).encode(),
    headers={"content-type": "application/json", "authorization": "Bearer sk-test-SLOW0001"})
print(urllib.request.urlopen(req, timeout=20).status)'
addr=${OPENAI_BASE_URL#http://}; addr=${addr%%/*}
python3 hold.py "$addr" held2.txt &
for _ in $(seq 200); do [[ -s held2.txt ]] && break; sleep 0.02; done
echo left
EOF
export OPENAI_BASE_URL=$SIM_URL/v1
expect_exit 0 timeout 30 "$RETRACE_BIN" record --name leaves -- bash leaves.sh
expect_eq "$OUT" "200
left"
expect_eq "$(retrace show leaves --json | json 'sum(e["kind"] == "llm" for e in j["events"])')" "1"
pkill -f "hold.py" || true

# --- The file-descriptor limit --------------------------------------------------
# (not under the sanitizers: UBSan checks a virtual call by reading memory
# through a descriptor of its own, and at the limit it has none: it reports
# every such call as invalid; the Release build runs this part)
if ! sanitized; then
cat > flood.py <<'EOF'
# flood.py HOST:PORT N: opens N connections and holds them until stdin closes.
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
conns = []
for _ in range(int(sys.argv[2])):
    conns.append(socket.create_connection((host, int(port))))
print("open", flush=True)
sys.stdin.read()
EOF
: > gw.out  # (the subshell opens it late: an earlier gateway's address must be gone)
(ulimit -n 48; exec "$RETRACE_BIN" proxy --listen 127.0.0.1:0 --upstream openai=$SIM_URL/v1 > gw.out 2> gw.err) &
GW_PID=$!
BG_PIDS+=("$GW_PID")
for _ in $(seq 200); do grep -q '^listening on ' gw.out 2> /dev/null && break; sleep 0.02; done
GW_ADDR=$(sed -n 's|^listening on http://||p' gw.out)
[[ -n $GW_ADDR ]] || fail "gateway did not start: $(cat gw.err)"
mkfifo hold.fifo
python3 flood.py "$GW_ADDR" 80 < hold.fifo > flood.out &
FLOOD=$!
exec 7> hold.fifo
for _ in $(seq 200); do [[ -s flood.out ]] && break; sleep 0.02; done
for _ in $(seq 200); do grep -q "cannot accept" gw.err && break; sleep 0.02; done
expect_contains "$(cat gw.err)" "cannot accept connections: Too many open files"
cpu() { awk '{print $14 + $15}' /proc/$GW_PID/stat; }
before=$(cpu); sleep 2; after=$(cpu)
# (clock ticks of 1/100 s: spinning on accept took a whole core, 200)
(( after - before < 60 )) || fail "the gateway used $((after - before)) ticks in 2 s at the descriptor limit"
exec 7>&-
wait $FLOOD || fail "flood.py exited $?: $(cat flood.out)"
kill -0 $GW_PID 2> /dev/null || { wait $GW_PID; fail "the gateway died at the limit ($?): $(cat gw.err)"; }
expect_exit 0 python3 raw.py "$GW_ADDR" "$(steps send "$REQ_HEAD$BODY")"
expect_eq "$OUT" "HTTP/1.1 200 OK" "served again once descriptors are free"
expect_eq "$(grep -c 'cannot accept' gw.err)" "1" "the limit is reported once"
kill -TERM $GW_PID; wait $GW_PID || fail "the gateway exited $?"
fi

# --- HTTP/1.0 ------------------------------------------------------------------
cat > http10.py <<'EOF'
# http10.py BASE VERSION: a plain and a streamed request in HTTP/VERSION;
# prints, for each, the framing headers of the answer and whether its body
# is whole.
import json, socket, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
for stream in (False, True):
    body = json.dumps({"model": "gpt-4o", "temperature": 0, "stream": stream,
                       "messages": [{"role": "user", "content": "hi"}]}).encode()
    s = socket.create_connection((u.hostname, u.port))
    s.sendall(b"POST %s/chat/completions HTTP/%s\r\nHost: x\r\nAuthorization: Bearer sk-test-SLOW0001\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n" % (u.path.encode(), sys.argv[2].encode(), len(body)) + body)
    data = b""
    while True:
        b = s.recv(65536)
        if not b: break
        data += b
        if sys.argv[2] == "1.1" and data.endswith(b"0\r\n\r\n"): break
    head, _, rest = data.partition(b"\r\n\r\n")
    names = [l.decode().lower() for l in head.split(b"\r\n")[1:]]
    framing = sorted(l if not l.startswith("content-length:") else "content-length" for l in names
                     if l.startswith(("transfer-encoding:", "connection:", "content-length:")))
    whole = (b"[DONE]" in rest) if stream else rest.rstrip().endswith(b"}") or b"}\r\n" in rest
    print(("stream" if stream else "plain"), ",".join(framing), "whole" if whole else "cut")
EOF
expect_exit 0 retrace record --name http10 -- sh -c 'python3 http10.py "$OPENAI_BASE_URL" 1.0; python3 http10.py "$OPENAI_BASE_URL" 1.1'
expect_eq "$OUT" "plain connection: close,content-length whole
stream connection: close whole
plain transfer-encoding: chunked whole
stream transfer-encoding: chunked whole"
kill $SIM_PID; wait $SIM_PID 2> /dev/null || true
expect_exit 0 retrace replay http10
expect_eq "$OUT" "plain connection: close,content-length whole
stream connection: close whole
plain transfer-encoding: chunked whole
stream transfer-encoding: chunked whole"
echo "slow_clients: ok"
