# A request over --max-body gets its 413, and the recorder lives on: the
# program's later requests are answered and recorded, and `record` exits
# with the program's own code. The same against the gateway. (The 413 once
# freed a temporary of the coroutine twice; a few requests later the
# recorder died with 139, and the program with it.)
source "$(dirname "$0")/lib.sh"
start_sim --sim-seed 3
cat > client.py <<'EOF'
import json, os, sys, urllib.error, urllib.request
base = os.environ["OPENAI_BASE_URL"]
def ask(body):
    req = urllib.request.Request(base + "/chat/completions", data=body,
                                 headers={"content-type": "application/json",
                                          "authorization": "Bearer sk-test-BODYKEY0001"})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
small = json.dumps({"model": "gpt-4o", "temperature": 0,
                    "messages": [{"role": "user", "content": "hi"}]}).encode()
big = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "x" * 5000}]}).encode()
codes = [ask(small)] if sys.argv[1] == "control" else []
for _ in range(int(sys.argv[2])):
    codes.append(ask(big))
    codes += [ask(small) for _ in range(5)]
print(" ".join(map(str, codes)))
EOF
export OPENAI_BASE_URL=$SIM_URL/v1

# Control: small requests only, under the same limit.
expect_exit 0 retrace record --name control --max-body 4096 -- python3 client.py control 0
expect_eq "$OUT" "200"

# Oversized bodies, each followed by small requests: every small one is
# answered, every big one refused, and the recorder is still there at the end.
expect_exit 0 retrace record --name big --max-body 4096 -- python3 client.py big 6
expect_eq "$OUT" "$(printf '413 200 200 200 200 200 %.0s' 1 2 3 4 5 6 | sed 's/ $//')"
expect_contains "$ERR" "exit 0"
# (a refused body is never read, so the refusal is not an exchange of the run)
statuses=$(retrace show big --json | json '" ".join(str(e["attrs"]["status"]) for e in j["events"] if e["kind"] == "llm")')
expect_eq "$statuses" "$(printf '200 %.0s' $(seq 30) | sed 's/ $//')" "every answered exchange was recorded"

# A Content-Length the proxy will never read gets its 413 too.
cat > huge.py <<'EOF'
import os, socket, sys, urllib.parse
u = urllib.parse.urlparse(os.environ["OPENAI_BASE_URL"])
for _ in range(4):
    s = socket.create_connection((u.hostname, u.port))
    s.sendall(b"POST " + u.path.encode() + b"/chat/completions HTTP/1.1\r\nHost: x\r\n"
              b"Content-Length: 1000000000000000\r\n\r\n{")
    print(s.recv(100).split(b"\r\n")[0].decode())
    s.close()
EOF
expect_exit 0 retrace record --name huge --max-body 4096 -- sh -c 'python3 huge.py && python3 client.py control 0'
expect_eq "$OUT" "$(printf 'HTTP/1.1 413 Payload Too Large\n%.0s' 1 2 3 4)
200"

# No key in what was stored (control: the redacted header is there).
store_dump > dump.txt
grep -qF '"authorization":"[REDACTED]"' dump.txt || fail "stored request headers not found in the dump"
if grep -F "BODYKEY0001" dump.txt; then fail "the API key leaked into the store (lines above)"; fi

# The gateway: oversized bodies from clients, then small ones; it stays up.
: > gw.out
"$RETRACE_BIN" proxy --listen 127.0.0.1:0 --max-body 4096 --upstream openai=$SIM_URL/v1 > gw.out 2> gw.err &
GW_PID=$!
BG_PIDS+=("$GW_PID")
for _ in $(seq 200); do grep -q '^listening on ' gw.out 2> /dev/null && break; sleep 0.02; done
GW_URL=$(sed -n 's/^listening on //p' gw.out)
[[ -n $GW_URL ]] || fail "gateway did not start: $(cat gw.err)"
expect_exit 0 env OPENAI_BASE_URL=$GW_URL/openai python3 client.py big 6
expect_eq "$OUT" "$(printf '413 200 200 200 200 200 %.0s' 1 2 3 4 5 6 | sed 's/ $//')"
kill -0 $GW_PID || fail "the gateway died"
kill -TERM $GW_PID
wait $GW_PID || fail "the gateway exited $?"
echo "crash_oversized_body: ok"
