# OpenTelemetry in: a Node program instrumented with the OpenTelemetry SDK
# (@opentelemetry/sdk-node, the OTLP/HTTP JSON exporter and the protobuf
# one) sends its spans to the recorder that `record` points
# OTEL_EXPORTER_OTLP_ENDPOINT at. Each span becomes an observed event in
# its causal place: the model request made inside the chat span is its
# child, the GenAI tool span is a tool event, a failed span carries its
# error. A replay serves the model answer and records the spans again
# (replay never answers them). Malformed OTLP bodies get a 400 and record
# nothing; an export sent twice is recorded once.
source "$(dirname "$0")/lib.sh"
start_sim --sim-seed 3
export OPENAI_BASE_URL=$SIM_URL/v1 OPENAI_API_KEY=sk-test-OTELINGEST01

tree() {  # seq parent kind name [observed] [error type], one line per event
  retrace show "$1" --json | python3 -c '
import json, sys
for e in json.load(sys.stdin)["events"]:
    a = e["attrs"]
    extra = (" observed" if a.get("observed") else "") + (" raised " + a["error"]["type"] if "error" in a else "")
    print(e["seq"], e["parent"], e["kind"], e["name"] + extra)'
}
want='1 0 process node
2 4 custom chat gpt-4o observed
3 2 llm POST /chat/completions
4 0 custom invoke_agent weather observed
5 4 tool get_weather observed
6 4 custom lookup forecast observed raised ServiceDown'

cd "$SRC/tests/node"
for protocol in json proto; do
  expect_exit 0 env OTLP_PROTOCOL=$protocol "$RETRACE_BIN" record --name otel-$protocol -- node otel_prog.mjs
  expect_contains "$OUT" "model: "
  expect_eq "$(tree otel-$protocol)" "$want" "spans sent over OTLP $protocol, in their causal place"
done
# The span's own facts are kept: its trace id, kind and status.
retrace show otel-json --json > "$WORK/otel.json"
python3 - "$WORK/otel.json" <<'PY'
import json, sys
events = {e["seq"]: e for e in json.load(open(sys.argv[1]))["events"]}
chat, agent, tool, failed = events[2]["attrs"], events[4]["attrs"], events[5]["attrs"], events[6]["attrs"]
assert chat["otel"]["trace_id"] == agent["otel"]["trace_id"] == tool["otel"]["trace_id"], (chat, agent)
assert len(chat["otel"]["trace_id"]) == 32 and len(chat["span"]) == 16, chat
assert tool["otel"]["name"] == "execute_tool get_weather" and tool["otel"]["scope"] == "weather-agent", tool
assert failed["otel"]["status"] == {"code": 2, "message": "forecast service down"}, failed
assert failed["error"] == {"type": "ServiceDown", "message": "forecast service down"}, failed
PY
expect_exit 0 retrace show otel-json --event 5
expect_contains "$OUT" '"gen_ai.tool.call.arguments": "{\"city\":\"Paris\"}"'
# `show` prints each span above what happened inside it, whatever the numbers.
expect_exit 0 retrace show otel-json
expect_contains "$OUT" "  #4       custom     invoke_agent weather"
expect_contains "$OUT" "    #2       custom     chat gpt-4o"
expect_contains "$OUT" "      #3       llm        POST /openai/chat/completions"

# A replay serves the model's answer (the sim is gone) and takes the
# program's spans again as observed: nothing is left unused.
kill "$SIM_PID"; wait "$SIM_PID" 2> /dev/null || true
expect_exit 0 "$RETRACE_BIN" replay otel-json
expect_contains "$ERR" "1 recorded answer(s) served"
expect_contains "$ERR" "retrace: reproduced"
replay_id=$("$RETRACE_BIN" runs --json --limit 1 | json 'j[0]["id"]')
expect_eq "$(tree "$replay_id")" "$want" "the replay's spans"
# The same program's spans over JSON and over protobuf are one trajectory.
expect_exit 0 "$RETRACE_BIN" diff otel-json otel-proto
expect_contains "$OUT" "trajectory 5 / 5 steps, 5 equal, no divergence"

# Bad bodies: a 400 with the reason, and nothing recorded. The control
# posts a valid export, then the same again (an exporter's retry): its
# spans are recorded once.
cd "$WORK"
cat > spans.json <<'EOF'
{"resourceSpans":[{"scopeSpans":[{"scope":{"name":"hand"},"spans":[
 {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"fetch docs",
  "kind":1,"startTimeUnixNano":"1796660000000000000","endTimeUnixNano":"1796660000500000000",
  "attributes":[{"key":"db.system","value":{"stringValue":"sqlite"}},
                {"key":"http.request.header.authorization","value":{"stringValue":"Bearer abc123secret"}}]}]}]}]}
EOF
printf 'not json' > bad.json
printf '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"xyz","spanId":"eee19b7ec3c1b174","name":"n"}]}]}]}' > badid.json
printf '\x0a\xff\xff\xff\x0f' > bad.pb
cat > post.sh <<'EOF'
post() {  # FILE TYPE: prints the status and the body
  curl -sS -o /dev/stdout -w ' %{http_code}\n' -H "content-type: $2" --data-binary @"$1" "$RETRACE_PROXY_URL/_retrace/v1/traces"
}
post bad.json application/json
post badid.json application/json
post bad.pb application/x-protobuf
post spans.json text/plain
post spans.json application/json
post spans.json application/json
EOF
expect_exit 0 retrace record --name posts -- bash post.sh
lines=$OUT
expect_contains "$(sed -n 1p <<< "$lines")" '"message":"OTLP body is not JSON: ' "not JSON"
expect_contains "$(sed -n 1p <<< "$lines")" " 400"
expect_contains "$(sed -n 2p <<< "$lines")" "span 0: traceId must be 32 hex digits"
expect_contains "$(sed -n 3p <<< "$lines")" "OTLP protobuf body: a length past the end of the body at byte 0"
expect_contains "$(sed -n 3p <<< "$lines")" " 400"
expect_contains "$(sed -n 4p <<< "$lines")" "takes application/json or application/x-protobuf"
expect_contains "$(sed -n 4p <<< "$lines")" " 415"
expect_eq "$(sed -n 5p <<< "$lines")" "{} 200"
expect_eq "$(sed -n 6p <<< "$lines")" '{"partialSuccess":{"errorMessage":"spans already recorded","rejectedSpans":"1"}} 200'
expect_eq "$(tree posts)" "1 0 process bash
2 0 custom fetch docs observed" "one span, recorded once"
expect_exit 0 retrace show posts --event 2
expect_contains "$OUT" '"http.request.header.authorization": "[REDACTED]"'
expect_not_contains "$(retrace show posts --json)" "abc123secret"

# The gateway takes spans too, into the run its clients name.
start_gateway
expect_eq "$(curl -sS -w ' %{http_code}' -H 'content-type: application/json' -H 'x-retrace-run: ticket-9' \
  --data-binary @spans.json "$GW_URL/_retrace/v1/traces")" "{} 200"
kill -INT "$GW_PID"; wait "$GW_PID" 2> /dev/null || true
expect_eq "$(tree ticket-9)" "1 0 custom fetch docs observed" "the gateway's run"
