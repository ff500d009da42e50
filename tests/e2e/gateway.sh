# `retrace proxy`: a long-running gateway. Exchanges are grouped into runs by
# the x-retrace-run header (else one run per hour), runs are sealed when idle
# and on SIGTERM with nothing lost, and --replay answers from a recording.
source "$(dirname "$0")/lib.sh"
start_sim --sim-seed 5
ask() { # ask GROUP CONTENT
  local group=()
  [[ -n $1 ]] && group=(-H "x-retrace-run: $1")
  curl -sS "$GW_URL/openai/chat/completions" "${group[@]}" -H "authorization: Bearer sk-test-GWKEY000001" \
    -H 'content-type: application/json' \
    -d "{\"model\":\"gpt-4o\",\"temperature\":0,\"messages\":[{\"role\":\"user\",\"content\":\"$2\"}]}"
}
# An upstream that is still answering when SIGTERM comes: it marks the
# arrival of its request, then answers half a second later (within the
# gateway's grace for exchanges in flight).
cat > "$WORK/slow.py" <<'PY'
import http.server, os, time
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_POST(self):
        self.rfile.read(int(self.headers["content-length"]))
        open(os.environ["ARRIVED"], "w").close()
        time.sleep(0.5)
        out = b'{"object":"chat.completion","slow":true}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
export ARRIVED=$WORK/six.arrived
start_upstream "$WORK/slow.py"
start_gateway --upstream openai=$SIM_URL/v1 --route slow=$UP --idle 2
ask alpha one > a1.json
ask alpha two > a2.json
ask beta three > b1.json
ask "" four > h1.json
expect_contains "$(cat a1.json)" '"object":"chat.completion"'
# A run idle for --idle seconds is sealed while the gateway runs on.
sealed() { retrace runs --json | json 'sorted((r["name"], r["state"]) for r in j if r["name"] in ("alpha", "beta"))'; }
for _ in $(seq 75); do [[ $(sealed) == "[('alpha', 'sealed'), ('beta', 'sealed')]" ]] && break; sleep 0.2; done
expect_eq "$(sealed)" "[('alpha', 'sealed'), ('beta', 'sealed')]"
# Then the same group starts a new run; SIGTERM seals it with its exchanges.
ask alpha five > a3.json
# (SIGTERM once the exchange is in flight: a connection still in the
# listen queue would be refused, not served)
curl -sS "$GW_URL/slow/chat/completions" -H "x-retrace-run: alpha" -H "authorization: Bearer sk-test-GWKEY000001" \
  -H 'content-type: application/json' -d '{"model":"gpt-4o","messages":[{"role":"user","content":"six"}]}' > a4.json &
six=$!
for _ in $(seq 500); do [[ -e $WORK/six.arrived ]] && break; sleep 0.02; done
[[ -e $WORK/six.arrived ]] || fail "the request in flight did not reach its upstream"
kill -TERM $GW_PID
wait $GW_PID || fail "the gateway exited $?"
wait $six || fail "the request in flight was cut"
expect_eq "$(cat a4.json)" '{"object":"chat.completion","slow":true}' "the answer in flight"
expect_contains "$(cat "$WORK/gw.err")" "gateway stopped: 4 run(s) sealed, 6 exchange(s)"
retrace runs --json > runs.json
expect_eq "$(json 'len(j)' < runs.json)" 4
expect_eq "$(json 'sorted(r["state"] for r in j)' < runs.json)" "['sealed', 'sealed', 'sealed', 'sealed']"
expect_eq "$(retrace show alpha --json | json 'len(j["events"])')" 2 "the newest alpha run: five and six"
expect_eq "$(retrace show @latest~3 --json | json 'j["name"], len(j["events"])')" "alpha 2"
hour=$(json '[r["name"] for r in j if r["name"].startswith("gateway-")][0]' < runs.json)
expect_contains "$hour" "gateway-$(date -u +%Y-%m-%dT)"
expect_exit 0 retrace verify --all
# The conditions, captured while the gateway began listening, are every
# run's: the same code and env sections.
expect_eq "$(retrace show beta --json | json 'sorted(k for k in ("code", "env") if j["conditions"][k])')" "['code', 'env']"
expect_eq "$(retrace show alpha --json | json 'j["conditions_digest"]')" "$(retrace show beta --json | json 'j["conditions_digest"]')"
# The key reached the sim but not the store.
expect_eq "$(retrace show beta --json | json 'j["events"][0]["attrs"]["request_headers"]["authorization"]')" "[REDACTED]"

# --replay: the gateway answers from a recording with the sim stopped.
kill $SIM_PID; wait $SIM_PID 2> /dev/null || true
beta=$(retrace show beta --json | json 'j["id"]')
start_gateway --replay "$beta"
ask client1 three > replayed.json
expect_eq "$(cat replayed.json)" "$(cat b1.json)" "the recorded answer"
ask client1 "not recorded" > miss.json
expect_contains "$(cat miss.json)" '"type":"retrace_divergence"'
kill -TERM $GW_PID; wait $GW_PID
expect_eq "$(retrace show client1 --json | json 'j["replay_of"], [e["attrs"].get("replayed_from") for e in j["events"]]')" \
  "$beta [1, None]"

# Bad input: one line, exit 2.
expect_exit 2 retrace proxy --listen nowhere
expect_contains "$ERR" "--listen"
expect_exit 2 retrace proxy --listen 127.0.0.1:0 --replay nosuchrun
echo "gateway: ok"
