# A recorded answer is read from the store when it is served. One that is
# gone by then (a damaged store) is an error the client does not retry,
# and the replay diverges naming it; the answers still there are served.
source "$(dirname "$0")/lib.sh"

start_sim --sim-seed 3
export OPENAI_BASE_URL=$SIM_URL/v1 OPENAI_API_KEY=sk-test-lost-answer
cat > ask.sh <<'SH'
for q in one two; do
  curl -sS -o "body.$q" -w "$q %{http_code} %header{x-should-retry}\n" \
    "$OPENAI_BASE_URL/chat/completions" -H "authorization: Bearer $OPENAI_API_KEY" \
    -H 'content-type: application/json' \
    -d "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"$q\"}]}"
done
SH
retrace record --name lost -- sh ask.sh > recorded.txt 2> /dev/null
expect_eq "$(cat recorded.txt)" "one 200 
two 200 " "recorded"
kill "$SIM_PID"

# Control: with every answer in the store, the replay reproduces.
expect_exit 0 "$RETRACE_BIN" replay lost
expect_contains "$ERR" "retrace: reproduced"

# The second answer's blob is removed (the run still refers to it).
lost=$(retrace show lost --event 3 --json | json 'j["event"]["response"]')
[[ $lost == sha256:* ]] || fail "no response digest for event 3: $lost"
python3 - "$RETRACE_STORE/retrace.db" "$lost" <<'PY'
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
assert con.execute("DELETE FROM blobs WHERE digest=?", (sys.argv[2],)).rowcount == 1
con.commit()
PY
expect_exit 1 "$RETRACE_BIN" replay lost
expect_eq "$OUT" "one 200 
two 500 false" "the first answer is served, the second is refused"
expect_contains "$(cat body.two)" "retrace cannot replay #3 POST /openai/chat/completions"
expect_contains "$(cat body.two)" "blob $lost is missing"
expect_contains "$ERR" "retrace: diverged: #3 POST /openai/chat/completions: its recorded answer cannot be read"
echo "replay_lost_answer: ok"
