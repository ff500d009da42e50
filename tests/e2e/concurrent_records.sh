# Concurrent `retrace record` processes on one store all succeed, and every
# run is sealed and verifiable.
source "$(dirname "$0")/lib.sh"

pids=()
for i in $(seq 8); do
  "$RETRACE_BIN" record --name "c$i" --param i=$i -- sh -c "echo run $i; sleep 0.$((i % 3))" > "out.$i" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a concurrent record failed: $(cat out.*)"; done
expect_eq "$(retrace runs --json | json 'sorted(r["state"] for r in j)')" "$(python3 -c 'print(["sealed"] * 8)')"
expect_exit 0 retrace verify --all
expect_eq "$(echo "$OUT" | grep -c '^ok')" 8
echo "concurrent_records: ok"
