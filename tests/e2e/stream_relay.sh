# A stream is relayed through `record` frame by frame as it arrives, not
# held until it ends (a client sees the first frame while the model still
# writes), and the frames are recorded at the times they arrived. And a
# reader of retrace's output that goes away early (`| head`) does not kill
# retrace: the run is still stored and sealed.
source "$(dirname "$0")/lib.sh"
start_sim --sim-seed 3 --stream-interval 150
cat > "$WORK/client.py" <<'PY'
# Prints how long after the first data line the last one came (ms).
import json, os, time, urllib.request
body = json.dumps({"model": "gpt-4o", "stream": True,
                   "messages": [{"role": "user", "content": "hello"}]}).encode()
req = urllib.request.Request(os.environ["OPENAI_BASE_URL"] + "/chat/completions", data=body,
                             headers={"content-type": "application/json", "authorization": "Bearer k"})
times = []
with urllib.request.urlopen(req) as r:
    for line in r:
        if line.startswith(b"data:"):
            times.append(time.monotonic())
print(len(times), int((times[-1] - times[0]) * 1000))
PY
# Control: directly from the sim, the frames are spread over the stream.
read -r frames spread <<< "$(OPENAI_BASE_URL=$SIM_URL/v1 python3 "$WORK/client.py")"
(( frames >= 5 && spread >= 150 * (frames - 2) )) || fail "the sim did not pace its frames: $frames frames over $spread ms"
# Through record: the same spread (a held stream arrives all at once).
out=$(OPENAI_BASE_URL=$SIM_URL/v1 retrace record --name relay -- python3 "$WORK/client.py" 2> /dev/null)
read -r rframes rspread <<< "$out"
(( rframes >= 5 && rspread >= 150 * (rframes - 2) )) ||
  fail "record held the stream back: $rframes frames within $rspread ms"
# Recorded at their arrival: the frame offsets span the stream too.
retrace show relay --event 2 --json > e2.json
span=$(json '(j["response"]["frames"][-1]["offset_us"] - j["response"]["frames"][0]["offset_us"]) // 1000' < e2.json)
(( span >= 150 * (rframes - 2) )) || fail "recorded frame offsets span $span ms"

# A reader that stops after one line: the program runs on, the run is sealed.
set +o pipefail
retrace record --name piped -- sh -c 'echo one; sleep 0.3; echo two; echo three' 2> /dev/null | head -1 > head.out
set -o pipefail
expect_eq "$(cat head.out)" "one"
expect_exit 0 retrace show piped --json
expect_eq "$(json 'j["state"]' <<< "$OUT")" "sealed"
expect_eq "$(json 'j["exit_code"]' <<< "$OUT")" "0"
