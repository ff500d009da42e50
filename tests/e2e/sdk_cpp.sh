# The C++ client header (include/retrace/client.hpp): a program records a
# tool, a retrieval, a throwing tool and a checkpoint through the event API,
# and replays them without calling the real functions.
source "$(dirname "$0")/lib.sh"
c++ -std=c++20 -O1 -I"$SRC/include" -o prog "$SRC/tests/cpp/client_prog.cpp"
plain=$(./prog)
expect_contains "$plain" "add 3"
expect_contains "$plain" 'docs ["about \"paris\"",2]'
expect_contains "$plain" "raised account acme is over quota"
expect_exit 3 env TOOLS=raise ./prog  # the control: the real functions do refuse
retrace record --name cpp -- ./prog > rec.out 2> /dev/null
expect_eq "$(cat rec.out)" "$plain"
expect_eq "$(retrace show cpp --json | json 'sorted(e["kind"] + " " + e["name"] for e in j["events"][1:])')" \
  "['checkpoint state', 'retrieval kb', 'tool add', 'tool charge']"
expect_exit 0 env TOOLS=raise "$RETRACE_BIN" replay cpp
expect_eq "$OUT" "$(cat rec.out)"
expect_contains "$ERR" "retrace: reproduced"
expect_exit 1 env TOOLS=raise FIRST=7 "$RETRACE_BIN" replay cpp
expect_contains "$ERR" "diverged: tool add: no recorded call has this input"
expect_contains "$ERR" '$.a: 1 -> 7'
echo "sdk_cpp: ok"
