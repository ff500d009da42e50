# Only the program `record` runs may add to its run. Another process on the
# machine that finds the recorder's port (ss -ltnp) gets a 403 for model
# requests and SDK events alike, and nothing of it is recorded; the program
# itself, given base URLs that carry the run's token in their path, works
# unchanged, and so does a client that sends the token as a header. The
# token is never stored.
source "$(dirname "$0")/lib.sh"
start_sim --sim-seed 2
export OPENAI_BASE_URL=$SIM_URL/v1
cat > program.sh <<'SH'
# The program: a model call and a tool event through the URLs it was given,
# then it waits while the intruder tries the same port.
ask() {
  curl -s -o /dev/null -w '%{http_code}\n' -H 'content-type: application/json' \
    -H 'authorization: Bearer sk-test-TOKEN00001' "$1" \
    -d '{"model":"gpt-4o","temperature":0,"messages":[{"role":"user","content":"hi"}]}'
}
ask "$OPENAI_BASE_URL/chat/completions"
curl -s -o /dev/null -w '%{http_code}\n' -H 'content-type: application/json' \
  "$RETRACE_PROXY_URL/_retrace/v1/events" \
  -d '{"kind":"tool","name":"search","input":{"q":"x"},"output":{"hits":1},"start_ns":1,"end_ns":2}'
echo "$RETRACE_PROXY_URL" > proxy.url
echo "$RETRACE_TOKEN" > token.txt
for _ in $(seq 500); do [[ -e intruder.done ]] && break; sleep 0.02; done
SH
"$RETRACE_BIN" record --name guarded -- bash program.sh > program.out 2> program.err &
REC=$!
for _ in $(seq 500); do [[ -s token.txt ]] && break; sleep 0.02; done
url=$(cat proxy.url); token=$(cat token.txt)
port=${url#http://127.0.0.1:}; port=${port%%/*}
bare=http://127.0.0.1:$port
expect_eq "${url#$bare}" "/_t/$token" "the proxy URL carries the token"
post() {  # post URL BODY [HEADER]: prints the status
  curl -s -o /dev/null -w '%{http_code}' -H 'content-type: application/json' \
    -H 'authorization: Bearer sk-test-INTRUDER01' ${3:+-H "$3"} "$1" -d "$2"
}
chat='{"model":"gpt-4o","messages":[{"role":"user","content":"injected"}]}'
tool='{"kind":"tool","name":"transfer_funds","input":{"to":"x"},"output":{"ok":true},"start_ns":1,"end_ns":2}'
codes=(
  "$(post "$bare/openai/chat/completions" "$chat")"
  "$(post "$bare/_retrace/v1/events" "$tool")"
  "$(post "$bare/_t/0123456789abcdef0123456789abcdef/openai/chat/completions" "$chat")"
  "$(post "$bare/_t/$token-x/_retrace/v1/events" "$tool")"
  "$(post "$bare/_retrace/v1/events" "$tool" "x-retrace-token: wrong")"
)
expect_eq "${codes[*]}" "403 403 403 403 403" "requests without the token"
# Control: the token as a header is accepted.
expect_eq "$(post "$bare/openai/chat/completions" '{"model":"gpt-4o","temperature":0,"messages":[{"role":"user","content":"by header"}]}' "x-retrace-token: $token")" "200"
touch intruder.done
wait $REC || fail "record exited $?: $(cat program.err)"
expect_eq "$(cat program.out)" "200
200" "the program's own requests"
expect_eq "$(grep -c 'refused a request without the run' program.err)" "1" "one warning"
# The run holds the program's exchange, its tool event and the header
# client's exchange: nothing of the intruder.
retrace show guarded --json > run.json
expect_eq "$(json '" ".join(sorted(e["kind"] + ":" + e["name"] for e in j["events"]))' < run.json)" \
  "llm:POST /chat/completions llm:POST /chat/completions process:bash tool:search"
store_dump > dump.txt
grep -qF '"hits"' dump.txt || fail "the tool event's output is not in the dump"
if grep -F "$token" dump.txt; then fail "the run's token reached the store"; fi
if grep -F "transfer_funds" dump.txt; then fail "the intruder's event reached the store"; fi
if grep -F "injected" dump.txt; then fail "the intruder's request reached the store"; fi
# A replay gives its program a token of its own, and reproduces.
cat > short.sh <<'SH'
curl -s -o /dev/null -w '%{http_code}\n' -H 'content-type: application/json' \
  -H 'authorization: Bearer sk-test-TOKEN00001' "$OPENAI_BASE_URL/chat/completions" \
  -d '{"model":"gpt-4o","temperature":0,"messages":[{"role":"user","content":"hi"}]}'
echo "$RETRACE_TOKEN" >> tokens.txt
SH
expect_exit 0 retrace record --name short -- bash short.sh
kill $SIM_PID; wait $SIM_PID 2> /dev/null || true
expect_exit 0 retrace replay short
expect_contains "$ERR" "reproduced"
expect_eq "$(sort -u tokens.txt | wc -l)" "2" "each run has its own token"
echo "run_token: ok"
