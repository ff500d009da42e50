# `export --format otlp`: a run as an OpenTelemetry trace. The Node SDK's
# program (tools, a retrieval, a span with a model call inside, a raised
# tool) and the official-SDK agent (OpenAI and Anthropic) are recorded and
# exported. The protobuf body decodes with the OpenTelemetry project's own
# generated code and is the JSON export span for span, and its official
# re-encoding is the same message (tests/node/otlp_check.mjs). One trace
# per run (sha256 of the run id), one root (the process), parents as the
# run's events have them, the GenAI attributes of the model exchanges and
# tools, the run's digests on the resource. Content is opt-in: without
# --content no prompt, answer or tool argument is in the bytes; with it,
# message lists of {role, parts}; no API key either way. --endpoint posts
# to a collector's /v1/traces: a 503 with Retry-After: 0 is retried at
# once, the body is the -o output, headers arrive; a 400 fails after one
# attempt, an endpoint nobody listens on after the retry budget.
source "$(dirname "$0")/lib.sh"
start_sim --sim-seed 6
export OPENAI_BASE_URL=$SIM_URL/v1 OPENAI_API_KEY=sk-test-OTLPKEY0000001
export ANTHROPIC_BASE_URL=$SIM_URL ANTHROPIC_API_KEY=sk-ant-OTLPKEY0000002
cd "$SRC/tests/node"
retrace record --name sdk -- node sdk_prog.mjs > "$WORK/sdk.out" 2> /dev/null
# The agent's first question carries the key: the store keeps it redacted,
# so no export can hold it (docs/secrets.md).
PROMPT="What makes a run reproducible? My key is $OPENAI_API_KEY." \
  retrace record --name agent -- node agent_prog.mjs > "$WORK/agent.out" 2> /dev/null
expect_contains "$(cat "$WORK/sdk.out")" "raised QuotaExceeded true"
expect_contains "$(cat "$WORK/agent.out")" "anthropic: tool_use get_weather"
cd "$WORK"

# An endpoint nobody listens on (a port just bound and released): every
# attempt is refused, so export fails once its retries (1+2+4+8 s of
# backoff) are spent. Started now, checked at the end.
dead=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$RETRACE_BIN" export sdk --endpoint "http://127.0.0.1:$dead" > dead.out 2> dead.err &
DEAD_PID=$!
BG_PIDS+=("$DEAD_PID")

for run in sdk agent; do
  retrace show $run --json > $run.show.json
  expect_exit 0 retrace export $run -o $run.json
  expect_eq "$OUT$ERR" "" "export -o writes nothing else"
  retrace export $run --format otlp --protobuf -o $run.pb
  retrace export $run --content -o $run.content.json
  retrace export $run --content --protobuf -o $run.content.pb
  # stdout is the same bytes as -o.
  retrace export $run > $run.stdout.json
  cmp $run.stdout.json $run.json || fail "export to stdout differs from -o"
done

# 1. Schema: the official ExportTraceServiceRequest decodes retrace's
# protobuf; it is the JSON export field for field, with and without content.
# (Its re-encoding has the same bytes in another order: retrace writes a
# message's fields in its JSON's key order, which parsers must accept.)
for f in sdk agent sdk.content agent.content; do
  facts=$(node "$SRC/tests/node/otlp_check.mjs" $f.json $f.pb)
  expect_eq "$(json 'j["spans"]' <<< "$facts")" "$(json 'len(j["events"])' < ${f%.content}.show.json)" "$f: spans, one per event"
  expect_eq "$(json 'j["reencoded_bytes"] == j["bytes"]' <<< "$facts")" True "$f: re-encoded size"
done
expect_eq "$(json 'j["spans"]' <<< "$facts")" 12 "agent: process + 11 model exchanges"
# Control: the checker sees one changed nanosecond, and a cut body.
python3 - <<'PY'
import json
j = json.load(open("sdk.json"))
span = j["resourceSpans"][0]["scopeSpans"][0]["spans"][3]
span["endTimeUnixNano"] = str(int(span["endTimeUnixNano"]) + 1)
json.dump(j, open("sdk.changed.json", "w"))
PY
expect_exit 1 node "$SRC/tests/node/otlp_check.mjs" sdk.changed.json sdk.pb
expect_contains "$ERR" "span 3 (execute_tool add) differs"
head -c 1000 sdk.pb > sdk.cut.pb
expect_exit 1 node "$SRC/tests/node/otlp_check.mjs" sdk.json sdk.cut.pb
expect_contains "$ERR" "does not decode as an ExportTraceServiceRequest"

