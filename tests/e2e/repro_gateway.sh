# `retrace repro --command`: a production incident recorded by the gateway
# becomes a repro. The escalation agent (examples/incident, official openai
# SDK) runs behind `retrace proxy` once per ticket; its model calls and its
# calls to the account service are one run per ticket. A stale account
# record closes an account that should have had a grace period; repro
# drives the service's code against the two tickets' recordings, isolates
# the stale answer and bundles it, and the bundle reproduces with the model
# provider and the account service stopped and the work tree moved away.
source "$(dirname "$0")/lib.sh"
example=$SRC/examples/incident
start_sim
mkdir -p "$WORK/accounts"
accounts() { printf '{"A-7": %s}' "$1" > "$WORK/accounts/accounts.json"; }
python3 "$example/account_service.py" "$WORK/accounts" 0 > "$WORK/acct.out" &
ACCT_PID=$!
BG_PIDS+=("$ACCT_PID")
for _ in $(seq 200); do grep -q '^listening on ' "$WORK/acct.out" 2> /dev/null && break; sleep 0.02; done
ACCT_URL=$(sed -n 's/^listening on //p' "$WORK/acct.out")
start_gateway --upstream openai=$SIM_URL/v1 --route accounts=$ACCT_URL

# The service's work tree; its npm dependencies are installed (git ignores
# them), here in a parent directory, where Node also looks.
desk=$WORK/service/desk
mkdir -p "$desk"
ln -s "$SRC/tests/node/node_modules" "$WORK/service/node_modules"
cp "$example/agent.mjs" "$desk/"
git -C "$desk" init -q -b main
git -C "$desk" add agent.mjs
git -C "$desk" -c user.name=ci -c user.email=ci@localhost commit -q -m desk
key=sk-proj-desk0123456789abcdefghijklmnop
ticket() {  # ticket ID: the service handles one ticket for account A-7
  (cd "$desk" && OPENAI_BASE_URL=$GW_URL/openai/v1 OPENAI_API_KEY=$key ACCOUNTS_URL=$GW_URL/accounts \
    node agent.mjs "$1" A-7)
}
accounts '{"status": "overdue", "grace_period": true}'
expect_contains "$(ticket T-4410)" "T-4410: account A-7 put on a 30-day grace period"
accounts '{"status": "overdue"}'  # (a stale replica)
expect_contains "$(ticket T-4411)" "T-4411: account A-7 closed"
kill -TERM "$GW_PID"; wait "$GW_PID" || fail "the gateway exited $?"
expect_contains "$(cat "$WORK/gw.err")" "2 run(s) sealed, 6 exchange(s)"
expect_eq "$(retrace show T-4411 --json | json '[e["name"] for e in j["events"]]')" \
  "['GET /accounts/A-7', 'POST /chat/completions', 'POST /accounts/A-7/close']"

drive='ACCOUNTS_URL=$RETRACE_ROUTE_ACCOUNTS node agent.mjs T-4411 A-7'
closed='! retrace show "$RETRACE_RUN_ID" | grep -q "POST /accounts/accounts/A-7/close "'
cd "$desk"
# A gateway's run has no command and no exit code: both must be given.
expect_exit 2 retrace repro T-4411 --against T-4410 --oracle "$closed"
expect_contains "$ERR" "has no recorded command (a gateway's run): give --command CMD"
expect_exit 2 retrace repro T-4411 --against T-4410 --command "$drive"
expect_contains "$ERR" "has no recorded exit code (a gateway's run): give --oracle CMD"
# (the oracle reads the run's trace: the recorded failure fails it, the
# recorded success passes it)
expect_exit 2 retrace repro T-4410 --against T-4411 --command "$drive" --oracle "$closed"
expect_contains "$ERR" "the oracle passes run"

# (its fresh directory for re-validation under $TMPDIR, where Node finds
# the dependencies)
mkdir -p "$WORK/service/tmp"
set +e
TMPDIR=$WORK/service/tmp retrace repro T-4411 --against T-4410 --command "$drive" --oracle "$closed" --k 3 \
  -o "$WORK/bundle" --json > "$WORK/r.json" 2> "$WORK/r.err"
rc=$?
set -e
expect_eq "$rc" 0 "repro of the gateway's run; $(tail -3 "$WORK/r.err")"
field() { json "$1" < "$WORK/r.json"; }
expect_eq "$(field 'j["validate"]["failed_as_recorded"]')" 3
expect_eq "$(field 'len(j["differences"])')" 1 "only the account's state differs"
expect_eq "$(field '[(c["kind"], c["name"]) for c in j["isolate"]["cause"]]')" "[('http', 'GET /accounts/A-7')]"
expect_eq "$(field '[c["path"] for c in j["isolate"]["cause"][0]["changes"]]')" "['\$.grace_period']"
expect_eq "$(field 'j["proof"]["cause_applied_fails"], j["proof"]["cause_reverted_passes"]')" "3 3"
expect_eq "$(field 'j["bundle"]["code"], j["bundle"]["revalidated"]["reproduced"]')" "True 3"
expect_eq "$(json 'j["drive"]' < "$WORK/bundle/manifest.json")" "$drive"
expect_eq "$(cd "$WORK/bundle/code" && find . -type f | sort | tr '\n' ' ')" "./agent.mjs "
expect_eq "$(grep -rl "$key" "$WORK/bundle" | wc -l)" 0 "a key in the bundle"

# Elsewhere: the provider and the account service stopped, the work tree gone.
kill "$SIM_PID" "$ACCT_PID"; wait "$SIM_PID" "$ACCT_PID" 2> /dev/null || true
cd "$WORK"
mv "$WORK/service/desk" "$WORK/moved"
cp -r "$WORK/bundle" "$WORK/elsewhere"
TMPDIR=$WORK/service/tmp RETRACE=$RETRACE_BIN expect_exit 0 "$WORK/elsewhere/reproduce"
expect_contains "$OUT" "replayed   reproduced 3/3; the cause applied failed 3/3, reverted passed 3/3"
expect_contains "$OUT" "cause      #1 http GET /accounts/A-7"
# (control: without its dependencies the program cannot run, and the check says
# the failure did not reproduce)
TMPDIR=$WORK expect_exit 1 retrace repro check "$WORK/elsewhere" --k 1
expect_contains "$OUT" "reproduced 0/1"
