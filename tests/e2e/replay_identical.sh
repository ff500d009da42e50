# Identical requests sent at once (Promise.all, plain and streamed, the
# official openai SDK) get their recorded answers in the order they are
# numbered, on every replay: no replay serves #2 the answer recorded for #3.
# A request used to be numbered on arrival and take its answer later, on
# whichever I/O thread got there first (8 swaps in 200 replays). Which of
# the program's two requests reaches the proxy first is still a race on
# loopback, so the program's own output is reported, not asserted.
source "$(dirname "$0")/lib.sh"
start_sim --sim-seed 8
export OPENAI_BASE_URL=$SIM_URL/v1 OPENAI_API_KEY=sk-test-IDENTICAL001
cd "$SRC/tests/node"
retrace record --name twins -- node identical_prog.mjs > "$WORK/rec.out" 2> /dev/null
# The control: the two answers of each pair differ (temperature 0.9), so a
# swap would show.
read -r a _ b _ c _ d <<< "$(tr -d '|' < "$WORK/rec.out")"
[[ $a != "$b" || $c != "$d" ]] || fail "the recorded answers of a pair are equal: $(cat "$WORK/rec.out")"
kill "$SIM_PID"; wait "$SIM_PID" 2> /dev/null || true
# (200 replays in the Release build; the sanitizer build runs 20)
if sanitized; then n=20; else n=200; fi
swapped=0 reproduced=0
for i in $(seq $n); do
  out=$("$RETRACE_BIN" replay twins 2> "$WORK/replay.err") || true
  [[ $out == "$(cat "$WORK/rec.out")" ]] && reproduced=$((reproduced + 1))
  labels=$(retrace show @latest --json | json '" ".join(str(e["seq"]) + ":" + str(e["attrs"].get("replayed_from")) for e in j["events"] if e["kind"] == "llm")')
  expect_eq "$(wc -w <<< "$labels")" 4 "model exchanges in replay $i"
  for pair in $labels; do [[ ${pair%%:*} == "${pair#*:}" ]] || swapped=$((swapped + 1)); done
done
expect_eq "$swapped" 0 "answers served out of their numbered order in $n replays"
echo "replay_identical: ok ($n replays, none out of order; the program's output reproduced in $reproduced)"
