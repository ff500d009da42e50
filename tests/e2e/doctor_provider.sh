# `retrace doctor --provider URL --k N`: against `retrace sim` with each
# misbehaviour switch, the verdict names the switch that was on; without
# one, "deterministic". The probe is a recorded run, and its keys are
# nowhere in the store.
source "$(dirname "$0")/lib.sh"
export OPENAI_API_KEY=sk-test-PROBEKEY00001
probe() {  # SWITCHES...: a fresh sim, one probe, its verdict
  start_sim --sim-seed 5 "$@"
  local keys=()
  [[ " $* " == *" --persona-by-key "* ]] && keys=(--keys sk-test-ACCOUNTA00001,sk-test-ACCOUNTB00002)
  retrace doctor --provider "$SIM_URL/v1" --k 4 "${keys[@]}" --json | json 'j["verdict"]'
  kill "$SIM_PID"; wait "$SIM_PID" 2> /dev/null || true
}
expect_eq "$(probe)" "deterministic"
expect_eq "$(probe --ignore-seed)" "seed ignored"
expect_eq "$(probe --rotate-fingerprint 2)" "rotating backend"
expect_eq "$(probe --batch-noise-every 3)" "batch-level noise"
expect_eq "$(probe --persona-by-key)" "per-account difference"

# The Anthropic API (no seed): temperature 0 only.
start_sim --sim-seed 5 --batch-noise-every 2
expect_eq "$(ANTHROPIC_BASE_URL=$SIM_URL ANTHROPIC_API_KEY=sk-ant-test-PROBE0001 retrace doctor --provider anthropic --k 4 --json |
  json '(j["verdict"], [c["phase"] for c in j["cells"]])')" "('batch-level noise', ['temperature 0'])"
kill "$SIM_PID"; wait "$SIM_PID" 2> /dev/null || true

# The human report, and the recorded run behind it.
start_sim --sim-seed 5 --rotate-fingerprint 2
expect_exit 0 "$RETRACE_BIN" doctor --provider "$SIM_URL/v1" --k 4
expect_contains "$OUT" "key 1    temperature 0: 4 request(s), 2 distinct output(s), 2 fingerprint(s)"
expect_contains "$OUT" "verdict  rotating backend:"
expect_eq "$(retrace show doctor-provider --json | json 'sum(1 for e in j["events"] if e["kind"] == "llm")')" "8"
for key in PROBEKEY00001 ACCOUNTA00001 ACCOUNTB00002; do
  expect_not_contains "$(store_dump)" "$key" "no API key in the store"
done
# A provider that answers nothing: exit 1; bad input: exit 2.
kill "$SIM_PID"; wait "$SIM_PID" 2> /dev/null || true
expect_exit 1 "$RETRACE_BIN" doctor --provider "$SIM_URL/v1" --k 2
expect_contains "$OUT" "verdict  no answers"
expect_exit 2 "$RETRACE_BIN" doctor --provider ftp://x --k 2
expect_exit 2 "$RETRACE_BIN" doctor --provider openai --k 1
echo "doctor_provider: ok"
