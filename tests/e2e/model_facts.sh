# Model facts seen in traffic go into the conditions: what was asked for
# (models, prompts, tools) and what the provider reported (backend: served
# model, every system_fingerprint, version headers, credential fingerprint).
# Two API keys give two credential fingerprints; neither key is stored.
source "$(dirname "$0")/lib.sh"
start_sim --sim-seed 2 --rotate-fingerprint 2
export OPENAI_BASE_URL=$SIM_URL/v1 ANTHROPIC_BASE_URL=$SIM_URL
cat > three.sh <<'SH'
#!/bin/sh
for q in one two three; do
  curl -sS "$OPENAI_BASE_URL/chat/completions" -H "authorization: Bearer $OPENAI_API_KEY" \
    -H 'content-type: application/json' -o /dev/null \
    -d "{\"model\":\"gpt-4o\",\"temperature\":0,\"seed\":7,\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":\"$q\"}],\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"lookup\",\"parameters\":{\"type\":\"object\"}}}]}"
done
SH
chmod +x three.sh
OPENAI_API_KEY=sk-test-ACCOUNTONE0001 retrace record --name one -- ./three.sh
OPENAI_API_KEY=sk-test-ACCOUNTONE0001 retrace record --name one-again -- ./three.sh
OPENAI_API_KEY=sk-test-ACCOUNTTWO0002 retrace record --name two -- ./three.sh
c() { retrace conditions "$1" | json "$2"; }

expect_eq "$(c one 'j["models"]')" \
  "{'openai': {'gpt-4o': {'endpoints': ['/chat/completions'], 'seed': [7], 'temperature': [0]}}}"
expect_eq "$(c one 'len(j["prompts"]["openai"])')" 1 "one distinct system prompt"
expect_eq "$(c one 'list(j["tools"])')" "['lookup']"
expect_eq "$(c one 'j["backend"]["openai"]["served_models"]')" "['gpt-4o']"
# The backend rotated after two requests: both fingerprints are kept.
expect_eq "$(c one 'len(j["backend"]["openai"]["system_fingerprints"])')" 2
fp1=$(c one 'j["backend"]["openai"]["credentials"]')
expect_contains "$fp1" "hmac-sha256:"
expect_eq "$(c one-again 'j["backend"]["openai"]["credentials"]')" "$fp1" "the same key, the same fingerprint"
expect_ne "$(c two 'j["backend"]["openai"]["credentials"]')" "$fp1" "another key, another fingerprint"
# Only the backend section tells the two accounts apart.
python3 - <<PY
import json, subprocess
def sections(run):
    return json.loads(subprocess.check_output(["$RETRACE_BIN", "show", run, "--json"]))["identity"]["sections"]
a, b = sections("one-again"), sections("two")
assert [k for k in a if a[k] != b[k]] == ["backend"], [k for k in a if a[k] != b[k]]
PY
expect_exit 0 retrace verify --all

# Neither key is anywhere in the store (decompressed dump, WAL included).
store_dump > dump.txt
grep -qF "hmac-sha256:" dump.txt || fail "control: the fingerprints are in the dump"
for key in ACCOUNTONE0001 ACCOUNTTWO0002; do
  ! grep -qF "$key" dump.txt || fail "$key leaked into the store"
done

# A replay's conditions come from the replayed traffic; its placeholder
# key is not fingerprinted.
kill $SIM_PID; wait $SIM_PID 2> /dev/null || true
env -u OPENAI_API_KEY "$RETRACE_BIN" replay one > /dev/null 2>&1 || fail "replay of one diverged"
expect_eq "$(c @latest 'j["models"] == '"$(c one 'j["models"]')")" "True"
expect_eq "$(c @latest 'j["backend"]["openai"].get("credentials")')" "None"
echo "model_facts: ok"