# 2. Structure and attributes, against `retrace show --json`.
retrace show sdk --event 8 --json > sdk.chat.json
python3 - sdk.json sdk.show.json sdk.chat.json agent.json agent.show.json <<'PY'
import hashlib, json, sys
def load(i): return json.load(open(sys.argv[i]))
def value(v):
    (kind, x), = v.items()
    if kind == "intValue": return int(x)
    if kind == "arrayValue": return [value(e) for e in x["values"]]
    return x
def trace(export, show):
    rs = export["resourceSpans"]
    assert len(rs) == 1 and len(rs[0]["scopeSpans"]) == 1, "one resource, one scope"
    assert rs[0]["scopeSpans"][0]["scope"]["name"] == "retrace"
    resource = {a["key"]: value(a["value"]) for a in rs[0]["resource"]["attributes"]}
    assert resource["retrace.run.id"] == show["id"], resource
    assert resource["retrace.record.digest"] == show["record_digest"], resource
    assert resource["retrace.conditions.digest"] == show["conditions_digest"], resource
    assert resource["retrace.run.exit_code"] == 0 and resource["retrace.verify"] == "intact", resource
    spans = rs[0]["scopeSpans"][0]["spans"]
    for s in spans: s["attrs"] = {a["key"]: value(a["value"]) for a in s["attributes"]}
    # One trace: the first 32 hex digits of sha256(run id).
    tid = hashlib.sha256(show["id"].encode()).hexdigest()[:32]
    assert {s["traceId"] for s in spans} == {tid}, {s["traceId"] for s in spans}
    ids = [s["spanId"] for s in spans]
    assert len(set(ids)) == len(ids) and all(len(i) == 16 and int(i, 16) for i in ids), ids
    # One root, the process; every other parent is a span of this trace.
    roots = [s for s in spans if "parentSpanId" not in s]
    assert [r["attrs"]["retrace.event.kind"] for r in roots] == ["process"], roots
    assert all(s["parentSpanId"] in ids for s in spans if s is not roots[0])
    # Span for event: same times; the parent is the event's parent, or the
    # process for an event without one.
    by_seq = {s["attrs"]["retrace.event.seq"]: s for s in spans}
    events = show["events"]
    assert sorted(by_seq) == [e["seq"] for e in events], sorted(by_seq)
    process = [e["seq"] for e in events if e["kind"] == "process"][0]
    for e in events:
        s = by_seq[e["seq"]]
        assert (s["startTimeUnixNano"], s["endTimeUnixNano"]) == (e["start_ns"], e["end_ns"]), (s, e)
        assert s["attrs"]["retrace.event.kind"] == e["kind"], (s, e)
        if e["seq"] != process:
            assert s["parentSpanId"] == by_seq[e["parent"] or process]["spanId"], (s, e)
    return spans, by_seq, roots[0]

spans, by_seq, root = trace(load(1), load(2))
assert root["name"] == "node" and root["attrs"]["process.command_args"] == ["node", "sdk_prog.mjs"], root
assert root["status"] == {"code": 1}, root
def kids(parent): return sorted(s["name"] for s in spans if s.get("parentSpanId") == parent["spanId"])
step = [s for s in spans if s["name"] == "step"][0]
assert kids(step) == ["chat gpt-4o", "execute_tool add", "execute_tool add", "execute_tool charge", "kb", "state"], kids(step)
assert kids(root) == ["execute_tool mul", "now", "random", "step"], kids(root)
add = [s for s in spans if s["name"] == "execute_tool add"][0]
assert add["kind"] == 1 and add["status"] == {"code": 1}, add
assert {k: add["attrs"][k] for k in ("gen_ai.operation.name", "gen_ai.tool.name", "gen_ai.tool.type")} == \
    {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "add", "gen_ai.tool.type": "function"}, add
