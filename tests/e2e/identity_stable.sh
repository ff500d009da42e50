# Same command in the same conditions gives the same conditions digest;
# changing one input byte, one param, or the git commit changes it, and only
# in the affected section.
source "$(dirname "$0")/lib.sh"

mkdir repo && cd repo
git init -q -b main .
git -c user.name=t -c user.email=t@t commit -q --allow-empty -m first
mkdir -p data && printf 'hello\n' > data/a.txt && printf 'x' > data/b.bin
git add data && git -c user.name=t -c user.email=t@t commit -q -m data

rec() { retrace record --input data --param lr=0.1 "$@" -- sh -c 'cat data/a.txt' >/dev/null 2>&1; latest_id; }
a=$(rec); b=$(rec)
da=$(retrace show "$a" --json | json 'j["conditions_digest"]')
db=$(retrace show "$b" --json | json 'j["conditions_digest"]')
expect_eq "$da" "$db" "same conditions give the same digest"

# only_changed A B: the sections whose digests differ, comma separated.
only_changed() {
  python3 - "$(section_digests "$1")" "$(section_digests "$2")" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(",".join(sorted(k for k in a if a[k] != b[k])))
PY
}

# One byte of one input file (an untracked change also dirties code: use an ignored data dir).
printf 'data/\n' > .gitignore && git add .gitignore && git -c user.name=t -c user.email=t@t commit -q -m ignore
git rm -q -r --cached data && git -c user.name=t -c user.email=t@t commit -q -m untrack
c=$(rec)
printf 'hellO\n' > data/a.txt
d=$(rec)
expect_eq "$(only_changed "$c" "$d")" "data" "one input byte changes the data section only"
expect_ne "$(retrace show "$c" --json | json 'j["conditions_digest"]')" \
          "$(retrace show "$d" --json | json 'j["conditions_digest"]')"

# One param
retrace record --input data --param lr=0.2 -- sh -c 'cat data/a.txt' >/dev/null 2>&1; e=$(latest_id)
expect_eq "$(only_changed "$d" "$e")" "params" "one param changes the params section only"

# The git commit
git -c user.name=t -c user.email=t@t commit -q --allow-empty -m another
f=$(rec)
expect_eq "$(only_changed "$d" "$f")" "code" "a new commit changes the code section only"
expect_eq "$(retrace show "$f" --json | json 'j["conditions"]["code"]["git"]["commit"]')" "$(git rev-parse HEAD)"

# A dirty tracked file changes code (dirty digest); the store never dirties the tree.
echo change >> .gitignore
g=$(rec)
expect_eq "$(retrace show "$g" --json | json 'j["conditions"]["code"]["git"]["dirty"]')" "True"
git checkout -q .gitignore
h=$(rec)
expect_eq "$(retrace show "$h" --json | json 'j["conditions_digest"]')" \
          "$(retrace show "$f" --json | json 'j["conditions_digest"]')" "clean again, same digest"

# A store created inside the repository ignores itself.
RETRACE_STORE= retrace record -- true 2>/dev/null
[[ -f .retrace/.gitignore ]] || fail "no .retrace/.gitignore"
expect_eq "$(git status --porcelain)" "" "the in-repo store leaves the tree clean"
echo "identity_stable: ok"
