# With a key in the environment and in argv, the secret appears nowhere in
# what is stored: every table and every blob, decompressed, WAL included.
source "$(dirname "$0")/lib.sh"

export OPENAI_API_KEY=sk-test-SECRET123
export MY_SERVICE_TOKEN=tok-SECRET123-zz
retrace record --name s --env OPENAI_API_KEY --param key=sk-test-SECRET123 -- \
  sh -c 'echo "using $OPENAI_API_KEY and $MY_SERVICE_TOKEN"; echo "Authorization: Bearer abcdefSECRET123" >&2' \
  sk-test-SECRET123 > child.out 2>&1
# The child itself saw the real values (redaction is for the store, not the program).
expect_contains "$(cat child.out)" "using sk-test-SECRET123 and tok-SECRET123-zz"

# Control: the dump below does find text that was stored, so its silence means something.
store_dump > dump.txt
grep -qF "using [REDACTED] and [REDACTED]" dump.txt || fail "stdout blob not found in the dump"
grep -qF "<present>" dump.txt || fail "secret env var not recorded as present"
for needle in SECRET123 sk-test; do
  if grep -F "$needle" dump.txt; then fail "$needle leaked into the store (lines above)"; fi
done
# Raw files too (WAL and database), in case something bypassed the tables.
for f in "$RETRACE_STORE"/*; do
  if grep -a -q SECRET123 "$f"; then fail "SECRET123 in raw file $f"; fi
done

# A replay redacts what it stores by its own lights: here --redact matches
# text in the recorded answer, which is served as recorded to the program
# and stored redacted, every time --reuse serves it again.
start_sim --sim-seed 5
export OPENAI_BASE_URL=$SIM_URL/v1
cat > ask.sh <<'SH'
curl -sS "$OPENAI_BASE_URL/chat/completions" -H "authorization: Bearer $OPENAI_API_KEY" \
  -H 'content-type: application/json' -d '{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["object"] == "chat.completion")'
SH
retrace record --name asked -- sh ask.sh > /dev/null 2>&1
retrace record --name asked-redacted --redact 'Tru[e]' -- sh ask.sh > /dev/null 2>&1
stored_object() { retrace show "$1" --event "$2" --json | json 'j["response"]["body"]["object"]'; }
expect_eq "$(stored_object asked 2)" "chat.completion" "recorded as answered"
kill "$SIM_PID"
expect_exit 0 "$RETRACE_BIN" replay asked --reuse --redact 'chat\.completion' -- \
  sh -c 'sh ask.sh; sh ask.sh > again.txt; sh ask.sh >> again.txt'
expect_eq "$OUT" "True" "served as recorded"
expect_eq "$(cat again.txt)" "True
True" "served again as recorded"
for n in 2 3 4; do expect_eq "$(stored_object @latest $n)" "[REDACTED]" "replayed answer $n as stored"; done
expect_exit 0 "$RETRACE_BIN" verify @latest

# The program's stdout is compared through the replay's redactor on both
# sides: --redact matching what the program prints still reproduces, whether
# the recording was redacted the same way or not at all.
expect_exit 0 "$RETRACE_BIN" replay asked --redact True
expect_contains "$ERR" "retrace: reproduced"
expect_exit 0 "$RETRACE_BIN" replay asked-redacted --redact True
expect_contains "$ERR" "retrace: reproduced"
# A replay redacts as its recording did without being told: the run keeps
# its --redact patterns, sealed under the store's secret (a pattern may
# spell the secret it hides), and the replay stores its stdout redacted too.
expect_exit 0 "$RETRACE_BIN" replay asked-redacted
expect_contains "$ERR" "retrace: reproduced"
stdout_digest() { retrace show "$1" --json | json '[e["attrs"]["stdout"] for e in j["events"] if e["kind"] == "process"][0]'; }
expect_eq "$(stdout_digest @latest)" "$(stdout_digest asked-redacted)" "the replay's stdout stored redacted"
expect_ne "$(stdout_digest @latest)" "$(stdout_digest asked)" "(control: unredacted)"
store_dump > dump.txt
if grep -aqF 'Tru[e]' dump.txt; then fail "a --redact pattern is in the store in the clear"; fi
grep -aq 'redact_sealed' dump.txt || fail "the sealed patterns are not in the run's metadata"
# Control: another store (through a pack) cannot open them; what was stored
# redacted cannot be compared with what was not, until --redact is given.
retrace pack asked-redacted -o redacted.pack > /dev/null
RETRACE_STORE=$WORK/other "$RETRACE_BIN" unpack redacted.pack > /dev/null
RETRACE_STORE=$WORK/other expect_exit 1 "$RETRACE_BIN" replay asked-redacted --yes
expect_contains "$ERR" 'stdout line 1: recorded "[REDACTED]", replayed "True"'
expect_contains "$ERR" "give the replay the --redact patterns the recording had"
RETRACE_STORE=$WORK/other expect_exit 0 "$RETRACE_BIN" replay asked-redacted --yes --redact 'Tru[e]'
python3 - <<'PY' || fail "a --redact pattern is in the pack in the clear"
import subprocess, sys
data = open("redacted.pack", "rb").read()
content = subprocess.run(["zstd", "-dc"], input=data[data.find(b"\x28\xb5\x2f\xfd"):],
                         capture_output=True).stdout
assert b"redact_sealed" in content, "the pack holds the run's metadata"
sys.exit(1 if b"Tru[e]" in content else 0)
PY
echo "secrets: ok"