# The raised tool: status ERROR with its message, error.type its class.
charge = [s for s in spans if s["name"] == "execute_tool charge"][0]
assert charge["status"] == {"code": 2, "message": "account acme is over quota"}, charge
assert charge["attrs"]["error.type"] == "QuotaExceeded", charge
assert all("error.type" not in s["attrs"] for s in spans if s is not charge), "only the raised tool failed"
# The chat span: the GenAI attributes, each as the stored exchange says.
chat = load(3)
body = chat["response"]["body"]
llm = [s for s in spans if s["name"] == "chat gpt-4o"][0]
assert llm["kind"] == 3 and llm["status"] == {"code": 1} and llm["attrs"]["retrace.event.seq"] == 8, llm
want = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o", "gen_ai.response.id": body["id"],
        "gen_ai.response.model": body["model"], "gen_ai.response.finish_reasons": ["stop"],
        "gen_ai.usage.input_tokens": body["usage"]["prompt_tokens"],
        "gen_ai.usage.output_tokens": body["usage"]["completion_tokens"],
        "openai.response.system_fingerprint": body["system_fingerprint"],
        "http.response.status_code": 200}
assert {k: llm["attrs"].get(k) for k in want} == want, (llm["attrs"], want)
assert body["id"].startswith("chatcmpl-") and body["system_fingerprint"].startswith("fp_"), body

spans, by_seq, root = trace(load(4), load(5))
assert all(s.get("parentSpanId") == root["spanId"] for s in spans if s is not root), "the agent has no spans"
assert all(s["kind"] == 3 and s["status"] == {"code": 1} for s in spans if s is not root)
names = sorted(s["name"] for s in spans)
assert names == ["chat claude-sonnet-4-6"] + ["chat gpt-4o"] * 9 + ["embeddings text-embedding-3-small", "node"], names
claude = by_seq[12]
assert claude["name"] == "chat claude-sonnet-4-6", claude
assert {k: claude["attrs"].get(k) for k in ("gen_ai.provider.name", "gen_ai.request.model", "gen_ai.response.model", "gen_ai.response.finish_reasons", "gen_ai.request.max_tokens")} == \
    {"gen_ai.provider.name": "anthropic", "gen_ai.request.model": "claude-sonnet-4-6",
     "gen_ai.response.model": "claude-sonnet-4-6", "gen_ai.response.finish_reasons": ["tool_use"],
     "gen_ai.request.max_tokens": 200}, claude
assert claude["attrs"]["gen_ai.response.id"].startswith("msg_") and "openai.response.system_fingerprint" not in claude["attrs"]
assert [s["attrs"]["gen_ai.provider.name"] for s in spans if s is not root].count("openai") == 10
assert by_seq[5]["attrs"]["gen_ai.response.finish_reasons"] == ["tool_calls"], by_seq[5]
assert by_seq[8]["attrs"]["gen_ai.operation.name"] == "embeddings", by_seq[8]
PY

# 3. Content is opt-in. Without --content, no content attribute, and none
# of the program's prompts, answers or tool arguments in the bytes, in
# either encoding; with it, all of them, the messages as lists of
# {role, parts}. The key (in a prompt) is in neither: [REDACTED] instead.
python3 - "$WORK/sdk.out" "$WORK/agent.out" <<'PY'
import json, re, sys
def spans(f): return json.load(open(f))["resourceSpans"][0]["scopeSpans"][0]["spans"]
def attrs(s): return {a["key"]: a["value"].get("stringValue") for a in s["attributes"]}
CONTENT = {"gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions",
           "gen_ai.tool.call.arguments", "gen_ai.tool.call.result", "retrace.event.input", "retrace.event.output"}
sdk_out, agent_out = open(sys.argv[1]).read(), open(sys.argv[2]).read()
said = lambda out, label: re.search(f"^{re.escape(label)} (.*)$", out, re.M).group(1)
texts = {
    "sdk": ["hello", "paris", "acme", '{"a":5,"b":10}', said(sdk_out, "model")],
    "agent": ["What makes a run reproducible?", "Be brief.", "Stream me a sentence.",
              "Use get_weather for Paris.", "Summarize replay in a line.", "Topic two.",
              "You call tools when asked.", "Use the get_weather tool for Oslo.", '{"temp_c": 21}',
              said(agent_out, "plain:"), said(agent_out, "after tool:"), said(agent_out, "responses:"),
              said(agent_out, "tool call:").split(" ", 1)[1], said(agent_out, "anthropic:").split(" ", 2)[2]],
}
esc = lambda t: json.dumps(t)[1:-1]
def forms(t): return [t.encode(), esc(t).encode(), esc(esc(t)).encode()]  # as is, JSON-escaped once, twice
for run, needles in texts.items():
    for f in (f"{run}.json", f"{run}.pb"):
        data = open(f, "rb").read()
        for t in needles:
            # (acme is in the raised tool's status message, which is not content)
            if t == "acme": assert data.count(b"acme") == 1 and b"account acme is over quota" in data, f
            else: assert not any(x in data for x in forms(t)), f"{t!r} in {f}"
        assert b"[REDACTED]" not in data, f
    assert not any(CONTENT & attrs(s).keys() for s in spans(f"{run}.json")), run
    for f in (f"{run}.content.json", f"{run}.content.pb"):
        data = open(f, "rb").read()
        for t in needles: assert any(x in data for x in forms(t)), f"{t!r} not in {f}"
