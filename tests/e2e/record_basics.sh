# record runs the command, passes output and exit code through, and exports RETRACE_RUN_ID.
source "$(dirname "$0")/lib.sh"

expect_exit 0 retrace record --name hello -- sh -c 'echo "out $RETRACE_RUN_ID"; echo err >&2'
expect_contains "$OUT" "out 0"        # the run id (starts with a time digit) reached the child
expect_eq "$(echo "$ERR" | head -1)" "err" "child stderr passes through first"
expect_contains "$ERR" "retrace: run "
id=$(latest_id)
expect_eq "$OUT" "out $id" "child saw its own run id"

# Exit codes: the child's own, 128+N for a signal, 127 not found, 126 not executable.
expect_exit 3 retrace record -- sh -c 'exit 3'
expect_exit 143 retrace record -- sh -c 'kill -TERM $$'
expect_exit 127 retrace record -- no-such-command-xyz
expect_contains "$ERR" "command not found: no-such-command-xyz"
touch notexec
expect_exit 126 retrace record -- ./notexec
expect_eq "$(retrace runs --json | json 'len(j)')" 3 "failed launches store no run"

# show, runs, conditions
expect_exit 0 retrace show hello
expect_contains "$OUT" "$id"
expect_contains "$OUT" "process    sh"
expect_contains "$OUT" "exit 0"
expect_exit 0 retrace runs
expect_contains "$OUT" "hello"
expect_eq "$(retrace show @latest --json | json 'j["exit_code"]')" 143
expect_eq "$(retrace show @latest~1 --json | json 'j["exit_code"]')" 3
expect_eq "$(retrace show hello --json | json 'j["events"][0]["attrs"]["stdout_bytes"]')" $(( ${#id} + 5 ))

# conditions --explain prints exactly the hashed text: its last record is the conditions digest.
retrace conditions hello --explain > explain.txt
expect_contains "$(cat explain.txt)" "scheme 20
retrace.conditions/1"
last=$(awk '/^scheme 20$/{n=NR} END{print n}' explain.txt)
digest=$(tail -n +"$last" explain.txt | sha256sum | cut -d' ' -f1)
expect_eq "sha256:$digest" "$(retrace show hello --json | json 'j["conditions_digest"]')"

# Every reporting command has --json and --help.
for c in runs "show hello" "conditions hello" "verify --all"; do
  retrace $c --json | python3 -c 'import json,sys; json.load(sys.stdin)' || fail "$c --json"
done
for c in record runs rm gc pack unpack show conditions which verify; do
  retrace $c --help >/dev/null || fail "$c --help"
done
echo "record_basics: ok"
