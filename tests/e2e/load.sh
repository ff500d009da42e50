# Bounded load: 1,000 connections at once to `record`'s proxy and then to
# the gateway, each sending model requests (plain and streamed) for a few
# seconds, beside slowloris clients and bodies that stop half-way. Neither
# crashes; memory stays bounded; every exchange a client completed is
# stored, and nothing else. (The sanitizer build runs 250 connections.)
source "$(dirname "$0")/lib.sh"

ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)"
start_sim --sim-seed 5
if sanitized; then conns=250; else conns=1000; fi
seconds=3

# load.py BASE_URL HEADERS_JSON CONNS SECONDS: CONNS keep-alive connections
# each asking for SECONDS, every fourth request streamed; 20 slowloris
# clients (a header one byte at a time) and 20 bodies stopped half-way.
# Prints "completed N failed M".
cat > load.py <<'PY'
import asyncio, json, sys, time, urllib.parse
url = urllib.parse.urlsplit(sys.argv[1])
headers = json.loads(sys.argv[2])
conns, seconds = int(sys.argv[3]), float(sys.argv[4])
completed = failed = 0

def request(i, n):
    body = json.dumps({"model": "gpt-4o", "stream": n % 4 == 3,
                       "messages": [{"role": "user", "content": f"client {i} request {n}"}]})
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return (f"POST {url.path}/chat/completions HTTP/1.1\r\nhost: x\r\n{head}"
            f"content-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n{body}").encode()

async def read_response(r):
    status = int((await r.readline()).split()[1])
    length, chunked = None, False
    while (line := await r.readline()) != b"\r\n":
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length": length = int(value)
        if name.lower() == "transfer-encoding" and "chunked" in value: chunked = True
    if chunked:
        while (size := int((await r.readline()).strip(), 16)) > 0:
            await r.readexactly(size + 2)
        await r.readline()
    elif length is not None:
        await r.readexactly(length)
    return status

async def client(i, until):
    global completed, failed
    try:
        r, w = await asyncio.open_connection(url.hostname, url.port)
        n = 0
        while time.monotonic() < until:
            w.write(request(i, n)); n += 1
            await w.drain()
            if await read_response(r) == 200: completed += 1
            else: failed += 1
        w.close()
    except (OSError, ValueError, asyncio.IncompleteReadError) as e:
        failed += 1
        print(f"client {i}: {e!r}", file=sys.stderr)

async def slowloris(until):
    r, w = await asyncio.open_connection(url.hostname, url.port)
    try:
        for b in request(0, 0)[:60]:
            if time.monotonic() > until: break
            w.write(bytes([b])); await w.drain(); await asyncio.sleep(0.2)
    except OSError:
        pass

async def half_body():
    r, w = await asyncio.open_connection(url.hostname, url.port)
    whole = request(0, 0)
    w.write(whole[: len(whole) - 20]); await w.drain()
    await asyncio.sleep(seconds)

async def main():
    until = time.monotonic() + seconds
    await asyncio.gather(*[client(i, until) for i in range(conns)],
                         *[slowloris(until) for _ in range(20)],
                         *[half_body() for _ in range(20)])
    print(f"completed {completed} failed {failed}", flush=True)

asyncio.run(main())
PY

# check_load WHO RUN EXTRA_EVENTS PEAK_KIB: load.out shows no failure and at
# least one exchange per connection; RUN holds every completed exchange
# plus EXTRA_EVENTS (its process event, if any) and nothing else (the
# slowloris and half-sent requests never became exchanges); WHO peaked
# under 256 MiB (about 90 MiB here at 1,000 connections; not checked under
# the sanitizers, whose shadow memory is most of a process's size).
check_load() {
  read -r _ completed _ failed < load.out
  expect_eq "$failed" 0 "requests to $1 that failed under load"
  (( completed >= conns )) || fail "only $completed exchanges completed on $conns connections to $1"
  expect_exit 0 retrace verify "$2"
  expect_contains "$OUT" "($((completed + $3)) events,"
  if ! sanitized; then
    (( $4 < 256 * 1024 )) || fail "$1 peaked at $(($4 / 1024)) MiB under $conns connections"
  fi
  echo "$1: $completed exchanges on $conns connections, peak $(($4 / 1024)) MiB" >&2
}

# --- record ------------------------------------------------------------------
# The program loads its recorder, then waits (for the test to read the
# recorder's peak memory) before it exits.
cat > program.sh <<'SH'
python3 load.py "$OPENAI_BASE_URL" '{"authorization": "Bearer sk-test-load-0000000001"}' "$1" "$2" > load.out
touch loaded
while [[ ! -e go ]]; do sleep 0.05; done
SH
"$RETRACE_BIN" record --name loaded --upstream openai="$SIM_URL/v1" -- bash program.sh $conns $seconds \
  > record.out 2> record.err &
rec=$!
for _ in $(seq 1200); do [[ -e loaded ]] && break; kill -0 $rec 2>/dev/null || break; sleep 0.05; done
[[ -e loaded ]] || fail "the load did not finish: $(tail -5 record.err)"
peak_kib=$(awk '/^VmHWM:/ {print $2}' /proc/$rec/status)
touch go
wait $rec || fail "record exited $?: $(tail -5 record.err)"
check_load record loaded 1 "$peak_kib"

# --- the gateway -------------------------------------------------------------
start_gateway --upstream openai="$SIM_URL/v1"
python3 load.py "$GW_URL/openai" '{"authorization": "Bearer sk-test-load-0000000002", "x-retrace-run": "load"}' \
  $conns $seconds > load.out
gw_peak_kib=$(awk '/^VmHWM:/ {print $2}' /proc/$GW_PID/status)
kill -TERM $GW_PID
wait $GW_PID || fail "gateway exited $?: $(tail -5 gw.err)"
check_load "the gateway" load 0 "$gw_peak_kib"
echo "load: ok (record and the gateway: $conns connections each; gateway $completed exchanges, peak $((gw_peak_kib / 1024)) MiB)"
