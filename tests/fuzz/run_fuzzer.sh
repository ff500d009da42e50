#!/usr/bin/env bash
# Fuzzes one target from its committed seeds:
#   run_fuzzer.sh TARGET SEEDS RUNS SECONDS
# Under make test a run is the same on every machine: RUNS inputs from
# seed 1, each run starting from the seeds alone, so what passes here
# passes in CI (SECONDS only caps a machine too slow to get through them,
# and a capped run is a prefix of the full one). Under make fuzz
# ($RETRACE_FUZZ_KEEP=1) a run explores: a random seed, for
# $RETRACE_FUZZ_SECONDS, and what the fuzzer learns is kept in
# fuzz-corpus/NAME of the current directory, a later run going on from
# there. A crash, leak or hang is kept in fuzz-findings/NAME and the test
# fails naming it; copied into tests/fuzz/corpus/NAME, it becomes a
# regression test.
set -uo pipefail
target=$1 seeds=$2 runs=$3 seconds=$4
name=$(basename "$target")
findings=$PWD/fuzz-findings/$name
log=$(mktemp)
if [[ -n ${RETRACE_FUZZ_KEEP:-} ]]; then
  corpus=$PWD/fuzz-corpus/$name
  seconds=${RETRACE_FUZZ_SECONDS:-300}
  bound=(-max_total_time="$seconds")
  trap 'rm -f "$log"' EXIT
else
  corpus=$(mktemp -d)
  bound=(-seed=1 -runs="$runs" -max_total_time="$seconds")
  trap 'rm -f "$log"; rm -rf "$corpus"' EXIT
fi
mkdir -p "$corpus" "$findings"

# -timeout: an input that takes 10 s is a hang; -rss_limit_mb: one that
# makes the process grow past 2 GiB is a memory bound broken.
"$target" "${bound[@]}" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$findings/" "$corpus" "$seeds" >"$log" 2>&1
rc=$?
grep -E '^(#[0-9]+ *DONE|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" | sed "s/^/$name: /"
if ((rc != 0)); then
  tail -n 60 "$log"
  echo "$name: FAILED (exit $rc); the input is in $findings:" >&2
  ls -l "$findings" >&2
  exit 1
fi
echo "$name: ok, $(ls "$corpus" | wc -l) inputs learned"
