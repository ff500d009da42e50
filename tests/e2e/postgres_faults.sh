# The team store under faults and bad input. The server restarted in the
# middle of a run (pg_ctl restart -m immediate): the recorder reconnects and
# the run completes; the server gone for longer than the retry budget: the
# run is left incomplete with a message, the program runs on, and every
# earlier run verifies. kill -9 of a recorder: the run is listed incomplete,
# the database opens and verifies. The connection string's password is in
# no output and nowhere in the database. An unreachable server, a wrong
# password and a newer schema: one line, exit 2, nothing written.
source "$(dirname "$0")/lib.sh"
start_postgres
PG=$(pg_database faults)
export RETRACE_STORE=$PG
password=$(sed -E 's|^postgres://[^:]+:([^@]+)@.*|\1|' <<< "$PG")
[[ $password == pw-* ]] || fail "no password in the test server's URL"
retrace record --name before -- sh -c 'echo before' > /dev/null 2>&1
start_sim --sim-seed 2
export OPENAI_API_KEY=sk-test-PGFAULTKEY001 OPENAI_BASE_URL=$SIM_URL/v1

# 30 model exchanges and 30 tool events, a tenth of a second apart.
cat > steady.sh <<'SH'
for i in $(seq 30); do
  curl -sS -f -o /dev/null -H "authorization: Bearer $OPENAI_API_KEY" -H 'content-type: application/json' "$OPENAI_BASE_URL/chat/completions" \
    -d "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"step $i\"}]}" || exit 9
  curl -sS -f -o /dev/null -H 'content-type: application/json' "$RETRACE_PROXY_URL/_retrace/v1/events" \
    -d "{\"kind\":\"tool\",\"name\":\"step\",\"input\":{\"i\":$i},\"output\":{\"ok\":true},\"start_ns\":1,\"end_ns\":2}" || exit 8
  if [ "$i" = 10 ]; then touch "$MARK"; fi
  sleep 0.1
done
echo finished
SH

# 1. Restarted mid-run: reconnected, the run completes with every event.
rm -f mark; export MARK=$WORK/mark
"$RETRACE_BIN" record --name restarted -- sh steady.sh > restarted.out 2> restarted.err &
rec=$!
for _ in $(seq 200); do [[ -e mark ]] && break; sleep 0.05; done
[[ -e mark ]] || fail "the program never reached step 10: $(cat restarted.err)"
bash "$SRC/tests/support/postgres.sh" restart "$PG_DIR"
wait $rec || fail "record failed across a server restart: $(cat restarted.err)"
expect_eq "$(cat restarted.out)" finished
expect_eq "$(retrace show restarted --json | json 'j["state"] + " " + str(len(j["events"]))')" "sealed 61" \
  "the run across the restart: process + 30 exchanges + 30 tool events"
expect_not_contains "$(cat restarted.err)" "could not be stored"

# 2. Gone for longer than the retry budget: incomplete, with the reason;
# the program is not stopped.
rm -f mark
RETRACE_STORE_RETRY_SECONDS=1 "$RETRACE_BIN" record --name cut -- sh steady.sh > cut.out 2> cut.err &
rec=$!
for _ in $(seq 200); do [[ -e mark ]] && break; sleep 0.05; done
bash "$SRC/tests/support/postgres.sh" halt "$PG_DIR"
wait $rec || true
bash "$SRC/tests/support/postgres.sh" resume "$PG_DIR"
expect_eq "$(cat cut.out)" finished "the program ran to its end"
expect_contains "$(cat cut.err)" "left incomplete"
expect_contains "$(cat cut.err)" "the connection was lost and not restored within 1 s"
expect_eq "$(grep -c . cut.err)" "$(grep -c '^retrace: ' cut.err)" "every line of the message is retrace's own"
expect_eq "$(retrace show cut --json | json 'j["state"]')" incomplete

