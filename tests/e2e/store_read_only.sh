# A store this user may read but not write (a teammate's shared read-only,
# a read-only mount) serves every command that only reads: runs, show,
# diff, verify, which, doctor and pack. A command that would write says so
# in one line and changes nothing. (Run as an unprivileged user: root
# writes whatever the modes say.)
source "$(dirname "$0")/lib.sh"
start_sim --sim-seed 4
export OPENAI_BASE_URL=$SIM_URL/v1
cat > ask.sh <<'SH'
curl -s -H 'content-type: application/json' -H 'authorization: Bearer sk-test-RO000001' \
  "$OPENAI_BASE_URL/chat/completions" \
  -d "{\"model\":\"gpt-4o\",\"temperature\":0,\"messages\":[{\"role\":\"user\",\"content\":\"$1\"}]}" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["choices"][0]["message"]["content"][:20])'
SH
expect_exit 0 retrace record --name one -- sh ask.sh first
expect_exit 0 retrace record --name two -- sh ask.sh second
# (the store is closed: its write-ahead log is gone, as after any clean exit)
as_reader=()
if [[ $(id -u) == 0 ]]; then
  chown -R nobody:nogroup "$RETRACE_STORE"
  chmod 755 "$WORK"
  as_reader=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
fi
before=$(cd "$RETRACE_STORE" && find . -type f -exec sha256sum {} + | sort)
chmod -R a-w "$RETRACE_STORE"
reader() { expect_exit "$1" "${as_reader[@]}" "$RETRACE_BIN" "${@:2}"; }
# Control: the reader cannot write there (or the test proves nothing).
expect_exit 1 "${as_reader[@]}" touch "$RETRACE_STORE/probe"

reader 0 runs
expect_contains "$OUT" "one"
expect_contains "$OUT" "two"
reader 0 show one
expect_contains "$OUT" "POST /openai/chat/completions"
reader 1 diff one two
expect_contains "$OUT" "differ"
reader 0 verify --all
expect_eq "$(echo "$OUT" | grep -c '^ok ')" 2
reader 0 doctor one
mkdir -m 777 "$WORK/out"
reader 0 pack one two -o "$WORK/out/runs.pack"
# Writing commands: one line each, exit 2 or 125, nothing changed.
reader 125 record -- true
expect_contains "$ERR" "read-only"
expect_eq "$(echo "$ERR" | wc -l)" 1
reader 2 rm one
expect_contains "$ERR" "read-only"
after=$(cd "$RETRACE_STORE" && find . -type f -exec sha256sum {} + | sort)
expect_eq "$after" "$before" "the store is unchanged"
# The pack written from the read-only store imports elsewhere.
RETRACE_STORE=$WORK/other expect_exit 0 retrace unpack "$WORK/out/runs.pack"
expect_eq "$(RETRACE_STORE=$WORK/other retrace runs --json | json 'len(j)')" 2
echo "store_read_only: ok"
