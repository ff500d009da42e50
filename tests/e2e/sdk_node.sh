# The Node SDK (sdk/node) with the official openai client: tool, retrieval,
# clock, random, checkpoint and span events recorded and replayed with the
# sim stopped and every real function throwing if called; a thrown error
# replays as its own class; a changed tool input diverges by name and field.
source "$(dirname "$0")/lib.sh"
start_sim --sim-seed 6
export OPENAI_BASE_URL=$SIM_URL/v1 OPENAI_API_KEY=sk-test-SDKNODEKEY01
cd "$SRC/tests/node"

# Plain mode: no retrace, every call passes through; the control shows the
# guarded functions do throw when called.
plain=$(node sdk_prog.mjs)
expect_contains "$plain" "add 3 15"
expect_contains "$plain" "raised QuotaExceeded true account acme is over quota"
expect_exit 1 env TOOLS=raise node sdk_prog.mjs
expect_contains "$ERR" "real add called during replay"

retrace record --name node-sdk -- node sdk_prog.mjs > "$WORK/rec.out" 2> /dev/null
expect_eq "$(grep -v values "$WORK/rec.out")" "$(grep -v values <<< "$plain")"
retrace show node-sdk --json > "$WORK/rec.json"
python3 - "$WORK/rec.json" <<'PY'
import json, sys
events = json.load(open(sys.argv[1]))["events"]
step = [e for e in events if e["name"] == "step"][0]
kids = sorted((e["kind"], e["name"]) for e in events if e["parent"] == step["seq"])
assert kids == [("checkpoint", "state"), ("llm", "POST /chat/completions"), ("retrieval", "kb"),
                ("tool", "add"), ("tool", "add"), ("tool", "charge")], kids
assert sorted(e["kind"] for e in events if e["parent"] == 0) == ["clock", "custom", "process", "random", "tool"]
charge = [e for e in events if e["name"] == "charge"][0]
assert charge["attrs"]["error"]["type"] == "QuotaExceeded", charge
PY

kill "$SIM_PID"; wait "$SIM_PID" 2> /dev/null || true
expect_exit 0 env TOOLS=raise "$RETRACE_BIN" replay node-sdk
expect_eq "$OUT" "$(cat "$WORK/rec.out")"
expect_contains "$OUT" "raised QuotaExceeded true account acme is over quota"
expect_contains "$ERR" "retrace: reproduced"
expect_exit 1 env TOOLS=raise FIRST=7 "$RETRACE_BIN" replay node-sdk
expect_contains "$ERR" "diverged: tool add: no recorded call has this input"
expect_contains "$ERR" '$.a: 1 -> 7'
expect_not_contains "$ERR" "real add called"
echo "sdk_node: ok"
