# --output digests make an artifact traceable to the run that made it, and
# --input to the runs that consumed it.
source "$(dirname "$0")/lib.sh"

printf 'dataset' > data.txt
retrace record --name train --input data.txt --output model.bin -- sh -c 'cat data.txt | rev > model.bin' 2>/dev/null
retrace record --name eval --input model.bin --output report.txt -- sh -c 'wc -c model.bin > report.txt' 2>/dev/null
expect_exit 0 retrace which model.bin
expect_contains "$OUT" "produced as $WORK/model.bin"
expect_contains "$OUT" "consumed as $WORK/model.bin"
expect_exit 0 retrace which "sha256:$(sha256sum data.txt | cut -d' ' -f1)" --json
expect_eq "$(echo "$OUT" | json 'j["runs"][0]["name"]')" "train"
# Control: content no run touched.
printf 'other' > other.txt
expect_exit 1 retrace which other.txt
# A missing --output is a warning, not a failure.
expect_exit 0 retrace record --output never.txt -- true
expect_contains "$ERR" "never.txt was not produced"
expect_exit 2 retrace which sha256:nothex
echo "which_outputs: ok"