for f in ("sdk.json", "sdk.pb", "sdk.content.json", "sdk.content.pb",
          "agent.json", "agent.pb", "agent.content.json", "agent.content.pb"):
    assert b"OTLPKEY" not in open(f, "rb").read(), f"the API key in {f}"

# The SDK run's content, exactly.
by_name = {}
for s in spans("sdk.content.json"): by_name.setdefault(s["name"], []).append(attrs(s))
assert [(a["gen_ai.tool.call.arguments"], a["gen_ai.tool.call.result"]) for a in by_name["execute_tool add"]] == \
    [('{"a":1}', "3"), ('{"a":5,"b":10}', "15")], by_name["execute_tool add"]
charge = by_name["execute_tool charge"][0]
assert charge["gen_ai.tool.call.arguments"] == '{"account":"acme"}' and "gen_ai.tool.call.result" not in charge, charge
kb = by_name["kb"][0]
assert (kb["retrace.event.input"], kb["retrace.event.output"]) == ('{"query":"paris"}', '["about paris"]'), kb
chat = by_name["chat gpt-4o"][0]
assert json.loads(chat["gen_ai.input.messages"]) == [{"role": "user", "parts": [{"type": "text", "content": "hello"}]}], chat
out = json.loads(chat["gen_ai.output.messages"])
assert len(out) == 1 and out[0]["role"] == "assistant" and out[0]["finish_reason"] == "stop", out
assert [p["type"] for p in out[0]["parts"]] == ["text"] and out[0]["parts"][0]["content"].startswith(said(sdk_out, "model")), out

# The agent's chat spans: message lists of {role, parts}, each part typed.
chats = [attrs(s) for s in spans("agent.content.json") if s["name"].startswith("chat ")]
assert len(chats) == 10, len(chats)
for a in chats:
    for key in ("gen_ai.input.messages", "gen_ai.output.messages"):
        msgs = json.loads(a[key])
        assert isinstance(msgs, list) and msgs, (key, a)
        for m in msgs:
            assert {"role", "parts"} <= m.keys() and m["role"] in ("system", "user", "assistant", "tool"), m
            assert m["parts"] and all(p["type"] in ("text", "tool_call", "tool_call_response") for p in m["parts"]), m
first = json.loads(chats[0]["gen_ai.input.messages"])
assert first == [{"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
                 {"role": "user", "parts": [{"type": "text", "content": "What makes a run reproducible? My key is [REDACTED]."}]}], first
call = json.loads(chats[3]["gen_ai.output.messages"])[0]["parts"][0]
assert (call["type"], call["name"], json.dumps(call["arguments"], separators=(",", ":"))) == \
    ("tool_call", "get_weather", said(agent_out, "tool call:").split(" ", 1)[1]), call
back = json.loads(chats[4]["gen_ai.input.messages"])
assert [m["role"] for m in back] == ["user", "assistant", "tool"], back
assert back[2]["parts"] == [{"type": "tool_call_response", "id": call["id"], "response": '{"temp_c": 21}'}], back
claude = chats[-1]
assert json.loads(claude["gen_ai.system_instructions"]) == [{"type": "text", "content": "You call tools when asked."}], claude
use = json.loads(claude["gen_ai.output.messages"])[0]
assert use["finish_reason"] == "tool_use" and use["parts"][0]["name"] == "get_weather", use
assert json.dumps(use["parts"][0]["arguments"], separators=(",", ":")) == said(agent_out, "anthropic:").split(" ", 2)[2], use
PY

# 4. --endpoint: a collector that answers each export's first POST with
# 503 and Retry-After: 0, its second with 200 (or every POST with 400).
cat > receiver.py <<'PY'
import http.server, json, os, time
mode, log = os.environ["RX_MODE"], os.environ["RX_LOG"]
seen = 0
class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        global seen
        seen += 1
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        with open(f"{log}.{seen}", "wb") as f: f.write(body)
        with open(log, "a") as f:
            f.write(json.dumps({"path": self.path, "type": self.headers.get("content-type"),
                                "tenant": self.headers.get("x-tenant")}) + "\n")
        if mode == "refuse": status, extra, reply = 400, {}, b'{"code":3,"message":"unknown tenant"}'
        elif seen % 2: status, extra, reply = 503, {"Retry-After": "0"}, b"busy\n"
        else: status, extra, reply = 200, {}, b"{}"
        self.send_response(status)
        for k, v in extra.items(): self.send_header(k, v)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)
    def log_message(self, *args): pass