# 3. kill -9 of a recorder mid-run.
rm -f mark
"$RETRACE_BIN" record --name killed -- sh steady.sh > /dev/null 2>&1 &
rec=$!
for _ in $(seq 200); do [[ -e mark ]] && break; sleep 0.05; done
kill -9 $rec
wait $rec 2> /dev/null || true
expect_eq "$(retrace show killed --json | json 'j["state"]')" incomplete
expect_exit 0 retrace verify --all
expect_eq "$(grep -c '^ok ' <<< "$OUT")" 2 "sealed runs that verify (before, restarted)"
expect_contains "$OUT" "2 run(s) incomplete"
expect_exit 0 retrace record --name after -- true

# 4. The password: in no output, in no stored byte.
expect_exit 0 retrace runs
all_output="$OUT$ERR$(cat restarted.err cut.err)"
expect_exit 0 retrace show cut
all_output+="$OUT$ERR"
expect_exit 0 retrace --store "$PG" show restarted --json
all_output+="$OUT$ERR"
expect_exit 0 retrace verify --all
all_output+="$OUT$ERR"
expect_contains "$all_output" "postgres://retrace_admin:****@" "the masked URL"
expect_not_contains "$all_output" "$password" "the password in output"
pg_dump "$PG" > dump.sql
[[ $(wc -c < dump.sql) -gt 10000 ]] || fail "the dump is empty"
grep -q 'restarted' dump.sql || fail "the dump has no runs"
! grep -q -- "$password" dump.sql || fail "the password is in the database"
# (blobs are zstd frames: decompressed, they hold no password either)
retrace pull --from "$PG" $(retrace runs --json | json '" ".join(r["id"] for r in j if r["state"] == "sealed")') \
  --store "$WORK/copy" > /dev/null 2>&1 || true
store_dump() { python3 - "$WORK/copy/retrace.db" <<'PY'
import sqlite3, subprocess, sys
con = sqlite3.connect(sys.argv[1])
for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'"):
    for row in con.execute(f"SELECT * FROM {table}"):
        for v in row:
            if isinstance(v, bytes) and v[:4] == b"\x28\xb5\x2f\xfd":
                v = subprocess.run(["zstd", "-dc"], input=v, capture_output=True).stdout
            print(f"{table}: {v}")
PY
}
expect_not_contains "$(store_dump)" "$password" "the password in a stored blob"

# 5. Bad input: one line, exit 2, nothing written.
runs_before=$(retrace runs --json | json 'len(j)')
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
expect_exit 2 retrace --store "postgres://retrace_admin:$password@127.0.0.1:$port/faults" record -- true
expect_eq "$(wc -l <<< "$ERR")" 1 "one line: $ERR"
expect_contains "$ERR" "cannot connect to the store postgres://retrace_admin:****@127.0.0.1:$port/faults"
expect_not_contains "$ERR" "$password"
wrong=${PG/$password/wrong-secret-77}
expect_exit 2 retrace --store "$wrong" record -- true
expect_eq "$(wc -l <<< "$ERR")" 1 "one line: $ERR"
expect_contains "$ERR" "password authentication failed"
expect_not_contains "$ERR" "wrong-secret-77"
expect_exit 2 retrace --store "$wrong" runs
sql "$PG" "INSERT INTO retrace_schema (version) VALUES (99)" > /dev/null
expect_exit 2 retrace record -- true
expect_eq "$(wc -l <<< "$ERR")" 1 "one line: $ERR"
expect_contains "$ERR" "has schema version 99, newer than this retrace understands (2)"
expect_exit 2 retrace runs
sql "$PG" "DELETE FROM retrace_schema WHERE version = 99" > /dev/null
expect_eq "$(retrace runs --json | json 'len(j)')" "$runs_before" "runs after the refused commands"
# A database with no retrace tables is not a store to read, and stays empty.
EMPTY=$(pg_database empty)
expect_exit 2 retrace --store "$EMPTY" runs
expect_contains "$ERR" "has no retrace tables"
expect_eq "$(sql "$EMPTY" "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" 0
echo "postgres_faults: ok"
