#!/usr/bin/env bash
# Fuzzes one target from its committed seeds for a bounded time:
#   run_fuzzer.sh TARGET SEEDS SECONDS
# $RETRACE_FUZZ_SECONDS, when set, replaces SECONDS. Under make test each
# run starts from the seeds alone (its time stays bounded: a grown corpus
# is replayed whole before fuzzing goes on). Under make fuzz
# ($RETRACE_FUZZ_KEEP=1) what the fuzzer learns is kept in
# fuzz-corpus/NAME of the current directory, and a later run goes on from
# there. A crash, leak or hang is kept in fuzz-findings/NAME and the test
# fails naming it; copied into tests/fuzz/corpus/NAME, it becomes a
# regression test.
set -uo pipefail
target=$1 seeds=$2 seconds=${RETRACE_FUZZ_SECONDS:-$3}
name=$(basename "$target")
findings=$PWD/fuzz-findings/$name
log=$(mktemp)
if [[ -n ${RETRACE_FUZZ_KEEP:-} ]]; then
  corpus=$PWD/fuzz-corpus/$name
  trap 'rm -f "$log"' EXIT
else
  corpus=$(mktemp -d)
  trap 'rm -f "$log"; rm -rf "$corpus"' EXIT
fi
mkdir -p "$corpus" "$findings"

# -timeout: an input that takes 10 s is a hang; -rss_limit_mb: one that
# makes the process grow past 2 GiB is a memory bound broken.
"$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
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
