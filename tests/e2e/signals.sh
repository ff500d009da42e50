# record forwards SIGTERM and SIGINT to the child and seals the run however it ends.
source "$(dirname "$0")/lib.sh"

"$RETRACE_BIN" record --name term -- sh -c 'trap "echo got-term; exit 7" TERM; echo ready > ready; while :; do sleep 0.1; done' > term.out 2>&1 &
rec=$!
for _ in $(seq 100); do [[ -s ready ]] && break; sleep 0.05; done
kill -TERM $rec
set +e; wait $rec; rc=$?; set -e
expect_eq "$rc" 7 "record exits with the child's code after forwarding SIGTERM"
expect_contains "$(cat term.out)" "got-term"
expect_eq "$(retrace show term --json | json 'j["state"]')" "sealed"

rm -f ready
"$RETRACE_BIN" record --name int -- python3 -c '
import signal, time, sys
open("ready", "w").write("1")
try:
    time.sleep(60)
except KeyboardInterrupt:
    print("interrupted"); sys.exit(130)' > int.out 2>&1 &
rec=$!
for _ in $(seq 100); do [[ -s ready ]] && break; sleep 0.05; done
kill -INT $rec
set +e; wait $rec; rc=$?; set -e
expect_eq "$rc" 130
expect_contains "$(cat int.out)" "interrupted"
expect_exit 0 retrace verify int
# A probe running several at once: SIGTERM reaches every run going, and no
# further run starts (before: the one run last started got it, and the
# probe went on starting runs). The result says it was interrupted.
rm -f ready
"$RETRACE_BIN" probe --k 6 --jobs 3 --hypothesis h --rule "fail_rate >= 0.5" -- \
  sh -c 'trap "echo got-term >> terms; exit 7" TERM; echo x >> ready; while :; do sleep 0.1; done' \
  > probe.out 2> probe.err &
probe=$!
for _ in $(seq 200); do [[ $(cat ready 2> /dev/null | wc -l) -ge 3 ]] && break; sleep 0.05; done
expect_eq "$(wc -l < ready)" 3 "runs started"
kill -TERM $probe
set +e; timeout 30 tail --pid=$probe -f /dev/null || kill -KILL $probe; wait $probe; set -e
expect_eq "$(wc -l < terms)" 3 "runs that got SIGTERM"
expect_eq "$(wc -l < ready)" 3 "runs started in all"
expect_contains "$(cat probe.out)" "runs       3 of 6, 3 failed  (stopped early after 3 runs: interrupted by SIGTERM)"
echo "signals: ok"
