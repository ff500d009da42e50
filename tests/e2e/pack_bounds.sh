# `retrace unpack` reads an archive while decompressing it: a small file that
# inflates to gigabytes (a decompression bomb) is refused at its first byte
# that is not a record, or where it outgrows the size its header declares,
# without the memory it would take; --max-size bounds what a header may
# declare. Each refusal is one line and creates no store.
source "$(dirname "$0")/lib.sh"
expect_exit 0 retrace record --name small -- sh -c 'echo hello'
expect_exit 0 retrace pack small -o small.pack
# (header: magic line, size line; the frame follows)
size=$(sed -n 2p small.pack)
# pack_of SIZE FILE: an archive declaring SIZE whose frame holds FILE.
pack_of() { { printf 'retrace-pack/1\n%s\n' "$1"; zstd -qc < "$2"; }; }
# 1 GiB of zeros (in about 32 KB) behind a header declaring just that.
head -c 1073741824 /dev/zero | zstd -qc > zeros.zst
{ printf 'retrace-pack/1\n1073741824\n'; cat zeros.zst; } > zeros.pack
expect_eq "$(( $(stat -c %s zeros.pack) < 100000 ))" 1 "a small file"
# A record claiming more than the header declares; a frame holding more.
{ printf 'blob 999999999\n'; head -c 100000 /dev/zero; } > long.raw
pack_of 100100 long.raw > long.pack
sed -n '3,$p' small.pack | zstd -qdc > content.raw
pack_of $((size - 1)) content.raw > grows.pack

export RETRACE_STORE=$WORK/fresh
# Memory bounded: the Release build runs under a 512 MiB address space
# (a sanitizer build reserves terabytes of it, so it runs without).
bound=()
if ! sanitized; then bound=(prlimit --as=536870912); fi
# unpack ARGS...: prints the exit status; the output in unpack.out.
unpack() { "${bound[@]}" "$RETRACE_BIN" unpack "$@" > unpack.out 2>&1; echo $?; }
for case in zeros:'malformed record header' long:"record 'blob' is truncated" \
            grows:"inflates beyond the $((size - 1)) bytes its header declares"; do
  file=${case%%:*}.pack want=${case#*:}
  expect_eq "$(unpack "$file")" 2 "$file"
  expect_contains "$(cat unpack.out)" "$want"
  expect_eq "$(wc -l < unpack.out)" 1 "one-line error ($file)"
  [[ ! -e $WORK/fresh ]] || fail "a refused archive ($file) created a store"
done
# --max-size: a declared size over it is refused before any decompression.
expect_eq "$(unpack small.pack --max-size 100)" 2
expect_contains "$(cat unpack.out)" "declares $size bytes of content, over the limit of 100 (--max-size)"
[[ ! -e $WORK/fresh ]] || fail "a refused archive created a store"
# Control: the genuine archive unpacks under the same bound, at its size.
expect_eq "$(unpack small.pack --max-size "$size")" 0
expect_contains "$(cat unpack.out)" "verified 1 runs, imported 1"
expect_exit 0 retrace verify --all
echo "pack_bounds: ok"
