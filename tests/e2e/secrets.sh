# With a key in the environment and in argv, the secret appears nowhere in
# what is stored: every table and every blob, decompressed, WAL included.
source "$(dirname "$0")/lib.sh"

export OPENAI_API_KEY=sk-test-SECRET123
export MY_SERVICE_TOKEN=tok-SECRET123-zz
retrace record --name s --env OPENAI_API_KEY --param key=sk-test-SECRET123 -- \
  sh -c 'echo "using $OPENAI_API_KEY and $MY_SERVICE_TOKEN"; echo "Authorization: Bearer abcdefSECRET123" >&2' \
  sk-test-SECRET123 > child.out 2>&1
# The child itself saw the real values (redaction is for the store, not the program).
expect_contains "$(cat child.out)" "using sk-test-SECRET123 and tok-SECRET123-zz"

# Control: the dump below does find text that was stored, so its silence means something.
store_dump > dump.txt
grep -qF "using [REDACTED] and [REDACTED]" dump.txt || fail "stdout blob not found in the dump"
grep -qF "<present>" dump.txt || fail "secret env var not recorded as present"
for needle in SECRET123 sk-test; do
  if grep -F "$needle" dump.txt; then fail "$needle leaked into the store (lines above)"; fi
done
# Raw files too (WAL and database), in case something bypassed the tables.
for f in "$RETRACE_STORE"/*; do
  if grep -a -q SECRET123 "$f"; then fail "SECRET123 in raw file $f"; fi
done
echo "secrets: ok"
