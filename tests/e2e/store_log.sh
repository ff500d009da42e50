# The store's own log: every sealed run that entered the store and every
# one removed, each entry linked to the one before, checked by `verify
# --all`. `rm` is recorded (the control); a run deleted, inserted or
# reordered behind retrace's back is named; an attestation carries the
# run's place in the log and is checked against it.
source "$(dirname "$0")/lib.sh"
DB=$RETRACE_STORE/retrace.db
for n in one two three; do retrace record --name $n -- sh -c "echo $n" > /dev/null 2>&1; done
expect_exit 0 retrace verify --all
expect_contains "$OUT" "store log: 3 entries, intact, head sha256:"
expect_eq "$(sqlite3 "$DB" "SELECT group_concat(kind, ',') FROM store_log")" "added,added,added"
expect_exit 0 retrace verify --all --json
expect_eq "$(json 'j["log"]["entries"], j["log"]["problems"], j["ok"]' <<< "$OUT")" "3 [] True"

retrace keygen -o k > /dev/null
retrace attest two --key k -o two.json 2> /dev/null
expect_exit 0 retrace verify --attestation two.json --key k.pub
json '"log" in json.loads(__import__("base64").b64decode(j["payload"]))["predicate"]' < two.json > has_log
expect_eq "$(cat has_log)" True "the statement carries the run's place in the log"

# The control: retrace rm leaves a tombstone and the log intact.
expect_exit 0 retrace rm one
expect_exit 0 retrace verify --all
expect_contains "$OUT" "store log: 4 entries, intact"
expect_eq "$(sqlite3 "$DB" "SELECT kind FROM store_log WHERE position = 4")" removed
# (the statement still holds: the history it saw is still the log's first 3 entries)
expect_exit 0 retrace verify --attestation two.json --key k.pub

cp "$DB" pristine.db
three=$(retrace show three --json | json 'j["id"]')
two=$(retrace show two --json | json 'j["id"]')
# Deleted behind retrace's back.
sqlite3 "$DB" "PRAGMA foreign_keys = ON; DELETE FROM runs WHERE id = '$three'"
expect_exit 1 retrace verify --all
expect_contains "$OUT" "FAILED store log: run $three is in the store log but not in the store"
cp pristine.db "$DB"
expect_exit 0 retrace verify --all
# Inserted behind retrace's back (a copy of a sealed run under a new id).
sqlite3 "$DB" "INSERT INTO runs SELECT 'Z' || substr(id, 2), name, state, replay_of, started_ns, ended_ns,
  exit_code, conditions, conditions_digest, metadata, metadata_digest, outcome, outcome_digest, chain_head,
  event_count, record_digest FROM runs WHERE id = '$three'"
expect_exit 1 retrace verify --all
expect_contains "$OUT" "is sealed in the store but not in its log (inserted?)"
cp pristine.db "$DB"
# Two entries swapped.
sqlite3 "$DB" "UPDATE store_log SET position = 10 WHERE position = 2;
  UPDATE store_log SET position = 2 WHERE position = 3; UPDATE store_log SET position = 3 WHERE position = 10"
expect_exit 1 retrace verify --all
expect_contains "$OUT" "FAILED store log: store log entry 2 (added $three): link mismatch"
expect_exit 1 retrace verify --attestation two.json --key k.pub
expect_contains "$OUT" "the store log has no entry"
cp pristine.db "$DB"
expect_exit 0 retrace verify --all
expect_exit 0 retrace verify --attestation two.json --key k.pub
echo "store_log: ok"
