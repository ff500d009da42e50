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
echo "signals: ok"
