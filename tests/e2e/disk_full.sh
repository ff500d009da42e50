# The disk fills in the middle of a run (here: a file size limit, `ulimit
# -f`, which would otherwise kill with SIGXFSZ). The program is not
# harmed: its requests are still answered and `record` exits with its own
# code, says on stderr what could not be stored, and leaves the run
# incomplete with every event stored before the failure; verify lists it
# as incomplete and the earlier runs as intact. The control: the same
# program without the limit is recorded whole.
source "$(dirname "$0")/lib.sh"
start_sim --sim-seed 9
export OPENAI_BASE_URL=$SIM_URL/v1
cat > client.py <<'EOF'
# client.py N: N requests, each with 16 KB of fresh random text (so that
# the store cannot compress it away); prints how many were answered 200,

import json, os, sys, urllib.request
ok = 0
for i in range(int(sys.argv[1])):
    body = json.dumps({"model": "gpt-4o", "temperature": 0,
                       "messages": [{"role": "user", "content": os.urandom(8192).hex()}]}).encode()
    req = urllib.request.Request(os.environ["OPENAI_BASE_URL"] + "/chat/completions", data=body,
                                 headers={"content-type": "application/json",
                                          "authorization": "Bearer sk-test-FULL0001"})
    with urllib.request.urlopen(req, timeout=20) as r:
        ok += r.status == 200
print(ok)
EOF
expect_exit 0 retrace record --name before -- true
# Control: 60 exchanges of 16 KB, recorded whole.
expect_exit 0 retrace record --name whole -- python3 client.py 60
expect_eq "$OUT" "60"
expect_eq "$(retrace show whole --json | json 'j["state"] + " " + str(sum(e["kind"] == "llm" for e in j["events"]))')" "sealed 60"

# The limit: what the store holds now plus about 400 KB (a third of the run).
size_kb=$(( $(du -sk "$RETRACE_STORE" | cut -f1) + 400 ))
# (the program's own file over the limit: it gets SIGXFSZ as it would
# without retrace, which ignores it only for itself)
expect_exit 3 bash -c "ulimit -f $size_kb; \"$RETRACE_BIN\" record --name full -- sh -c 'python3 client.py 60; head -c 2000000 /dev/zero > big.bin; echo head \$?; exit 3'"
expect_eq "$OUT" "60
head 153" "every request of the program was answered"
expect_contains "$ERR" "cannot store the events of run"
expect_contains "$ERR" "the program goes on, unrecorded from here"
expect_contains "$ERR" "left incomplete:"
expect_contains "$ERR" "could not be stored"
full=$(retrace runs --json | json '[r["id"] for r in j if r["name"] == "full"][0]')
expect_eq "$(retrace runs --json | json '[r["state"] for r in j if r["name"] == "full"][0]')" "incomplete"
stored=$(retrace show "$full" --json | json 'sum(e["kind"] == "llm" for e in j["events"])')
(( stored > 0 && stored < 60 )) || fail "expected some but not all exchanges stored, got $stored"
# (what is stored is a prefix: the exchanges up to the failure, in order)
expect_eq "$(retrace show "$full" --json | json '[e["seq"] for e in j["events"]] == list(range(2, 2 + len(j["events"])))')" "True"
expect_exit 0 retrace verify --all
expect_contains "$OUT" "incomplete $full (never sealed: $stored events intact"
expect_eq "$(echo "$OUT" | grep -c '^ok ')" 2
# The store takes new runs once there is room again.
expect_exit 0 retrace record --name after -- true
expect_exit 0 retrace verify --all
echo "disk_full: ok"
