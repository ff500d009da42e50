# A pack proves its runs intact, not who recorded them: anyone can write
# one whose recorded command does harm. `unpack` says the runs are
# unsigned; replaying an imported run shows its command and runs it only
# when confirmed (--yes, or "y" at a terminal); without, it is refused and
# nothing runs. A run recorded here replays as before (control). Run ids
# and names from a pack are checked: a path is not an id.
source "$(dirname "$0")/lib.sh"
# The "forged" run: intact and verifiable, its command writes a file.
RETRACE_STORE=$WORK/elsewhere expect_exit 0 retrace record --name harmless -- sh -c 'echo hi; touch "$0"' "$WORK/pwned"
rm -f "$WORK/pwned"
RETRACE_STORE=$WORK/elsewhere expect_exit 0 retrace pack harmless -o forged.pack
expect_exit 0 retrace unpack forged.pack
expect_contains "$ERR" "unsigned"
expect_exit 0 retrace verify --all

# Without confirmation (stdin is no terminal here): refused, nothing run.
expect_exit 2 retrace replay harmless < /dev/null
expect_contains "$ERR" "was imported from $WORK/forged.pack"
expect_contains "$ERR" 'touch \"$0\"'
expect_contains "$ERR" "not replaying run"
[[ ! -e $WORK/pwned ]] || fail "the imported command ran without confirmation"
expect_eq "$(retrace runs --json | json 'len(j)')" "1" "a refused replay records nothing"
# Confirmed: it runs.
expect_exit 0 retrace replay harmless --yes
expect_contains "$ERR" "reproduced"
[[ -e $WORK/pwned ]] || fail "the confirmed replay did not run the command"
# Another command given after --: nothing of the pack's runs, no question.
expect_exit 0 retrace replay harmless --allow-unused -- sh -c 'echo hi'
# Control: a run recorded here replays without a question.
expect_exit 0 retrace record --name local -- sh -c 'echo local'
expect_exit 0 retrace replay local < /dev/null
expect_not_contains "$ERR" "imported"

# A pack whose run id is a path: refused before any store is touched.
cat > rename.py <<'EOF'
# rename.py IN OUT NEW_ID: the pack with its run id replaced (checksums
# recomputed, so only the id is wrong).
import hashlib, subprocess, sys
raw = open(sys.argv[1], "rb").read()
magic, size, frame = raw.split(b"\n", 2)
content = subprocess.run(["zstd", "-dc"], input=frame, capture_output=True, check=True).stdout
import json
records, pos = [], 0
while pos < len(content):
    sp = content.index(b" ", pos); nl = content.index(b"\n", pos)
    tag, n = content[pos:sp].decode(), int(content[sp + 1:nl])
    records.append((tag, content[nl + 1:nl + 1 + n])); pos = nl + 2 + n
out = b""
for tag, value in records:
    if tag == "run":
        run = json.loads(value); old = run["id"]
        value = value.replace(old.encode(), sys.argv[3].encode())
    if tag == "end":
        value = ("sha256:" + hashlib.sha256(out).hexdigest()).encode()
    out += tag.encode() + b" " + str(len(value)).encode() + b"\n" + value + b"\n"
open(sys.argv[2] + ".raw", "wb").write(out)  # (from a file, zstd records the content size)
frame = subprocess.run(["zstd", "-qc", sys.argv[2] + ".raw"], capture_output=True, check=True).stdout
open(sys.argv[2], "wb").write(magic + b"\n" + str(len(out)).encode() + b"\n" + frame)
EOF
python3 rename.py forged.pack path.pack "../../../../tmp/retrace-pwned"
python3 rename.py forged.pack renamed.pack "01ZZZZZZZZZZZZZZZZZZZZZZZZ"
export RETRACE_STORE=$WORK/fresh
expect_exit 2 retrace unpack path.pack
expect_contains "$ERR" '"../../../../tmp/retrace-pwned" is not a run id'
expect_eq "$(echo "$ERR" | wc -l)" 1 "one-line error"
[[ ! -e $WORK/fresh ]] || fail "a refused archive created a store"
# (control: the same rewriting with a well-formed id gets past the id
# check, and is then refused by verification, as any altered run is)
expect_exit 2 retrace unpack renamed.pack
expect_not_contains "$ERR" "is not a run id"
expect_contains "$ERR" "fails verification"
echo "pack_trust: ok"
