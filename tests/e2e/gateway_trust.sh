# The gateway trusts no one by default. Listening beyond loopback needs a
# token, which every client must then present; a run is bound to the
# credential that opened it, so another client cannot write into it; and a
# replaying gateway answers a near miss without the recorded content (the
# full report goes to its own stderr), so no client learns another's
# prompts.
source "$(dirname "$0")/lib.sh"
start_sim --sim-seed 6
start_gateway() {  # start_gateway ARGS...: sets GW_PID, GW_URL
  : > gw.out
  "$RETRACE_BIN" proxy --upstream openai=$SIM_URL/v1 "$@" > gw.out 2> gw.err &
  GW_PID=$!
  BG_PIDS+=("$GW_PID")
  for _ in $(seq 200); do grep -q '^listening on ' gw.out 2> /dev/null && break; sleep 0.02; done
  GW_URL=$(sed -n 's|^listening on ||p' gw.out)
  [[ -n $GW_URL ]] || fail "gateway did not start: $(cat gw.err)"
}
event() {  # event URL ENDPOINT KEY GROUP BODY: an SDK event; prints the status, body in last.json
  curl -s -o last.json -w '%{http_code}' -H 'content-type: application/json' \
    -H "authorization: Bearer $3" -H "x-retrace-run: $4" "$1/_retrace/v1/$2" -d "$5"
}
stop_gateway() { kill -TERM $GW_PID; wait $GW_PID || fail "the gateway exited $?"; }
ask() {  # ask URL KEY CONTENT [HEADER...]: prints the status; the body in last.json
  local url=$1 key=$2 content=$3; shift 3
  local hs=()
  for h in "$@"; do hs+=(-H "$h"); done
  curl -s -o last.json -w '%{http_code}' -H 'content-type: application/json' \
    -H "authorization: Bearer $key" "${hs[@]}" "$url/chat/completions" \
    -d "{\"model\":\"gpt-4o\",\"temperature\":0,\"messages\":[{\"role\":\"system\",\"content\":\"SYSTEM-PROMPT-OF-A-42\"},{\"role\":\"user\",\"content\":\"$content\"}]}"
}

