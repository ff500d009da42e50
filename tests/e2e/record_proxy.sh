# `retrace record` puts a recording proxy between the program and its model
# provider: the official SDKs work unchanged through it (plain, streaming,
# three concurrent streams, Anthropic tool_use), every exchange becomes an
# event with its bodies, and no API key reaches the store.
source "$(dirname "$0")/lib.sh"
start_sim --sim-seed 1
export OPENAI_API_KEY=sk-test-SECRETKEY1234 ANTHROPIC_API_KEY=sk-ant-SECRETKEY5678
export OPENAI_BASE_URL=$SIM_URL/v1 ANTHROPIC_BASE_URL=$SIM_URL
cd "$SRC/tests/node"

# Control: the program straight against the sim.
direct=$(node proxy_prog.mjs)
expect_contains "$direct" "anthropic: tool_use get_weather"
# Through the proxy (a fresh sim state is not needed: temperature 0 throughout).
recorded=$(retrace record --name proxied -- node proxy_prog.mjs 2>"$WORK/rec.err")
expect_eq "$recorded" "$direct" "the program sees the same answers through the proxy"
cd "$WORK"

retrace show proxied --json > show.json
expect_eq "$(json 'len(j["events"])' < show.json)" 7
expect_eq "$(json '[e["kind"] for e in j["events"]]' < show.json)" "['process', 'llm', 'llm', 'llm', 'llm', 'llm', 'llm']"
expect_eq "$(json 'sorted(set(e["attrs"]["status"] for e in j["events"][1:]))' < show.json)" "[200]"
expect_eq "$(json 'j["events"][6]["name"]' < show.json)" "POST /v1/messages"
expect_eq "$(json 'j["events"][1]["attrs"]["request_headers"]["authorization"]' < show.json)" "[REDACTED]"
expect_eq "$(json 'j["events"][6]["attrs"]["request_headers"]["authorization"]' < show.json)" "[REDACTED]" "this Anthropic SDK sends its key as a bearer token"
expect_eq "$(json 'j["events"][1]["attrs"]["request_headers"]["accept-encoding"] != "identity"' < show.json)" "True"
# Streams are recorded chunk by chunk, with their time offsets.
expect_eq "$(json 'len(j["events"][2]["attrs"]["chunks"]) > 3' < show.json)" "True"
expect_exit 0 retrace verify proxied

# Bodies are stored readable; the keys appear nowhere (decompressed dump, WAL included).
store_dump > dump.txt
grep -qF '"messages":[{"role":"user","content":"hi"}]' dump.txt || fail "request body not stored"
grep -qF "data: [DONE]" dump.txt || fail "stream body not stored"
grep -qF "event: message_stop" dump.txt || fail "anthropic stream not stored"
for secret in SECRETKEY1234 SECRETKEY5678; do
  ! grep -qF "$secret" dump.txt || fail "$secret leaked into the store"
done

# A stream the upstream cuts mid-way reaches the client cut, and is recorded as truncated.
kill $SIM_PID; wait $SIM_PID 2>/dev/null || true
start_sim --sim-seed 1 --fail-sequence midstream
export OPENAI_BASE_URL=$SIM_URL/v1
retrace record --name cut -- sh -c 'curl -sS -N "$OPENAI_BASE_URL/chat/completions" -H "authorization: Bearer k" \
  -d "{\"model\":\"gpt-4o\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"; echo "curl exit $?"' \
  > cut.out 2>/dev/null || true
expect_not_contains "$(cat cut.out)" "curl exit 0"
expect_not_contains "$(cat cut.out)" "[DONE]"
expect_eq "$(retrace show cut --json | json 'j["events"][1]["attrs"]["truncated"]')" "True"

# The program exits while an orphaned grandchild still streams through the
# proxy: record stops waiting after its grace period, cuts the upstream, and
# seals the run with that exchange recorded as truncated (bug: record hung
# until the upstream finished, here ~40 s of stream).
kill $SIM_PID; wait $SIM_PID 2>/dev/null || true
start_sim --sim-seed 1 --stream-interval 1000
export OPENAI_BASE_URL=$SIM_URL/v1
start=$(date +%s)
retrace record --name orphan -- sh -c 'curl -sS -N "$OPENAI_BASE_URL/chat/completions" -H "authorization: Bearer k" \
  -d "{\"model\":\"gpt-4o\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}" > orphan.out 2>&1 &
  for i in $(seq 200); do [ -s orphan.out ] && break; sleep 0.05; done' > /dev/null 2>&1
took=$(( $(date +%s) - start ))
(( took < 15 )) || fail "record took ${took}s to stop its proxy"
expect_eq "$(retrace show orphan --json | json 'j["state"] + " " + str(j["events"][1]["attrs"]["truncated"])')" "sealed True"

# A client asking for gzip gets a working response, and what is stored is
# the uncompressed JSON (the proxy asks the upstream for identity).
export OPENAI_BASE_URL=$SIM_URL/v1
expect_exit 0 retrace record --name gzip -- sh -c 'curl -sS --compressed -H "accept-encoding: gzip, br" \
  "$OPENAI_BASE_URL/chat/completions" -H "authorization: Bearer k" \
  -d "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"'
expect_contains "$OUT" '"object":"chat.completion"'
retrace show gzip --json > gzip.json
expect_eq "$(json 'j["events"][1]["attrs"]["request_headers"]["accept-encoding"]' < gzip.json)" "gzip, br"
expect_eq "$(json 'j["events"][1]["attrs"]["response_headers"].get("content-encoding")' < gzip.json)" "None"
python3 - "$RETRACE_STORE/retrace.db" "$(json 'j["events"][1]["response"]' < gzip.json)" <<'PY'
import json, sqlite3, subprocess, sys
data, = sqlite3.connect(sys.argv[1]).execute("SELECT data FROM blobs WHERE digest = ?", (sys.argv[2],)).fetchone()
if data[:4] == b"\x28\xb5\x2f\xfd":
    data = subprocess.run(["zstd", "-dc"], input=data, capture_output=True).stdout
assert json.loads(data)["object"] == "chat.completion", data[:80]
PY

# A route that does not exist is an error for the client, not a hang.
expect_exit 0 retrace record --name noroute -- sh -c 'curl -sS -o /dev/null -w "%{http_code}" "$RETRACE_PROXY_URL/nowhere/x"'
expect_eq "$OUT" "404"
expect_exit 2 retrace record --upstream nowhere=http://x -- true
expect_contains "$ERR" "--route"
echo "record_proxy: ok"
