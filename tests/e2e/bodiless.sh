# Responses that carry no body whatever their header says (to HEAD, 204,
# 304) are relayed and replayed as their header alone: the client's
# keep-alive connection stays usable for the next request, nothing waits
# for a body that never comes, and the exchange is not marked truncated.
source "$(dirname "$0")/lib.sh"
# An HTTP/1.1 upstream that keeps connections alive.
cat > "$WORK/upstream.py" <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def answer(self, body):
        status = {"/empty": 204, "/same": 304}.get(self.path, 200)
        self.send_response(status)
        if status == 200:
            self.send_header("content-type", "text/plain")
            self.send_header("content-length", str(len(body)))
        self.end_headers()
        if self.command == "GET" and status == 200:
            self.wfile.write(body)
    def do_GET(self): self.answer(b"hello")
    def do_HEAD(self): self.answer(b"hello")
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
start_upstream "$WORK/upstream.py"
# One connection, five requests; a stray body byte would break the next answer.
cat > "$WORK/client.py" <<'PY'
import http.client, os, urllib.parse
u = urllib.parse.urlsplit(os.environ["RETRACE_ROUTE_FILES"])
c = http.client.HTTPConnection(u.hostname, u.port, timeout=5)
for method, path in [("HEAD", "/x"), ("GET", "/empty"), ("GET", "/same"), ("HEAD", "/x"), ("GET", "/x")]:
    c.request(method, u.path + path)
    r = c.getresponse()
    # (a HEAD answer's length is what a GET would send; a GET's is re-framed)
    length = r.getheader("content-length") if method == "HEAD" else "-"
    print(method, path, r.status, length, r.read().decode())
PY
want="HEAD /x 200 5 
GET /empty 204 - 
GET /same 304 - 
HEAD /x 200 5 
GET /x 200 - hello"
# Control: directly, the upstream answers so.
expect_eq "$(RETRACE_ROUTE_FILES=$UP python3 "$WORK/client.py")" "$want" "direct"
expect_exit 0 timeout 20 "$RETRACE_BIN" record --name bodiless --route files=$UP -- python3 "$WORK/client.py"
expect_eq "$OUT" "$want" "through record"
retrace show bodiless --json > run.json
expect_eq "$(json '[e["attrs"]["status"] for e in j["events"] if e["kind"] == "http"]' < run.json)" \
  "[200, 204, 304, 200, 200]"
expect_eq "$(json 'sum(1 for e in j["events"] if e["attrs"].get("truncated"))' < run.json)" "0"
# Replayed with the upstream gone: the same answers, and reproduced.
kill "$UP_PID"
expect_exit 0 timeout 20 "$RETRACE_BIN" replay bodiless
expect_eq "$OUT" "$want" "replayed"
expect_contains "$ERR" "reproduced"
# The route came from the recording, without its URL: a request that would
# go live on it is refused with a message naming the flag, not sent anywhere.
expect_exit 1 timeout 20 "$RETRACE_BIN" replay bodiless --on-miss live --allow-unused -- \
  sh -c 'curl -sS "$RETRACE_ROUTE_FILES/other"'
expect_contains "$OUT" "no URL for route 'files' in this replay: give --route files=URL"
