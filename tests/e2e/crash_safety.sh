# kill -9 of `retrace record` mid-run leaves a store that opens, lists the
# run as incomplete, and keeps every earlier sealed run verifiable. The child
# dies with its recorder (PR_SET_PDEATHSIG).
source "$(dirname "$0")/lib.sh"

for i in 1 2 3; do retrace record --name sealed$i -- sh -c "echo run $i" >/dev/null 2>&1; done
"$RETRACE_BIN" record --name victim -- sh -c 'echo $$ > child.pid; echo started; sleep 60' > victim.out 2>&1 &
rec=$!
for _ in $(seq 100); do [[ -s child.pid ]] && break; sleep 0.05; done
[[ -s child.pid ]] || fail "child never started"
kill -9 $rec
wait $rec 2>/dev/null || true
child=$(cat child.pid)
for _ in $(seq 100); do kill -0 "$child" 2>/dev/null || break; sleep 0.05; done
kill -0 "$child" 2>/dev/null && fail "child $child outlived its recorder"

expect_exit 0 retrace runs --json
expect_eq "$(echo "$OUT" | json 'j[0]["name"] + " " + j[0]["state"]')" "victim incomplete"
expect_eq "$(echo "$OUT" | json 'len(j)')" 4
expect_exit 0 retrace verify --all
expect_contains "$OUT" "incomplete: never sealed"
expect_exit 0 retrace show victim
expect_contains "$OUT" "incomplete"
# The store still takes new runs.
expect_exit 0 retrace record -- true
echo "crash_safety: ok"
