# `make demo` runs end to end and exits 0 (its EXIT trap once turned a
# successful demo into exit 1), with the verdicts the README shows.
source "$(dirname "$0")/lib.sh"
expect_exit 0 env RETRACE_BIN="$RETRACE_BIN" timeout 240 "$SRC/scripts/demo"
expect_contains "$OUT" "sections that changed: data"
expect_eq "$(grep -c '^retrace: reproduced' <<< "$OUT$ERR")" "2" "the support bot and the trip agent reproduce"
expect_contains "$OUT" "retrace: diverged: POST /openai/chat/completions"
# Without --deterministic the trip agent's random draws differ: diverged.
expect_eq "$(grep -c '^retrace: diverged' <<< "$OUT")" "2" "the changed prompt and the trip agent diverge"
expect_contains "$OUT" "verdict    conditions differ: data"
expect_contains "$OUT" "verdict    backend differs: the program asked for the same thing; the provider's system_fingerprint"
expect_contains "$OUT" "error    sampling: openai gpt-4o: temperature 0.8 without a seed"
expect_contains "$OUT" "verdict    deterministic pass"
expect_contains "$OUT" 'verdict    conditional on input (variants {"question":"|| refund policy"})'
# The incident: the stale answer isolated and proven, the bundle reproducing
# elsewhere with the provider and the account service stopped.
expect_contains "$OUT" "T-4411: account A-7 closed"
expect_contains "$OUT" "  #1 http GET /accounts/A-7 (the passing run's #1)"
expect_contains "$OUT" "verdict    reproduced, cause isolated and proven"
expect_contains "$OUT" "revalidate in a fresh directory: reproduced 5/5; the cause applied failed 5/5, reverted passed 5/5"
expect_contains "$OUT" "replayed   reproduced 5/5; the cause applied failed 5/5, reverted passed 5/5"
echo "demo: ok"
