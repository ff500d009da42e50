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
python3 - "$RETRACE_STORE/retrace.db" <<'PY'
import sqlite3, subprocess, sys
db = sys.argv[1]
con = sqlite3.connect(db)  # reads the WAL too
found, dump = [], []
for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'"):
    for row in con.execute(f"SELECT * FROM {table}"):
        for v in row:
            if isinstance(v, bytes):
                if table == "blobs" and v[:4] == b"\x28\xb5\x2f\xfd":
                    v = subprocess.run(["zstd", "-dc"], input=v, capture_output=True).stdout
                v = v.decode("utf-8", "replace")
            dump.append(f"{table}: {v}")
text = "\n".join(dump)
assert "using [REDACTED] and [REDACTED]" in text, "stdout blob not found in the dump: " + text[:2000]
assert "<present>" in text, "secret env var not recorded as present"
for needle in ["SECRET123", "sk-test"]:
    if needle in text:
        lines = [l for l in dump if needle in l]
        print("LEAK:", needle, lines[:5]); sys.exit(1)
PY
# Raw files too (WAL and database), in case something bypassed the tables.
for f in "$RETRACE_STORE"/*; do
  if grep -a -q SECRET123 "$f"; then fail "SECRET123 in raw file $f"; fi
done
echo "secrets: ok"
