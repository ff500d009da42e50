# A corrupt store, an unknown run reference, an unreadable --input: a
# one-line error, exit 2, and nothing else changed.
source "$(dirname "$0")/lib.sh"

retrace record --name good -- true 2>/dev/null
before=$(sha256sum "$RETRACE_STORE/retrace.db" | cut -d' ' -f1)
count=$(retrace runs --json | json 'len(j)')

expect_exit 2 retrace show no-such-run
expect_eq "$(echo "$ERR" | wc -l)" 1
expect_contains "$ERR" "no run matches 'no-such-run'"

expect_exit 2 retrace record --input does/not/exist -- true
expect_eq "$(echo "$ERR" | wc -l)" 1
expect_contains "$ERR" "does/not/exist"
mkdir locked && touch locked/f && chmod 000 locked/f
if [[ $(id -u) != 0 ]]; then
  expect_exit 2 retrace record --input locked/f -- true
fi
expect_exit 2 retrace record --param novalue -- true
expect_contains "$ERR" "KEY=VALUE"
expect_exit 2 retrace runs --since yesterday-ish
expect_exit 2 retrace record --no-such-flag -- true
expect_exit 2 retrace verify
expect_eq "$(retrace runs --json | json 'len(j)')" "$count" "no run was added by bad input"

# Corrupt store file: clear error naming it, file untouched.
mkdir bad && head -c 8192 /dev/urandom > bad/retrace.db
sum=$(sha256sum bad/retrace.db)
expect_exit 2 env RETRACE_STORE=$WORK/bad "$RETRACE_BIN" runs
expect_eq "$(echo "$ERR" | wc -l)" 1
expect_contains "$ERR" "$WORK/bad"
expect_exit 2 env RETRACE_STORE=$WORK/bad "$RETRACE_BIN" record -- true
expect_eq "$(sha256sum bad/retrace.db)" "$sum" "corrupt store left as it was"

# Reading commands never create a store.
expect_exit 2 env RETRACE_STORE=$WORK/none "$RETRACE_BIN" runs
[[ ! -e $WORK/none ]] || fail "runs created a store"

# Store location precedence: --store > RETRACE_STORE > nearest .retrace/ > ./.retrace
mkdir -p proj/sub/.. && (cd proj && env -u RETRACE_STORE "$RETRACE_BIN" record -- true 2>/dev/null)
[[ -f proj/.retrace/retrace.db ]] || fail "no store created in the working directory"
mkdir -p proj/sub/deeper && (cd proj/sub/deeper && env -u RETRACE_STORE "$RETRACE_BIN" record --name deep -- true 2>/dev/null)
[[ ! -e proj/sub/deeper/.retrace ]] || fail "nearest .retrace/ walking up was not used"
expect_eq "$(cd proj && env -u RETRACE_STORE "$RETRACE_BIN" runs --json | json 'len(j)')" 2
expect_exit 0 retrace --store "$WORK/proj/.retrace" show deep
expect_eq "$(sha256sum "$RETRACE_STORE/retrace.db" | cut -d' ' -f1)" "$before" "main store unchanged"
# A path that is not UTF-8, to the event API and to an unknown route: each
# gets its error as JSON (U+FFFD where the bytes were), not a closed
# connection.
cat > badpath.py <<'PY'
import os, socket, urllib.parse
u = urllib.parse.urlsplit(os.environ["RETRACE_PROXY_URL"])
for path in (b"/_retrace/v1/\xff\xfe", b"/\xff\xfe/chat/completions"):
    s = socket.create_connection((u.hostname, u.port))
    s.sendall(b"POST " + u.path.encode() + path + b" HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n"
              b"connection: close\r\n\r\n{}")
    answer = b""
    while chunk := s.recv(65536):
        answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    print(head.split(b"\r\n")[0].decode(), body.decode("utf-8"))
PY
expect_exit 0 retrace record -- python3 badpath.py
expect_contains "$OUT" 'HTTP/1.1 404 Not Found {"error":{"message":"no such endpoint: /_retrace/v1/'$'\xef\xbf\xbd'
expect_eq "$(grep -c '^HTTP/1.1 4' <<< "$OUT")" 2 "both bad paths answered"
echo "bad_input: ok"
