# `retrace repro -o DIR`: the bundle that fails the same way anywhere. A
# billing agent (repro/bundle_agent) runs from a git work tree with an
# uncommitted change and an untracked module; its failure is bundled, and the
# bundle reproduces in a fresh directory with the work tree moved away, the
# provider stopped and the account service gone (its tool raises if called).
# A changed byte is refused; an environment difference is reported.
source "$(dirname "$0")/lib.sh"
export PYTHONPATH=$SRC/sdk/python
export RETRACE=$RETRACE_BIN  # for the bundle's own `reproduce`
fixtures=$SRC/tests/e2e/repro/bundle_agent
start_sim

# The program's work tree: policy.py committed, then changed; accounts.py
# untracked; a .env and notes holding a key, which must not travel.
repo=$WORK/billing
mkdir -p "$repo"
cp "$fixtures/agent.py" "$repo/agent.py"
cp "$fixtures/policy_committed.py" "$repo/policy.py"
echo "Notice to the account holder" > "$repo/notice.txt"
git -C "$repo" init -q
git -C "$repo" add agent.py policy.py notice.txt
git -C "$repo" -c user.name=ci -c user.email=ci@localhost commit -q -m billing
cp "$fixtures/policy_changed.py" "$repo/policy.py"
cp "$fixtures/accounts.py" "$repo/accounts.py"
key=sk-proj-bundle0123456789abcdefghijklmnop
printf 'OPENAI_API_KEY=%s\n' "$key" > "$repo/.env"
printf 'the staging key is %s\n' "$key" > "$repo/notes.txt"

accounts() { printf '{"A-1": %s}' "$1" > "$WORK/accounts.json"; }
export ACCOUNTS=$WORK/accounts.json
record() {  # record NAME: the agent as the on-call engineer ran it, in its work tree
  set +e
  (cd "$repo" && OPENAI_BASE_URL=$SIM_URL/v1 OPENAI_API_KEY=$key NOTICE_TEMPLATE=$repo/notice.txt \
    retrace record --name "$1" --env NOTICE_TEMPLATE -- \
    python3 "$repo/agent.py" > "$WORK/$1.out" 2> "$WORK/$1.err")
  set -e
}
accounts '{"status": "overdue", "grace": true}'
record billing
expect_contains "$(cat "$WORK/billing.out")" "put on a grace period" "$(cat "$WORK/billing.err")"
accounts '{"status": "overdue"}'
record billing
expect_contains "$(cat "$WORK/billing.out")" "closed account A-1: overdue without grace"
failed=$(latest_id)

# 1. The bundle, re-validated in a fresh directory as it is written.
expect_exit 0 retrace repro "$failed" --k 3 -o "$WORK/bundle"
expect_contains "$OUT" "bundle     $WORK/bundle"
expect_contains "$OUT" "revalidate in a fresh directory: reproduced 3/3; the cause applied failed 3/3, reverted passed 3/3"
b=$WORK/bundle
expect_eq "$(cd "$b" && find . -maxdepth 1 | sort | tr '\n' ' ')" \
  ". ./README.md ./code ./manifest.json ./manifest.json.sha256 ./reproduce ./runs.pack "
expect_eq "$(cd "$b/code" && find . -type f | sort | tr '\n' ' ')" "./accounts.py ./agent.py ./notice.txt ./policy.py "
# The program as it ran: the work tree's change, not the commit.
expect_eq "$(cat "$b/code/policy.py")" "$(cat "$fixtures/policy_changed.py")"
(cd "$b" && sha256sum -c --quiet manifest.json.sha256) || fail "manifest digest"
m() { json "$1" < "$b/manifest.json"; }
# A directory already in use is refused before anything is replayed.
count_runs() { retrace runs --json --limit 100000 | json 'len(j)'; }
before=$(count_runs)
expect_exit 2 retrace repro "$failed" --k 3 -o "$b"
expect_contains "$ERR" "not empty (a bundle needs a new directory)"
expect_eq "$(count_runs)" "$before" "no replay ran"
expect_eq "$(m 'j["format"]')" "retrace-repro-bundle/1"
expect_eq "$(m 'j["source"]["run"]')" "$failed"
expect_eq "$(m 'j["source"]["record_digest"]')" "$(retrace show "$failed" --json | json 'j["record_digest"]')"
expect_eq "$(m '[c["label"] for c in j["cause"]]')" "['#2 tool account_state']"
expect_eq "$(m 'j["rates"]["validate"]')" "{'failed_as_recorded': 3, 'replays': 3}"
expect_eq "$(m 'sorted(j["files"])')" "['README.md', 'code/accounts.py', 'code/agent.py', 'code/notice.txt', 'code/policy.py', 'reproduce', 'runs.pack']"
expect_eq "$(m 'sorted(l["path"] for l in j["code"]["left_out"])')" "['.env', 'notes.txt']"
# The ticket's README: what failed, the one command, the cause, the identity.
readme=$(cat "$b/README.md")
expect_contains "$readme" "closed account A-1: overdue without grace"
expect_contains "$readme" "    ./reproduce"
expect_contains "$readme" "- #2 tool account_state"
expect_contains "$readme" '`$.grace`: `true` (passing) -> `(absent)` (failed)'
expect_contains "$readme" "record digest $(m 'j["source"]["record_digest"]')"
expect_contains "$readme" '`.env`: its name says it holds a credential'
expect_contains "$readme" '`notes.txt`: it holds a credential'
# No key anywhere in the bundle, nor in its runs (control: the key is in
# the files left behind).
expect_eq "$(grep -rl "$key" "$b" | wc -l)" 0 "a key in the bundle"
expect_eq "$(grep -rl "$key" "$repo" | wc -l)" 2
RETRACE_STORE=$WORK/unpacked retrace unpack "$b/runs.pack" > /dev/null 2>&1
expect_eq "$(m 'len(j["runs"])')" "$(RETRACE_STORE=$WORK/unpacked retrace runs --json | json 'len(j)')"
expect_not_contains "$(RETRACE_STORE=$WORK/unpacked store_dump)" "$key"

