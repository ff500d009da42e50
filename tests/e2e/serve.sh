# `retrace serve` over HTTP: nothing without the token it prints (page and
# API), loopback unless --allow-remote, GET only, and every API answer equal
# to the CLI's --json for the same question; a run recorded while a page
# watches arrives as a server-sent event. (The page itself: web/tests/.)
source "$(dirname "$0")/lib.sh"
export OPENAI_API_KEY=sk-test-SERVEKEY0000001
start_sim --sim-seed 7
export OPENAI_BASE_URL=$SIM_URL/v1
cat > ask.sh <<'SH'
curl -sS -f "$OPENAI_BASE_URL/chat/completions" -H "authorization: Bearer $OPENAI_API_KEY" \
  -H 'content-type: application/json' \
  -d "{\"model\":\"gpt-4o-mini\",\"temperature\":0,\"messages\":[{\"role\":\"user\",\"content\":\"${Q:-hello}\"}]}" > /dev/null
SH
retrace record --name ask -- sh ask.sh
ask=$(latest_id)
Q=changed retrace replay "$ask" > /dev/null 2>&1 || true
replay=$(latest_id)
retrace probe --k 3 --rule "fail_rate >= 0.5" --name flaky -- sh ask.sh > /dev/null 2>&1 || true
probe=$(retrace probes --json | json 'j[0]["probe"]')

