# A client that sends `Expect: 100-continue` (curl does for bodies over
# 1 MiB) gets its 100 Continue from the proxy, the sim and a replay, instead
# of waiting for one; interim answers of the upstream (103 Early Hints) are
# neither relayed as the answer nor recorded as it.
source "$(dirname "$0")/lib.sh"
# An HTTP/1.1 upstream that sends 103 Early Hints before every answer (and,
# being Python's http.server, a 100 Continue when asked for one).
cat > "$WORK/upstream.py" <<'PY'
import hashlib, http.server, json
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        self.send_response_only(103)
        self.send_header("link", "</style.css>; rel=preload")
        self.end_headers()
        out = json.dumps({"bytes": len(body), "sha256": hashlib.sha256(body).hexdigest()[:16],
                          "expect": self.headers.get("expect")}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
start_upstream "$WORK/upstream.py"
python3 -c 'import json; print(json.dumps({"data": "x" * 2000000}))' > "$WORK/big.json"
# curl waits up to 30 s for the 100 Continue (its default is 1 s): a server
# that never sends one makes the scenario time out instead of pass slowly.
cat > "$WORK/client.sh" <<'SH'
curl -sS -v --expect100-timeout 30 -H 'Expect: 100-continue' -H 'content-type: application/json' \
  -H 'authorization: Bearer sk-test-EXPECT00001' \
  --data-binary @big.json "$1" -w ' %{http_code}\n' 2> "curl.$2.log"
SH
big_sha=$(sha256sum < "$WORK/big.json" | cut -c1-16)

# Control: directly, the upstream sends the 100 Continue and the 103 itself.
expect_exit 0 timeout 20 sh client.sh "$UP/upload" direct
expect_eq "$OUT" '{"bytes": 2000013, "sha256": "'"$big_sha"'", "expect": "100-continue"} 200'
expect_contains "$(cat curl.direct.log)" "< HTTP/1.1 100 Continue"
expect_contains "$(cat curl.direct.log)" "< HTTP/1.1 103"

# Through record: the proxy answers 100 Continue, sends the body on without
# the Expect, skips the 103 and records the 200.
want='{"bytes": 2000013, "sha256": "'"$big_sha"'", "expect": null} 200'
expect_exit 0 timeout 20 "$RETRACE_BIN" record --name upload --route up=$UP -- \
  sh -c 'sh client.sh "$RETRACE_ROUTE_UP/upload" record'
expect_eq "$OUT" "$want" "through record"
expect_contains "$(cat curl.record.log)" "< HTTP/1.1 100 Continue"
expect_not_contains "$(cat curl.record.log)" "< HTTP/1.1 103"
retrace show upload --json > run.json
expect_eq "$(json '[(e["attrs"]["status"], e["attrs"].get("truncated", False)) for e in j["events"] if e["kind"] == "http"]' < run.json)" \
  "[(200, False)]"
expect_exit 0 "$RETRACE_BIN" show upload --event 2 --json
expect_eq "$(json 'len(j["request"]["body"]["data"])' <<< "$OUT")" "2000000" "stored request body"

# Replayed with the upstream gone: the replaying proxy sends the 100 too.
kill "$UP_PID"
expect_exit 0 timeout 20 "$RETRACE_BIN" replay upload -- sh -c 'sh client.sh "$RETRACE_ROUTE_UP/upload" replay'
expect_eq "$OUT" "$want" "replayed"
expect_contains "$ERR" "reproduced"
expect_contains "$(cat curl.replay.log)" "< HTTP/1.1 100 Continue"

# The sim, as a provider would, answers 100 Continue before the body.
start_sim --sim-seed 3
python3 -c 'import json; print(json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi " * 600000}]}))' > big.json
expect_exit 0 timeout 20 sh client.sh "$SIM_URL/v1/chat/completions" sim
expect_contains "$OUT" '"object":"chat.completion"'
expect_contains "$OUT" " 200"
expect_contains "$(cat curl.sim.log)" "< HTTP/1.1 100 Continue"
echo "expect_continue: ok"
