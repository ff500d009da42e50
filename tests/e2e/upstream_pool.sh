# The proxy keeps connections to an upstream open between exchanges. When
# the upstream has closed a kept connection meanwhile (here: restarted on
# the same port), the request is sent again on a new connection, and the
# program never notices.
source "$(dirname "$0")/lib.sh"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# sim_on_port FILE: a sim on $port, logging to FILE; sets SIM_PID.
sim_on_port() {
  "$RETRACE_BIN" sim --port "$port" --sim-seed 1 > "$1" 2>&1 &
  SIM_PID=$!
  BG_PIDS+=("$SIM_PID")
  for _ in $(seq 200); do grep -q '^listening on ' "$1" 2> /dev/null && break; sleep 0.02; done
}
sim_on_port sim1.out
export OPENAI_BASE_URL=http://127.0.0.1:$port/v1
cat > twice.sh <<'SH'
#!/bin/sh
ask() {
  curl -sS -o /dev/null -w '%{http_code}\n' "$OPENAI_BASE_URL/chat/completions" -H 'authorization: Bearer k' \
    -d '{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}'
}
ask
touch first.done
while [ ! -f restarted ]; do sleep 0.05; done
ask
SH
chmod +x twice.sh
retrace record --name pool -- ./twice.sh > codes.txt 2> rec.err &
rec=$!
for _ in $(seq 200); do [[ -f first.done ]] && break; sleep 0.05; done
kill $SIM_PID; wait $SIM_PID 2> /dev/null || true
sim_on_port sim2.out
touch restarted
wait $rec
expect_eq "$(cat codes.txt)" "200
200" "both requests answered, the second on a new connection"
expect_eq "$(retrace show pool --json | json '[e["attrs"]["status"] for e in j["events"][1:]]')" "[200, 200]"
echo "upstream_pool: ok"
