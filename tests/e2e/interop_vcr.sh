# vcrpy cassettes in and out (`retrace import`, `retrace export --format
# vcr`), checked against Debian's vcrpy itself:
# 1. a cassette vcrpy recorded of a real program (stdlib urllib, three
#    OpenAI chat completions, one streamed) imports as a run that `replay`
#    serves with the sim stopped: the program prints what it printed under
#    vcrpy, every answer from the recording; the API key vcrpy wrote into
#    its cassette reaches neither the store nor retrace's exports;
# 2. a run retrace recorded exports as a cassette that vcrpy plays back
#    (record_mode='none', the provider's own URL, no network), with the
#    recorded output and without the key; and that cassette imports back;
# 3. a malformed cassette is refused with one line and exit 2, and the
#    store keeps the runs it had; the same file without the defect imports
#    as exactly one run.
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
KEY=sk-test-VCRKEY0123456789abcdef
export OPENAI_API_KEY=$KEY
unset OPENAI_BASE_URL
nruns() { retrace runs --json | json 'len(j)'; }

cat > prog.py <<'PY'
import json, os, urllib.request

BASE = os.environ.get("OPENAI_BASE_URL", "https://api.openai.com/v1")

def chat(content, stream=False):
    body = {"model": "gpt-4o", "temperature": 0, "messages": [{"role": "user", "content": content}]}
    if stream:
        body["stream"] = True
    headers = {"Content-Type": "application/json", "Authorization": "Bearer " + os.environ["OPENAI_API_KEY"]}
    req = urllib.request.Request(BASE + "/chat/completions", data=json.dumps(body).encode(), headers=headers)
    with urllib.request.urlopen(req, timeout=10) as r:
        if not stream:
            return json.load(r)["choices"][0]["message"]["content"]
        parts = []
        for line in r.read().decode().splitlines():
            if line.startswith("data: ") and line != "data: [DONE]":
                parts += [c["delta"].get("content") or "" for c in json.loads(line[6:])["choices"]]
        return "".join(parts)

def main():
    print("plain:", chat("What is a cassette?"))
    print("stream:", chat("Stream me a haiku.", stream=True))
    print("last:", chat(os.environ.get("LAST", "And once more, plainly?")))

if __name__ == "__main__":
    main()
PY
# under_vcr.py CASSETTE MODE: prog.main() inside vcrpy's cassette.
cat > under_vcr.py <<'PY'
import sys, vcr, prog
with vcr.use_cassette(sys.argv[1], record_mode=sys.argv[2]) as cassette:
    prog.main()
print(f"vcr: {len(cassette)} interaction(s), {cassette.play_count} played", file=sys.stderr)
PY

# --- 1. vcrpy records the program against the sim; retrace replays it.
start_sim --sim-seed 12
expect_exit 0 env OPENAI_BASE_URL="$SIM_URL/v1" $PY under_vcr.py rec.yaml once
printf '%s\n' "$OUT" > vcr.out
expect_eq "$ERR" "vcr: 3 interaction(s), 0 played"
expect_eq "$(sed 's/: .*//' vcr.out | paste -sd,)" "plain,stream,last"
expect_eq "$(grep -c ': [a-z]' vcr.out)" 3 "three answers printed"
expect_eq "$($PY -c 'import sys,yaml; print(len(yaml.safe_load(open(sys.argv[1]))["interactions"]))' rec.yaml)" 3
# vcrpy keeps request headers as sent unless told to filter them: the key
# is in its cassette.
expect_contains "$(cat rec.yaml)" "Bearer $KEY" "vcrpy's cassette holds the key"
expect_contains "$(cat rec.yaml)" "uri: $SIM_URL/v1/chat/completions"
# The same program under retrace, live (kept for part 2).
expect_exit 0 env OPENAI_BASE_URL="$SIM_URL/v1" "$RETRACE_BIN" record --name live -- $PY prog.py
printf '%s\n' "$OUT" > live.out
expect_eq "$(cat live.out)" "$(cat vcr.out)" "the sim answers temperature 0 the same"

before=$(nruns)
expect_exit 0 retrace import rec.yaml --name fromvcr --route "openai=$SIM_URL/v1"
expect_eq "$(sed -n 1p <<< "$OUT")" "imported 3 exchange(s) from vcr rec.yaml as run $(retrace show fromvcr --json | json 'j["id"]')"
expect_eq "$(sed -n 2p <<< "$OUT")" "  route openai: 3 exchange(s)"
expect_eq "$(nruns)" $((before + 1))
kill "$SIM_PID"; wait "$SIM_PID" 2> /dev/null || true

# The control: without retrace (or vcrpy) the program has nothing to ask.
expect_exit 1 env OPENAI_BASE_URL="$SIM_URL/v1" $PY prog.py
expect_contains "$ERR" "Connection refused"
expect_exit 0 retrace replay fromvcr -- $PY prog.py
expect_eq "$OUT" "$(cat vcr.out)" "replay of the imported cassette"
expect_eq "$(grep -o '[0-9]* recorded answer(s) served' <<< "$ERR")" "3 recorded answer(s) served"
expect_contains "$ERR" "retrace: reproduced"
show=$(retrace show fromvcr)
expect_contains "$show" "#2       llm        POST /openai/chat/completions      200"
expect_eq "$(retrace show fromvcr --json | json 'j["conditions"]["data"]["imported"]["format"]')" vcr
# Unlike vcrpy (which matches on the URL), replay matches the request body:
# a changed question is not answered with the recorded answer.
expect_exit 1 env LAST="Something else?" "$RETRACE_BIN" replay fromvcr -- $PY prog.py
expect_contains "$ERR" "retrace: diverged: POST /openai/chat/completions"