start_serve() {
  : > "$WORK/serve.out"
  "$RETRACE_BIN" serve "$@" > "$WORK/serve.out" 2> "$WORK/serve.err" &
  SERVE_PID=$!
  BG_PIDS+=("$SERVE_PID")
  for _ in $(seq 500); do grep -q ' on http' "$WORK/serve.out" 2> /dev/null && break; sleep 0.02; done
  URL=$(sed -n 's/^serving .* on //p' "$WORK/serve.out")
  [[ -n $URL ]] || fail "serve did not start: $(cat "$WORK/serve.err")"
  BASE=${URL%%/?token=*}
  TOKEN=${URL##*token=}
}
status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
api() { curl -sS -f -H "x-retrace-token: $TOKEN" "$BASE/api/v1/$1"; }
same() {  # same JSON_A JSON_B WHAT
  python3 -c 'import json,sys; sys.exit(json.loads(sys.argv[1]) != json.loads(sys.argv[2]))' "$1" "$2" ||
    fail "$3: the API and the CLI answer differently"
}

# Another address than loopback only when meant.
expect_exit 2 retrace serve --listen 0.0.0.0:0
expect_contains "$ERR" "--allow-remote"
expect_exit 2 retrace serve --listen 127.0.0.1:99999
expect_contains "$ERR" "bad port"

start_serve
expect_contains "$URL" "http://127.0.0.1:"
expect_eq "${#TOKEN}" "32"
# Without the token (or with another) nothing is served: page, assets, API.
expect_eq "$(status "$BASE/")" "403"
expect_eq "$(status "$BASE/runs/$ask")" "403"
expect_eq "$(status "$BASE/assets/app.js")" "403"
expect_eq "$(status "$BASE/api/v1/runs")" "403"
expect_eq "$(status "$BASE/api/v1/runs?token=0123456789abcdef0123456789abcdef")" "403"
expect_eq "$(status -H "authorization: Bearer nottoken" "$BASE/api/v1/runs")" "403"
expect_not_contains "$(curl -s "$BASE/api/v1/runs/$ask")" "$ask"
# A refusal closes the connection: refused requests are not pipelined on it.
expect_contains "$(curl -sv "$BASE/api/v1/runs" 2>&1)" "Connection: close"
# With it: the page sets a cookie that opens the page and its files on a
# reload, but never the data (a browser sends a host's cookies to its every
# port): it does not hold the token.
page=$(curl -sS -D headers.txt -c cookies.txt "$URL")
expect_contains "$page" '<script type="module" src="/assets/app.js"></script>'
expect_contains "$(cat headers.txt)" "HttpOnly; SameSite=Strict"
expect_not_contains "$(cat headers.txt cookies.txt)" "$TOKEN"
expect_contains "$(tr 'A-Z' 'a-z' < headers.txt)" "content-security-policy: default-src 'none'; script-src 'self'"
expect_eq "$(status -b cookies.txt "$BASE/assets/app.js")" "200"
expect_eq "$(status -b cookies.txt "$BASE/diff/$ask/$replay")" "200"
expect_eq "$(status -b cookies.txt "$BASE/api/v1/runs")" "403"
expect_eq "$(status -b cookies.txt "$BASE/api/v1/live")" "403"
expect_eq "$(status -H "x-retrace-token: $TOKEN" "$BASE/api/v1/runs")" "200"
expect_eq "$(status -H "authorization: Bearer $TOKEN" "$BASE/api/v1/probes")" "200"
expect_eq "$(status -b cookies.txt "$BASE/assets/nothing.js")" "404"
expect_eq "$(status -b cookies.txt "$BASE/assets/app.js%00.html")" "400"
expect_eq "$(status -H "x-retrace-token: $TOKEN" "$BASE/api/v1/runs/NOSUCHRUN")" "404"
expect_eq "$(status -H "x-retrace-token: $TOKEN" "$BASE/api/v1/runs?limit=0")" "400"
# Read-only: nothing but GET.
expect_eq "$(status -X POST -H "x-retrace-token: $TOKEN" "$BASE/api/v1/runs")" "405"
expect_eq "$(status -X DELETE -H "x-retrace-token: $TOKEN" "$BASE/api/v1/runs/$ask")" "405"
before=$(retrace runs --json | json 'len(j)')

# Every answer is the CLI's --json for the same question.
same "$(api runs)" "$(retrace runs --json)" "runs"
same "$(api 'runs?name=flaky.run&tokens=1')" "$(retrace runs --name flaky.run --tokens --json)" "runs --name --tokens"
same "$(api 'runs?kind=replay')" "$(retrace runs --kind replay --json)" "runs --kind replay"
same "$(api "runs?limit=2&before=$replay")" "$(retrace runs --limit 2 --before "$replay" --json)" "a page"
expect_eq "$(api 'runs?kind=replay' | json '[r["id"] for r in j]')" "['$replay']"
# Each filter against the whole list filtered here (on either engine).
all=$(retrace runs --json)
narrowed() {  # narrowed QUERY PYTHON-CONDITION-ON-r
  expect_eq "$(api "runs?$1" | json '[r["id"] for r in j]')" \
    "$(json "[r['id'] for r in j if $2]" <<< "$all")" "runs?$1"
}
narrowed 'q=flaky' '"flaky" in (r["name"] or "") or "flaky" in r["id"]'
narrowed 'state=sealed' 'r["state"] == "sealed"'
narrowed 'kind=probe' 'r["kind"] == "probe"'
narrowed 'kind=record' 'r["kind"] == "record"'
narrowed 'kind=record&q=ask' 'r["kind"] == "record" and "ask" in (r["name"] or "")'
expect_ne "$(api 'runs?kind=probe' | json 'len(j)')" "0"
same "$(api "runs/$ask")" "$(retrace show "$ask" --json)" "show"
same "$(api "runs/$ask/events/2")" "$(retrace show "$ask" --event 2 --json)" "show --event"
set +e
cli_diff=$(retrace diff "$ask" "$replay" --json)
set -e
same "$(api "diff/$ask/$replay")" "$cli_diff" "diff"
expect_ne "$(api "diff/$ask/$replay" | json 'j["verdict"]')" "identical"
same "$(api probes)" "$(retrace probes --json)" "probes"
same "$(api "probes/$probe")" "$(retrace probe show "$probe" --json)" "probe show"
# No key ever, anywhere the API answers.
expect_not_contains "$(api "runs/$ask"; api "runs/$ask/events/2")" "SERVEKEY"

# A program's output that is not UTF-8 is answered (U+FFFD for the bytes
# that are not), by the API as by the CLI; before, the answer was dropped.
retrace record --name latin1 -- sh -c "printf 'caf\\351\\n'" > /dev/null
expect_eq "$(status -H "x-retrace-token: $TOKEN" "$BASE/api/v1/runs/latin1/events/1")" "200"
same "$(api runs/latin1/events/1)" "$(retrace show latin1 --event 1 --json)" "show --event of bytes"
expect_eq "$(api runs/latin1/events/1 | json 'j["stdout"]')" "caf�"

# Live: a page watching the list hears of a run recorded now, and a page
# watching that run gets its events and its end.
curl -sN "$BASE/api/v1/live?token=$TOKEN" > live.txt &
LIVE=$!
BG_PIDS+=("$LIVE")
for _ in $(seq 400); do grep -q 'retrace live' live.txt 2> /dev/null && break; sleep 0.05; done
retrace record --name fresh -- sh ask.sh
fresh=$(latest_id)
for _ in $(seq 400); do grep -q "$fresh" live.txt && break; sleep 0.05; done
expect_contains "$(cat live.txt)" "event: run"
# (the run may be told of twice: when it starts, and when it is sealed)
ids=$(grep '^data: ' live.txt | sed 's/^data: //' |
  python3 -c 'import json,sys; print(" ".join(sorted({json.loads(l)["id"] for l in sys.stdin})))')
expect_eq "$ids" "$fresh"
kill "$LIVE"
watched=$(timeout 10 curl -sN "$BASE/api/v1/live?run=$fresh&token=$TOKEN")
by_name=$(timeout 10 curl -sN "$BASE/api/v1/live?run=fresh&token=$TOKEN")  # (any reference)
expect_eq "$(grep -c '^event: event' <<< "$by_name")" "$(grep -c '^event: event' <<< "$watched")"
expect_eq "$(grep -c '^event: event' <<< "$watched")" "$(retrace show "$fresh" --json | json 'len(j["events"])')"
expect_eq "$(grep '^event: ' <<< "$watched" | tail -1)" "event: end"
# No key in what the live streams sent either, nor in any list or diff.
expect_not_contains "$(cat live.txt; echo "$watched"; api runs; api "diff/$ask/$replay"; api probes)" "SERVEKEY"
expect_eq "$(status "$BASE/api/v1/live?run=NOSUCHRUN&token=$TOKEN")" "404"

# Two servers on one machine: a browser keeps cookies by host, not port,
# and neither takes the other's.
first_base=$BASE first_pid=$SERVE_PID
start_serve
expect_ne "$BASE" "$first_base"
curl -sS -o /dev/null -b cookies.txt -c cookies.txt "$URL"
expect_eq "$(status -b cookies.txt "$first_base/assets/app.js")" "200"
expect_eq "$(status -b cookies.txt "$BASE/assets/app.js")" "200"
kill "$SERVE_PID"
BASE=$first_base SERVE_PID=$first_pid

# Serving changed nothing; it stops on SIGTERM.
expect_eq "$(retrace runs --json | json 'len(j)')" "$((before + 2))"  # (latin1 and fresh)
kill -TERM "$SERVE_PID"
wait "$SERVE_PID"
expect_eq "$?" "0"
start_serve --listen 0.0.0.0:0 --allow-remote
expect_contains "$URL" "http://0.0.0.0:"
expect_eq "$(status "$BASE/api/v1/runs")" "403"  # (the token still guards it)
echo "ok"
