# The store is its owner's only: every prompt and answer is in it. Under the
# usual umask (022), the store directory is created 0700 and every file in
# it 0600, the cache of input digests too; a directory the user made keeps
# its own mode.
source "$(dirname "$0")/lib.sh"
umask 022

start_sim --sim-seed 1
printf 'data\n' > in.txt
export RETRACE_STORE=$WORK/nested/store
# The child looks at the store while the recorder has it open (its
# write-ahead log exists then).
cat > child.sh <<'SH'
curl -s -o /dev/null -H 'content-type: application/json' "$OPENAI_BASE_URL/chat/completions" \
  -d '{"model":"gpt-4o","messages":[{"role":"user","content":"a private prompt"}]}'
cd "$RETRACE_STORE" && stat -c '%a %n' retrace.db-wal retrace.db-shm
SH
expect_exit 0 retrace record --input in.txt --upstream openai="$SIM_URL/v1" -- sh child.sh
expect_eq "$OUT" $'600 retrace.db-wal\n600 retrace.db-shm' "while recording"
# (the cache of input digests is kept once the store exists)
expect_exit 0 retrace record --input in.txt -- true
mode() { stat -c %a "$1"; }
expect_eq "$(mode "$RETRACE_STORE")" 700 "store directory"
expect_eq "$(mode "$RETRACE_STORE/cache")" 700 "cache directory"
files=$(cd "$RETRACE_STORE" && find . -type f | sort)
expect_contains "$files" "./cache/stat.db"
expect_contains "$files" "./secret"
for f in $files; do expect_eq "$(mode "$RETRACE_STORE/$f")" 600 "$f"; done
# The control: the parents retrace had to create follow the umask, and the
# prompt really is in the file that is now private.
expect_eq "$(mode "$WORK/nested")" 755 "a parent directory"
expect_contains "$(store_dump)" "a private prompt"

# A directory the user made keeps its mode; the database in it is private.
mkdir -m 0750 mine
expect_exit 0 retrace --store mine record -- true
expect_eq "$(mode mine)" 750 "the user's directory"
expect_eq "$(mode mine/retrace.db)" 600 "database in the user's directory"
echo "store_permissions: ok"