# The key vcrpy wrote is stored as [REDACTED], and leaves in no export.
retrace show fromvcr --json > fromvcr.json
expect_eq "$(json 'sorted({e["attrs"]["request_headers"]["authorization"] for e in j["events"]})' < fromvcr.json)" "['[REDACTED]']"
expect_exit 0 retrace export fromvcr --format vcr -o fromvcr.yaml
expect_exit 0 retrace export fromvcr --format har -o fromvcr.har
expect_contains "$(cat fromvcr.yaml)" "uri: https://api.openai.com/v1/chat/completions"
for f in fromvcr.json fromvcr.yaml fromvcr.har; do
  expect_not_contains "$(cat $f)" "VCRKEY" "the key in $f"
done

# --- 2. retrace's export of its own recording plays back under vcrpy.
expect_exit 0 retrace export live --format vcr -o exported.yaml
expect_not_contains "$(cat exported.yaml)" "VCRKEY" "the key in exported.yaml"
expect_eq "$($PY -c 'import sys,yaml; c = yaml.safe_load(open(sys.argv[1]))
print(c["version"], sorted({i["request"]["uri"] for i in c["interactions"]}), sorted({a for i in c["interactions"] for a in i["request"]["headers"]["authorization"]}))' exported.yaml)" \
  "1 ['https://api.openai.com/v1/chat/completions'] ['[REDACTED]']"
# No sim, no OPENAI_BASE_URL: the program asks https://api.openai.com/v1,
# and vcrpy answers every request from the cassette.
expect_exit 0 $PY under_vcr.py exported.yaml none
expect_eq "$OUT" "$(cat live.out)" "vcrpy playing retrace's export"
expect_eq "$ERR" "vcr: 3 interaction(s), 3 played"
# The control: an empty cassette in the same mode has no answer to give.
printf 'interactions: []\nversion: 1\n' > empty.yaml
expect_exit 1 $PY under_vcr.py empty.yaml none
expect_contains "$ERR" "vcr.errors.CannotOverwriteExistingCassetteException: Can't overwrite existing cassette ('empty.yaml')"
expect_contains "$ERR" "No match for the request (<Request (POST) https://api.openai.com/v1/chat/completions>)"
# And the export imports back under the provider's route (no --route).
expect_exit 0 retrace import exported.yaml --name roundtrip --json
expect_eq "$(json 'json.dumps([j["exchanges"], j["format"], j["routes"]])' <<< "$OUT")" '[3, "vcr", {"openai": 3}]'
expect_exit 0 retrace replay roundtrip -- $PY prog.py
expect_eq "$OUT" "$(cat live.out)"
expect_eq "$(grep -o '[0-9]* recorded answer(s) served' <<< "$ERR")" "3 recorded answer(s) served"

# Neither the recorder nor the importer stored the key anywhere.
dump=$(store_dump)
expect_contains "$dump" "[REDACTED]" "the stored authorization headers"
expect_not_contains "$dump" "VCRKEY" "the key in the store"

# --- 3. Malformed cassettes: one line, exit 2, no run added.
cat > good.yaml <<'Y'
interactions:
- request:
    body: null
    headers: {}
    method: GET
    uri: http://api.example.com/v2/accounts/7
  response:
    body: {string: '{"id": 7}'}
    headers: {Content-Type: [application/json]}
    status: {code: 200, message: OK}
- request:
    body: null
    headers: {}
    method: GET
    uri: http://api.example.com/v2/accounts/8
  response:
    body: {string: '{"id": 8}'}
    headers: {Content-Type: [application/json]}
    status: {code: 200, message: OK}
version: 1
Y
sed '14s/^    /   /' good.yaml > syntax.yaml          # line 14 indented one short
sed 's/^interactions:/exchanges:/' good.yaml > nolist.yaml
sed 15d good.yaml > nouri.yaml                       # interaction 2 loses its uri
sed "19s/code: 200/code: '200 OK'/" good.yaml > status.yaml
runs_before=$(retrace runs --json)
count=$(nruns)
refused() {  # refused FILE: exit 2, one line on stderr, the store unchanged
  expect_exit 2 retrace import "$1"
  expect_eq "$OUT" "" "stdout of a refused import"
  expect_eq "$(wc -l <<< "$ERR")" 1 "one line of error for $1"
  expect_eq "$(nruns)" "$count" "runs after importing $1"
  expect_eq "$(retrace runs --json)" "$runs_before" "the run list after importing $1"
}
refused syntax.yaml
expect_eq "$ERR" "retrace: vcrpy cassette syntax.yaml: line 14, column 4: end of map not found"
refused nolist.yaml
expect_eq "$ERR" "retrace: vcrpy cassette nolist.yaml: no 'interactions' list: not a vcrpy cassette"
refused nouri.yaml
expect_eq "$ERR" "retrace: vcrpy cassette nouri.yaml: interaction 2 (line 12): request.uri must be a string"
refused status.yaml
expect_eq "$ERR" "retrace: vcrpy cassette status.yaml: interaction 2 (line 19): response.status.code must be an integer"
# The control: the file they were made from imports as exactly one run,
# which replay serves on its route.
expect_exit 0 retrace import good.yaml --name accounts --route accounts=http://api.example.com/v2
expect_eq "$(sed -n 2p <<< "$OUT")" "  route accounts: 2 exchange(s)"
expect_eq "$(nruns)" $((count + 1))
expect_exit 0 retrace replay accounts -- sh -c 'curl -sS "$RETRACE_ROUTE_ACCOUNTS/accounts/7"; echo; curl -sS "$RETRACE_ROUTE_ACCOUNTS/accounts/8"'
expect_eq "$OUT" $'{"id": 7}\n{"id": 8}'
expect_eq "$(grep -o '[0-9]* recorded answer(s) served' <<< "$ERR")" "2 recorded answer(s) served"
