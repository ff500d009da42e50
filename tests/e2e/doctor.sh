# `retrace doctor RUN`: what a recorded run leaves to chance, with the fix;
# exit 1 on errors. Each finding has its control case.
source "$(dirname "$0")/lib.sh"
export OPENAI_API_KEY=sk-test-DOCTORKEY001
cat > ask.sh <<'SH'
for i in $(seq ${N:-1}); do
curl -sS -o /dev/null "$OPENAI_BASE_URL/chat/completions" -H "authorization: Bearer $OPENAI_API_KEY" \
  -H 'content-type: application/json' \
  -d "{\"model\":\"gpt-4o\",\"temperature\":${TEMP:-0}${SEED:+,\"seed\":$SEED},${STREAM:+\"stream\":true,}\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}"
done
SH
findings() { retrace doctor "$1" --json | json '" ".join(sorted(f["severity"] + ":" + f["check"] for f in j["findings"]))'; }

start_sim --sim-seed 2 --rotate-fingerprint 2
export OPENAI_BASE_URL=$SIM_URL/v1
TEMP=0.8 retrace record --name hot -- sh ask.sh
expect_exit 1 "$RETRACE_BIN" doctor hot
expect_contains "$OUT" "error    sampling: openai gpt-4o: temperature 0.8 without a seed: every run samples anew"
expect_contains "$OUT" "fix: send a seed"
# The control: temperature 0, or a seed, is not sampling left to chance.
retrace record --name cold -- sh ask.sh
TEMP=0.8 SEED=7 retrace record --name seeded -- sh ask.sh
expect_exit 0 "$RETRACE_BIN" doctor cold
expect_not_contains "$(findings seeded)" "sampling"
# The backend rotating within one run (three requests, a new fingerprint every two).
N=3 SEED=7 retrace record --name rotating -- sh ask.sh
expect_exit 1 "$RETRACE_BIN" doctor rotating
expect_contains "$OUT" "error    fingerprints: openai: 2 system_fingerprint values within one run"
expect_contains "$OUT" "so the seed sent cannot make outputs repeat"
expect_not_contains "$(findings cold)" "fingerprints"

# Unrecorded clock and randomness; PYTHONHASHSEED for a Python program.
expect_contains "$(findings cold)" "warning:clock and randomness"
retrace record --name py -- python3 -c 'print(hash("x") % 2)' > /dev/null
expect_contains "$(findings py)" "warning:environment"
PYTHONHASHSEED=0 retrace record --name py0 -- python3 -c 'print(hash("x") % 2)' > /dev/null
expect_not_contains "$(findings py0)" "environment"
retrace record --deterministic --name pydet -- python3 -c 'print(hash("x") % 2)' > /dev/null
expect_not_contains "$(findings pydet)" "clock and randomness"
expect_not_contains "$(findings pydet)" "environment"

# Inputs declared or not; code outside a repository.
mkdir data && echo 1 > data/x
retrace record --name declared --input data -- true
expect_contains "$(findings cold)" "info:inputs"
expect_not_contains "$(findings declared)" "info:inputs"
expect_contains "$(findings cold)" "info:code"

# A stream cut mid-way.
kill "$SIM_PID"; wait "$SIM_PID" 2> /dev/null || true
start_sim --sim-seed 2 --fail-sequence midstream
export OPENAI_BASE_URL=$SIM_URL/v1
STREAM=1 retrace record --name cut -- sh ask.sh 2> /dev/null || true  # curl exits 18
expect_exit 1 "$RETRACE_BIN" doctor cut
expect_contains "$OUT" "error    truncated: 1 stream(s) broke off"
expect_exit 2 "$RETRACE_BIN" doctor nosuchrun
echo "doctor: ok"
