# pack then unpack into an empty store gives runs that verify and show
# identically; a truncated or altered archive is refused with a clear error.
source "$(dirname "$0")/lib.sh"

printf 'abc' > in.txt
retrace record --name one --input in.txt -- sh -c 'echo first' >/dev/null 2>&1
retrace record --name two -- sh -c 'echo second; exit 4' >/dev/null 2>&1 || true
expect_exit 0 retrace pack one two -o runs.pack
expect_contains "$OUT" "packed 2 runs"

export RETRACE_STORE=$WORK/other
expect_exit 0 retrace unpack runs.pack
expect_contains "$OUT" "imported 2"
expect_exit 0 retrace verify --all
a=$(RETRACE_STORE=$WORK/store retrace show one; RETRACE_STORE=$WORK/store retrace show two --json)
b=$(retrace show one; retrace show two --json)
expect_eq "$b" "$a" "show prints identically after unpack"
expect_exit 0 retrace unpack runs.pack
expect_contains "$OUT" "imported 0"

export RETRACE_STORE=$WORK/third
size=$(stat -c %s runs.pack)
head -c $((size - 20)) runs.pack > truncated.pack
expect_exit 2 retrace unpack truncated.pack
expect_contains "$ERR" "truncated.pack"
expect_eq "$(echo "$ERR" | wc -l)" 1 "one-line error"
python3 -c "
import sys; b = bytearray(open('runs.pack','rb').read()); b[len(b)//2] ^= 0x40
open('altered.pack','wb').write(bytes(b))"
expect_exit 2 retrace unpack altered.pack
expect_contains "$ERR" "altered.pack"
echo garbage > garbage.pack
expect_exit 2 retrace unpack garbage.pack
expect_contains "$ERR" "not a retrace pack"
[[ ! -e $WORK/third ]] || fail "a refused archive created a store"
echo "pack_unpack: ok"