# --- Beyond loopback ---------------------------------------------------------
expect_exit 2 retrace proxy --listen 0.0.0.0:0 --upstream openai=$SIM_URL/v1
expect_contains "$ERR" "is not a loopback address"
expect_contains "$ERR" "--token-file"
echo "too-short" > short.token
expect_exit 2 retrace proxy --listen 0.0.0.0:0 --token-file short.token
expect_contains "$ERR" "at least 16"
echo "gateway-token-0123456789abcdef" > gw.token
start_gateway --listen 0.0.0.0:0 --token-file gw.token
port=${GW_URL##*:}
base=http://127.0.0.1:$port
codes=(
  "$(ask $base/openai sk-test-CLIENTA0001 hi)"
  "$(ask $base/openai sk-test-CLIENTA0001 hi 'x-retrace-token: gateway-token-wrong0000000')"
  "$(ask $base/openai sk-test-CLIENTA0001 hi 'x-retrace-token: gateway-token-0123456789abcdef')"
  "$(ask $base/_t/gateway-token-0123456789abcdef/openai sk-test-CLIENTA0001 hi)"
)
expect_eq "${codes[*]}" "403 403 200 200"
stop_gateway
expect_contains "$(cat gw.err)" "2 exchange(s)"
if store_dump | grep -F "gateway-token-0123456789abcdef"; then fail "the gateway's token reached the store"; fi
# (control: on loopback no token is needed, as before)
start_gateway --listen 127.0.0.1:0
expect_eq "$(ask $GW_URL/openai sk-test-CLIENTA0001 hi)" "200"
stop_gateway

# --- A run is its opener's -----------------------------------------------------
start_gateway --listen 127.0.0.1:0
codes=(
  "$(ask $GW_URL/openai sk-test-CLIENTA0001 one 'x-retrace-run: shared')"
  "$(ask $GW_URL/openai sk-test-CLIENTB0002 two 'x-retrace-run: shared')"
  "$(ask $GW_URL/openai sk-test-CLIENTB0002 three 'x-retrace-run: bs-own')"
  "$(ask $GW_URL/openai sk-test-CLIENTA0001 four 'x-retrace-run: shared')"
  "$(ask $GW_URL/openai sk-test-CLIENTA0001 five)"
  "$(ask $GW_URL/openai sk-test-CLIENTB0002 six)"
)
expect_eq "${codes[*]}" "200 403 200 200 200 200"
expect_contains "$(cat last.json)" "choices"
expect_eq "$(event $GW_URL events sk-test-CLIENTA0001 shared \
  '{"kind":"tool","name":"lookup","input":{"q":"TOOL-INPUT-OF-A-7"},"output":{"hit":1}}')" "200"
# A request without a credential (the service's call to its own tools)
# joins the run it names; the first credential it sees then binds it.
tool_call() {  # tool_call GROUP: an SDK event without a credential; prints the status
  curl -s -o last.json -w '%{http_code}' -H 'content-type: application/json' \
    -H "x-retrace-run: $1" "$GW_URL/_retrace/v1/events" \
    -d '{"kind":"tool","name":"account","input":{"id":"A-1"},"output":{"ok":1}}'
}
codes=(
  "$(tool_call shared)"
  "$(tool_call tools-first)"
  "$(ask $GW_URL/openai sk-test-CLIENTB0002 seven 'x-retrace-run: tools-first')"
  "$(ask $GW_URL/openai sk-test-CLIENTA0001 eight 'x-retrace-run: tools-first')"
)
expect_eq "${codes[*]}" "200 200 200 403"
stop_gateway
llm_count() { retrace show "$1" --json | json 'sum(e["kind"] == "llm" for e in j["events"])'; }
expect_eq "$(llm_count shared)" "2" "only its opener's exchanges"
expect_eq "$(retrace show shared --json | json 'sum(e["kind"] == "tool" for e in j["events"])')" "2"
expect_eq "$(llm_count bs-own)" "1"
expect_eq "$(llm_count tools-first)" "1" "the credential it saw first"
expect_eq "$(retrace show tools-first --json | json 'sum(e["kind"] == "tool" for e in j["events"])')" "1"
# (shared, bs-own, tools-first, and the hour's run once per credential; the
# SDK events count)
expect_contains "$(cat gw.err)" "5 run(s) sealed, 9 exchange(s)"
source_run=$(retrace runs --json | json '[r["id"] for r in j if r["name"] == "shared"][0]')

# --- A replaying gateway keeps recorded content to itself ------------------------
kill $SIM_PID; wait $SIM_PID 2> /dev/null || true
start_gateway --listen 127.0.0.1:0 --replay "$source_run"
expect_eq "$(ask $GW_URL/openai sk-test-CLIENTB0002 one)" "200" "control: the recorded request"
expect_eq "$(ask $GW_URL/openai sk-test-CLIENTB0002 'one, slightly changed')" "400"
body=$(cat last.json)
expect_contains "$body" "retrace_divergence"
expect_contains "$body" "no recorded answer matches this request"
expect_not_contains "$body" "SYSTEM-PROMPT-OF-A-42"
expect_not_contains "$body" '"one"'
# The same for an SDK event: the recorded one is answered, a near miss learns
# nothing of the recorded input.
expect_eq "$(event $GW_URL replay sk-test-CLIENTB0002 sdk-b '{"kind":"tool","name":"lookup","input":{"q":"TOOL-INPUT-OF-A-7"}}')" \
  "200" "control: the recorded event"
expect_eq "$(json 'j["output"]' < last.json)" "{'hit': 1}"
expect_eq "$(event $GW_URL replay sk-test-CLIENTB0002 sdk-b '{"kind":"tool","name":"lookup","input":{"q":"other"}}')" "409"
body=$(cat last.json)
expect_contains "$body" "retrace_divergence"
expect_contains "$body" "no recorded answer matches this event"
expect_not_contains "$body" "TOOL-INPUT-OF-A-7"
expect_not_contains "$body" '"divergence"'
stop_gateway
# (the full report is the gateway's own)
expect_contains "$(cat gw.err)" "slightly changed"
expect_contains "$(cat gw.err)" "TOOL-INPUT-OF-A-7"
echo "gateway_trust: ok"
