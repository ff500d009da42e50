# Reading a trace without rerunning anything: `show RUN` draws the
# trajectory (model, fingerprint, tokens, tool calls, markers; similar
# events collapsed unless --all) and `show RUN --event N` prints one
# exchange in full, with a stream's assembled message and its raw frames.
source "$(dirname "$0")/lib.sh"
start_sim --sim-seed 4
export OPENAI_BASE_URL=$SIM_URL/v1 ANTHROPIC_BASE_URL=$SIM_URL OPENAI_API_KEY=sk-test-SHOWKEY000001 ANTHROPIC_API_KEY=sk-ant-SHOWKEY000002
cd "$SRC/tests/node"
prog='import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
const openai = new OpenAI(), anthropic = new Anthropic();
const tools = [{ type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } }];
const s = await openai.chat.completions.stream({ model: "gpt-4o", temperature: 0, tools, messages: [{ role: "user", content: "Use get_weather for Paris." }] }).finalChatCompletion();
const call = s.choices[0].message.tool_calls[0].function;
console.log("openai", call.name, call.arguments);
const plain = await openai.chat.completions.create({ model: "gpt-4o", temperature: 0, messages: [{ role: "user", content: "Just say hi." }] });
console.log("plain", plain.choices[0].message.content);
const m = await anthropic.messages.stream({ model: "claude-sonnet-4-6", max_tokens: 100, temperature: 0, tools: [{ name: "get_weather", input_schema: tools[0].function.parameters }], messages: [{ role: "user", content: "Use the get_weather tool for Oslo." }] }).finalMessage();
const use = m.content.find((b) => b.type === "tool_use");
console.log("anthropic", use.name, JSON.stringify(use.input));'
out=$(retrace record --name trace -- node --input-type=module -e "$prog" 2> /dev/null)
cd "$WORK"
openai_args=$(sed -n 's/^openai get_weather //p' <<< "$out")
anthropic_args=$(sed -n 's/^anthropic get_weather //p' <<< "$out")
[[ -n $openai_args && -n $anthropic_args ]] || fail "the program made no tool calls: $out"

# The tree: one line per exchange with model, fingerprint and tool calls.
expect_exit 0 retrace show trace
expect_contains "$OUT" "#2       llm        POST /openai/chat/completions      200"
expect_contains "$(grep '#2 ' <<< "$OUT")" "gpt-4o fp_"
expect_contains "$(grep '#2 ' <<< "$OUT")" "tool get_weather"
expect_not_contains "$(grep '#3 ' <<< "$OUT")" "tool" "control: a plain answer shows no tool call"
expect_contains "$(grep '#3 ' <<< "$OUT")" "tok"
expect_contains "$(grep '#4 ' <<< "$OUT")" "claude-sonnet-4-6 stream"

# One streamed tool call in full: assembled name and arguments, raw frames.
expect_exit 0 retrace show trace --event 2
expect_contains "$OUT" "authorization: [REDACTED]"
expect_contains "$OUT" "tool call    get_weather $openai_args"
expect_contains "$OUT" "frames ("
expect_contains "$OUT" 'ms  data: {"id":"chatcmpl-'
expect_contains "$OUT" '"choices":[{"delta":{"tool_calls":'
expect_contains "$OUT" "data: [DONE]"
expect_not_contains "$OUT" "SHOWKEY"
expect_exit 0 retrace show trace --event 4
expect_contains "$OUT" "tool call    get_weather $anthropic_args"
expect_contains "$OUT" "event: content_block_delta"
expect_contains "$OUT" "finish       tool_use"
# Control: the plain answer has text and no tool call.
expect_exit 0 retrace show trace --event 3
expect_not_contains "$OUT" "tool call"
expect_contains "$OUT" '"object": "chat.completion"'

# --json for programs.
retrace show trace --event 2 --json > e2.json
expect_eq "$(json 'j["response"]["assembled"]["tool_calls"][0]["name"]' < e2.json)" "get_weather"
expect_eq "$(json 'j["response"]["assembled"]["tool_calls"][0]["arguments"]' < e2.json)" "$openai_args"
expect_eq "$(json '"".join(f["text"] for f in j["response"]["frames"]) == j["response"]["body"]' < e2.json)" "True"
expect_eq "$(json 'len(j["response"]["frames"]) > 3 and all("offset_us" in f for f in j["response"]["frames"])' < e2.json)" "True"
expect_eq "$(json 'j["request"]["headers"]["authorization"]' < e2.json)" "[REDACTED]"
expect_exit 0 retrace show trace --event 1 --json
expect_contains "$OUT" '"stdout": "openai get_weather'
expect_exit 2 retrace show trace --event 99
expect_contains "$ERR" "has no event 99"

# 50 identical requests collapse into one line; --all lists each.
retrace record --name many -- sh -c 'for i in $(seq 50); do curl -sS -o /dev/null "$OPENAI_BASE_URL/embeddings" \
  -H "authorization: Bearer k" -d "{\"model\":\"text-embedding-3-small\",\"input\":\"x\"}"; done'
expect_exit 0 retrace show many
expect_contains "$OUT" "#2-51"
expect_contains "$OUT" "x50 (total)"
expect_eq "$(grep -c 'POST /openai/embeddings' <<< "$OUT")" 1
expect_exit 0 retrace show many --all
expect_eq "$(grep -c 'POST /openai/embeddings' <<< "$OUT")" 50
# n: 2, streamed and not: each choice shown on its own (they ran together,
# or only the first was shown). temperature 1 and a seed: two other answers.
retrace record --name two -- sh -c 'for stream in true false; do curl -sS -o /dev/null "$OPENAI_BASE_URL/chat/completions" \
  -H "authorization: Bearer k" -d "{\"model\":\"gpt-4o\",\"n\":2,\"seed\":1,\"stream\":$stream,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"; done'
for event in 2 3; do
  retrace show two --event $event --json > two.json
  first=$(json 'j["response"]["assembled"]["choices"][0]["text"]' < two.json)
  second=$(json 'j["response"]["assembled"]["choices"][1]["text"]' < two.json)
  [[ -n $first && -n $second ]] || fail "event $event: two choices assembled"
  expect_ne "$first" "$second" "two different answers"
  expect_exit 0 retrace show two --event $event
  expect_contains "$OUT" "choice 0  (stop)
  text         $first
  choice 1  (stop)
  text         $second"
done
# Control: one choice, no choice headings.
expect_exit 0 retrace show trace --event 3
expect_not_contains "$OUT" "choice 0"
echo "show_trace: ok"