server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
PY
RX_MODE=flaky RX_LOG=$WORK/rx.log start_upstream receiver.py
# (rx COLUMN: that field of each logged request, one a line)
rx() { python3 -c 'import json,sys; [print(json.loads(l)[sys.argv[1]]) for l in open(sys.argv[2])]' "$1" rx.log; }
expect_exit 0 retrace export sdk --endpoint "$UP" --header X-Tenant=acme
expect_eq "$OUT" "" "stdout of a posted export"
expect_eq "$ERR" "retrace: exported run $(json 'j["id"]' < sdk.show.json) (11 spans) to $UP (status 200, 2 attempts)"
expect_eq "$(rx path)" $'/v1/traces\n/v1/traces'
expect_eq "$(rx type)" $'application/json\napplication/json'
expect_eq "$(rx tenant)" $'acme\nacme'
cmp rx.log.1 sdk.json || fail "the body posted differs from export -o"
cmp rx.log.2 sdk.json || fail "the body posted again differs from export -o"
# Protobuf, to an endpoint given as its /v1/traces (not doubled), with content.
expect_exit 0 retrace export agent --protobuf --content --endpoint "$UP/v1/traces"
expect_contains "$ERR" "(12 spans) to $UP/v1/traces (status 200, 2 attempts)"
expect_eq "$(rx path | tail -2)" $'/v1/traces\n/v1/traces'
expect_eq "$(rx type | tail -2)" $'application/x-protobuf\napplication/x-protobuf'
expect_eq "$(rx tenant | tail -1)" None "no header unless asked for"
cmp rx.log.4 agent.content.pb || fail "the protobuf posted differs from export -o"
expect_eq "$(wc -l < rx.log)" 4 "POSTs received"
! grep -l OTLPKEY rx.log.[1-4] || fail "the API key posted"

# Controls: a 400 is not retried (one attempt, one line naming the
# status); bad flags are refused before anything is sent.
RX_MODE=refuse RX_LOG=$WORK/refuse.log start_upstream receiver.py
expect_exit 2 retrace export sdk --endpoint "$UP"
expect_eq "$ERR" "retrace: the collector at $UP refused the export (status 400: {\"code\":3,\"message\":\"unknown tenant\"})"
expect_eq "$(wc -l < refuse.log)" 1 "POSTs to a collector answering 400"
expect_exit 2 retrace export sdk --endpoint "$UP" --header X-Tenant
expect_contains "$ERR" "--header takes NAME=VALUE"
expect_exit 2 retrace export sdk --endpoint "$UP" -o x.json
expect_contains "$ERR" "give --endpoint or --output, not both"
expect_exit 2 retrace export sdk --format har --content
expect_contains "$ERR" "--protobuf, --content and --endpoint are for --format otlp"
expect_eq "$(wc -l < refuse.log)" 1 "POSTs after the refused flags"

# The endpoint nobody listens on: refused after five attempts.
rc=0; wait "$DEAD_PID" || rc=$?
expect_eq "$rc" 2 "exit code of an export nobody received; stderr: $(cat dead.err)"
expect_eq "$(wc -l < dead.err)" 1 "lines of stderr"
expect_contains "$(cat dead.err)" "retrace: could not export to http://127.0.0.1:$dead after 5 attempt(s): "
