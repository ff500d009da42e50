# Shared setup for end-to-end scenarios. Each scenario sources this file,
# gets its own temp dir and store, and runs the real binary ($RETRACE_BIN).
set -euo pipefail
: "${RETRACE_BIN:?RETRACE_BIN must point at the retrace binary}"
RETRACE_BIN=$(realpath "$RETRACE_BIN")
SRC=${RETRACE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
WORK=$(mktemp -d /tmp/retrace-e2e-XXXXXX)
export RETRACE_STORE=$WORK/store
export NO_COLOR=1
# The scenarios use the Debian tools scripts/bootstrap installs (python3 with
# python3-pytest and python3-vcr, node, curl), ahead of a version manager's
# shims earlier on the caller's PATH: those cost a few hundred milliseconds
# per interpreter start, and every recorded run asks python3 and node.
export PATH=/usr/bin:/bin:$PATH
# Background processes to stop at the end (start_sim, start_tripwire).
BG_PIDS=()
# Keeps the scenario's exit status whatever stopping the helpers returns.
cleanup() {
  local rc=$?
  for pid in "${BG_PIDS[@]}"; do kill "$pid" 2> /dev/null || true; done
  for pid in "${BG_PIDS[@]}"; do wait "$pid" 2> /dev/null || true; done
  [[ -z ${PG_DIR:-} ]] || bash "$SRC/tests/support/postgres.sh" stop "$PG_DIR"
  [[ -n ${KEEP:-} ]] || rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
cd "$WORK"

retrace() { "$RETRACE_BIN" "$@"; }
# Whether the binary under test is a sanitizer build, whose memory and
# descriptor use differ. (Not `ldd | grep -q`: grep's early exit can kill
# ldd with SIGPIPE, which pipefail turns into "not sanitized".)
sanitized() { local libs; libs=$(ldd "$RETRACE_BIN"); [[ $libs == *libasan* || $libs == *libubsan* ]]; }
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_eq() { [[ "$1" == "$2" ]] || fail "${3:-values differ}: expected '$2', got '$1'"; }
expect_ne() { [[ "$1" != "$2" ]] || fail "${3:-values are equal}: both '$1'"; }
expect_contains() { [[ "$1" == *"$2"* ]] || fail "${3:-missing text}: '$2' not in: $1"; }
expect_not_contains() { [[ "$1" != *"$2"* ]] || fail "${3:-unexpected text}: '$2' in: $1"; }
# expect_exit CODE CMD...: runs CMD, checks its exit code, leaves stdout in $OUT, stderr in $ERR.
expect_exit() {
  local want=$1; shift
  set +e
  "$@" >"$WORK/.out" 2>"$WORK/.err"
  local got=$?
  set -e
  OUT=$(cat "$WORK/.out"); ERR=$(cat "$WORK/.err")
  [[ $got == "$want" ]] || fail "'$*' exited $got, expected $want; stderr: $ERR"
}
# json FILTER: read JSON on stdin, print a Python expression over it (j).
json() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }
# Run id of the newest run.
latest_id() { retrace runs --json --limit 1 | json 'j[0]["id"]'; }
section_digests() { retrace show "$1" --json | json 'json.dumps(j["identity"]["sections"], sort_keys=True)'; }
# start_sim ARGS...: starts `retrace sim --port 0 ARGS` in the background,
# sets SIM_URL and SIM_PID; stopped when the scenario ends.
start_sim() {
  # (emptied here first: the new sim's shell truncates the file only once
  # it runs, and a previous sim's line must not be taken for its own)
  : > "$WORK/sim.out"
  "$RETRACE_BIN" sim --port 0 "$@" > "$WORK/sim.out" 2> "$WORK/sim.err" &
  SIM_PID=$!
  for _ in $(seq 200); do grep -q '^listening on ' "$WORK/sim.out" 2>/dev/null && break; sleep 0.02; done
  SIM_URL=$(sed -n 's/^listening on //p' "$WORK/sim.out")
  [[ -n $SIM_URL ]] || fail "sim did not start: $(cat "$WORK/sim.err")"
  BG_PIDS+=("$SIM_PID")
}
# start_gateway ARGS...: starts the gateway (`retrace proxy`) on an
# ephemeral loopback port; sets GW_URL and GW_PID; stopped at the end.
start_gateway() {
  : > "$WORK/gw.out"  # (not a previous gateway's line; see start_sim)
  "$RETRACE_BIN" proxy --listen 127.0.0.1:0 "$@" > "$WORK/gw.out" 2> "$WORK/gw.err" &
  GW_PID=$!
  for _ in $(seq 200); do grep -q '^listening on ' "$WORK/gw.out" 2> /dev/null && break; sleep 0.02; done
  GW_URL=$(sed -n 's/^listening on //p' "$WORK/gw.out")
  [[ -n $GW_URL ]] || fail "gateway did not start: $(cat "$WORK/gw.err")"
  BG_PIDS+=("$GW_PID")
}
# start_upstream SCRIPT: runs a Python server script that prints its port
# first; sets UP (its URL) and UP_PID; stopped when the scenario ends.
start_upstream() {
  : > "$WORK/upstream.port"
  python3 -u "$1" > "$WORK/upstream.port" &
  UP_PID=$!
  BG_PIDS+=("$UP_PID")
  for _ in $(seq 200); do [[ -s $WORK/upstream.port ]] && break; sleep 0.02; done
  UP=http://127.0.0.1:$(head -1 "$WORK/upstream.port")
}
# start_tripwire: a listener that logs every connection to $TRIP_LOG (and
# answers nothing), for proving that nothing reaches the network. Sets
# TRIP_URL; stopped when the scenario ends.
start_tripwire() {
  TRIP_LOG=$WORK/tripwire.log
  : > "$TRIP_LOG"
  python3 -u -c '
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
print(s.getsockname()[1], flush=True)
while True:
    c, addr = s.accept()
    with open(sys.argv[1], "a") as f: f.write(f"connection from {addr}\n")
    c.close()
' "$TRIP_LOG" > "$WORK/tripwire.port" &
  TRIP_PID=$!
  for _ in $(seq 200); do [[ -s $WORK/tripwire.port ]] && break; sleep 0.02; done
  TRIP_URL=http://127.0.0.1:$(cat "$WORK/tripwire.port")
  BG_PIDS+=("$TRIP_PID")
}
# start_postgres: a PostgreSQL server of this scenario's own
# (tests/support/postgres.sh: initdb in a temp dir as an unprivileged
# user, an ephemeral loopback port); sets PG_URL (its superuser, password
# included) and PG_DIR; stopped and removed when the scenario ends.
start_postgres() {
  PG_DIR=$(mktemp -d /tmp/retrace-pg-XXXXXX)
  PG_URL=$(bash "$SRC/tests/support/postgres.sh" start "$PG_DIR")
}
# pg_database NAME: creates database NAME on that server, prints its URL.
pg_database() {
  psql "$PG_URL" -qAt -v ON_ERROR_STOP=1 -c "CREATE DATABASE $1" > /dev/null
  echo "${PG_URL%/postgres}/$1"
}
# sql URL STATEMENTS: runs SQL (psql, unaligned, no headers), prints rows.
sql() { psql "$1" -qAt -v ON_ERROR_STOP=1 -c "$2"; }
# RETRACE_E2E_STORE=postgres runs a scenario against a PostgreSQL store of
# its own instead of SQLite (CTest's e2e.NAME@postgres variants).
if [[ ${RETRACE_E2E_STORE:-} == postgres ]]; then
  start_postgres
  RETRACE_STORE=$(pg_database e2e)
fi
# store_dump: every value of every table of the store, one line each as
# "TABLE: VALUE", zstd blobs decompressed; Python's sqlite3 reads the WAL
# too. What a secret-leak check greps.
store_dump() {
  python3 - "$RETRACE_STORE/retrace.db" <<'PY'
import sqlite3, subprocess, sys
con = sqlite3.connect(sys.argv[1])
for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'"):
    for row in con.execute(f"SELECT * FROM {table}"):
        for v in row:
            if isinstance(v, bytes):
                if v[:4] == b"\x28\xb5\x2f\xfd":
                    v = subprocess.run(["zstd", "-dc"], input=v, capture_output=True).stdout
                v = v.decode("utf-8", "replace")
            print(f"{table}: {v}")
PY
}