# 2. On another machine: a fresh directory and HOME, the work tree moved
# away, the provider stopped, the account service gone.
mv "$repo" "$WORK/moved"
rm "$ACCOUNTS"
kill "$SIM_PID"; wait "$SIM_PID" 2> /dev/null || true
fresh=$WORK/elsewhere
mkdir -p "$fresh/home"
cp -r "$b" "$fresh/bundle"
cd "$fresh"
HOME=$fresh/home expect_exit 0 ./bundle/reproduce
cd "$WORK"
expect_contains "$OUT" "replayed   reproduced 3/3; the cause applied failed 3/3, reverted passed 3/3"
expect_contains "$OUT" "cause      #2 tool account_state"
expect_contains "$OUT" "environment as recorded"
expect_not_contains "$ERR$OUT" "a real tool was called"
# (control: run as recorded, the program now fails for want of the service)
set +e; (cd "$WORK/moved" && python3 agent.py > /dev/null 2>&1); rc=$?; set -e
expect_ne "$rc" 0 "the program without its service"
expect_exit 0 retrace repro check "$fresh/bundle" --k 2 --json
expect_eq "$(json 'j["reproduced"], j["k"], j["repro"]["proof"]["proven"]' <<< "$OUT")" "2 2 True"

# 3. A changed byte is refused, wherever it is, and nothing is replayed.
for file in code/policy.py runs.pack manifest.json README.md; do
  rm -rf "$WORK/tampered"; cp -r "$b" "$WORK/tampered"
  python3 - "$WORK/tampered/$file" << 'EOF'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
data[len(data) // 2] ^= 1
open(sys.argv[1], "wb").write(bytes(data))
EOF
  expect_exit 2 "$WORK/tampered/reproduce"
  expect_contains "$ERR" "does not match its digest" "$file"
  expect_eq "$(wc -l <<< "$ERR")" 1 "one line for $file"
  expect_exit 2 retrace repro check "$WORK/tampered"
  expect_contains "$ERR" "does not match its digest"
done
# (control: the copy unchanged passes the same checks)
rm -rf "$WORK/tampered"; cp -r "$b" "$WORK/tampered"
expect_exit 0 retrace repro check "$WORK/tampered" --k 1
# A file slipped in is refused too.
echo 'import os' > "$WORK/tampered/code/sitecustomize.py"
expect_exit 2 retrace repro check "$WORK/tampered" --k 1
expect_contains "$ERR" "code/sitecustomize.py is not listed in manifest.json"

# A manifest written by hand, its digest recomputed, with a field of the
# wrong type: refused in one line, not a crash.
rm -rf "$WORK/odd"; cp -r "$b" "$WORK/odd"
python3 - "$WORK/odd/manifest.json" << 'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
m["environment"] = "Debian"
open(sys.argv[1], "w").write(json.dumps(m, indent=2) + "\n")
EOF
(cd "$WORK/odd" && sha256sum manifest.json > manifest.json.sha256)
expect_exit 2 retrace repro check "$WORK/odd"
expect_contains "$ERR" "manifest.json is malformed"
expect_eq "$(grep -c '^retrace:' <<< "$ERR")" 1 "one error line"

# 4. Another Python on the receiving machine: reported; fatal with --strict.
rm -rf "$WORK/other"; cp -r "$b" "$WORK/other"
recorded=$(json 'j["environment"]["software"]["python3"]' < "$b/manifest.json")
python3 - "$WORK/other/manifest.json" << 'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
m["environment"]["software"]["python3"] = "3.9.1"
open(sys.argv[1], "w").write(json.dumps(m, indent=2) + "\n")
EOF
(cd "$WORK/other" && sha256sum manifest.json > manifest.json.sha256)
expect_exit 0 retrace repro check "$WORK/other" --k 1
expect_contains "$OUT" "differs  python3: $recorded here, 3.9.1 recorded"
expect_contains "$OUT" "reproduced 1/1"
expect_exit 1 retrace repro check "$WORK/other" --k 1 --strict
expect_contains "$OUT" "not replayed: the environment differs (--strict)"

# 5. As an archive for the ticket, and without the program (which the
# receiving machine then has: here, the work tree back in its place).
mv "$WORK/moved" "$repo"
expect_exit 0 retrace repro "$failed" --k 1 --archive "$WORK/ticket.tar.gz" --no-code --against "$(retrace runs --json --name billing | json 'j[1]["id"]')"
expect_contains "$OUT" "program  left out (--no-code)"
expect_eq "$(tar -tzf "$WORK/ticket.tar.gz" | grep -c '/code/' || true)" 0
expect_exit 0 retrace repro check "$WORK/ticket.tar.gz"
expect_contains "$OUT" "reproduced 1/1"
