# --deterministic: the LD_PRELOAD shim records a process's wall-clock reads
# and OS randomness and feeds them back on replay. The bundled trip agent
# (tools, retrieval, a model, random.choice) replays with its tools
# unreachable and the sim stopped; without the shim it diverges.
source "$(dirname "$0")/lib.sh"
export PYTHONPATH=$SRC/sdk/python
# The interpreter itself, not a wrapper script that would be a process of its own.
PY=$(python3 -c 'import sys; print(sys.executable)')
AGENT=$SRC/examples/trip-agent/agent.py

# What an unmodified program draws from the OS and the clock.
cat > draws.py <<'PY'
import datetime, os, random, sys, time, uuid
n = int(os.environ.get("CLOCK_READS", "1"))
stamps = [time.time() for _ in range(n)]
with open("/dev/urandom", "rb") as f:
    dev = f.read(8).hex()
print(random.random(), random.choice("abcdefgh"), uuid.uuid4(), os.urandom(8).hex(), dev)
print(hash("abc"), datetime.datetime.now().isoformat(), stamps[0])
with open(os.environ.get("MONO_FILE", "/dev/null"), "w") as f:
    f.write(repr(time.monotonic_ns()))
PY
# The control: two plain runs differ.
expect_ne "$("$PY" draws.py)" "$("$PY" draws.py)" "plain runs draw different values"
MONO_FILE=mono.rec retrace record --deterministic --name draws -- "$PY" draws.py > draws.out 2> /dev/null
expect_exit 0 env MONO_FILE=mono.rep "$RETRACE_BIN" replay --deterministic draws
expect_eq "$OUT" "$(cat draws.out)" "random, uuid4, os.urandom, /dev/urandom, hash() and the time replay"
expect_contains "$ERR" "retrace: reproduced"
expect_ne "$(cat mono.rep)" "$(cat mono.rec)" "monotonic clocks pass through"
streams=$(retrace show draws --json | json '[(s["command"], s["bytes"] > 0) for e in j["events"] if e["kind"] == "process" for s in e["attrs"]["determinism"]]')
expect_eq "$streams" "[('$PY draws.py', True)]"
# A plain replay replays in the mode the run was recorded in: the shim on.
expect_exit 0 "$RETRACE_BIN" replay draws
expect_eq "$OUT" "$(cat draws.out)" "a plain replay of a --deterministic recording reproduces"
expect_contains "$ERR" "served, the recorded clock and randomness fed back"
expect_exit 0 "$RETRACE_BIN" replay --json draws
expect_eq "$(sed -n '/^{/,$p' <<< "$OUT" | json 'j["deterministic"]')" True
# The opt-out: without the shim the same replay diverges, and says why.
expect_exit 1 "$RETRACE_BIN" replay --no-deterministic draws
expect_contains "$ERR" "replayed without the recording's clock and randomness (--no-deterministic)"
expect_contains "$ERR" "(replayed with --no-deterministic: the recording's clock and randomness were not fed back)"
expect_exit 2 "$RETRACE_BIN" replay --deterministic --no-deterministic draws
# Asking for more values than were recorded is a divergence, not garbage.
expect_exit 1 env CLOCK_READS=50 "$RETRACE_BIN" replay --deterministic draws
expect_contains "$ERR" "diverged: process $PY draws.py: the program read the clock"
# A run recorded without the shim cannot be replayed with it: bad input;
# replayed plainly, it runs without (the control).
retrace record --name plain -- true
expect_exit 2 "$RETRACE_BIN" replay --deterministic plain
expect_contains "$ERR" "was recorded without --deterministic"
expect_exit 0 "$RETRACE_BIN" replay plain
expect_not_contains "$ERR" "fed back"
expect_exit 2 env RETRACE_SHIM=/nonexistent "$RETRACE_BIN" record --deterministic -- true
expect_contains "$ERR" "RETRACE_SHIM names no file"

# The trip agent: without retrace, two runs differ (city, session, time, booking).
start_sim --sim-seed 9
export OPENAI_BASE_URL=$SIM_URL/v1 OPENAI_API_KEY=sk-test-TRIPKEY00001
expect_ne "$("$PY" "$AGENT")" "$("$PY" "$AGENT")" "the agent is not deterministic by itself"
retrace record --deterministic --name trip -- "$PY" "$AGENT" > trip.out 2> /dev/null
expect_contains "$(retrace show trip)" "tool       book"
kill "$SIM_PID"; wait "$SIM_PID" 2> /dev/null || true
start_tripwire
# Tools that raise if called, the sim gone, any upstream a tripwire.
export TRIP_TOOLS=offline OPENAI_BASE_URL=$TRIP_URL/v1
expect_exit 0 "$RETRACE_BIN" replay trip
expect_eq "$OUT" "$(cat trip.out)" "the agent's stdout replays byte for byte"
expect_contains "$ERR" "retrace: reproduced"
expect_contains "$ERR" "4 recorded answer(s) served"
# Without the shim, random.choice and the session id differ: diverged.
expect_exit 1 "$RETRACE_BIN" replay --no-deterministic trip
expect_contains "$ERR" "retrace: diverged"
expect_not_contains "$ERR" "service is unreachable" "a replayed tool is never called"
expect_eq "$(cat "$TRIP_LOG")" "" "nothing reached the network during replay"
echo "determinism: ok"
