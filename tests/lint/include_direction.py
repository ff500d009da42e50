#!/usr/bin/env python3
"""Dependencies point downward only (docs/architecture.md), and no header
includes itself through others.

Each room of src/ and include/retrace/ has a layer; a file may include the
public headers of its own room and of rooms on lower layers, never of a
room on its own layer or above. So core includes nothing of ours, sim
never sees proxy or replay code, and two rooms cannot depend on each other.

Usage: include_direction.py REPO_ROOT   (exit 1 and a line per finding)
"""
import pathlib
import re
import sys

LAYERS = {
    "core": 0,   # identity, canonical JSON, digests, redaction, matching, clock
    "shim": 0,   # the preloaded determinism shim: nothing of ours at all
    "store": 1,  # the Store interface, SQLite and PostgreSQL
    "trace": 2,  # the exchange and event format, divergence
    "net": 2,    # HTTP plumbing with no retrace meaning
    "conditions": 3,
    "sim": 3,    # the simulated provider: net and core only
    "analysis": 4,
    "replay": 4,  # the cassette
    "interop": 4,  # attestations (in-toto, DSSE); later OTLP, HAR, cassettes
    "proxy": 5,
    "run": 6,
    "probe": 7,
    "query": 8,  # what --json prints and /api/v1 serves: the runs, events, probes
    "cli": 10,  # one file per subcommand: everything below, web included
    "web": 9,
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"retrace/(\w+)/([\w/.]+)"', re.M)


def room_of(path, root):
    for base in (root / "src", root / "include" / "retrace"):
        try:
            parts = path.relative_to(base).parts
        except ValueError:
            continue
        return parts[0] if len(parts) > 1 else None
    return None


def check_layers(files, root):
    problems = []
    for path in files:
        room = room_of(path, root)
        if room is None:
            continue
        if room not in LAYERS:
            problems.append(f"{path}: room '{room}' has no layer in {__file__}")
            continue
        text = path.read_text()
        for m in INCLUDE.finditer(text):
            other = m.group(1)
            if other == room:
                continue
            line = text.count("\n", 0, m.start()) + 1
            if other not in LAYERS:
                problems.append(f"{path}:{line}: includes unknown room '{other}'")
            elif LAYERS[other] >= LAYERS[room]:
                problems.append(f"{path}:{line}: {room} (layer {LAYERS[room]}) includes "
                                f"{other} (layer {LAYERS[other]}): dependencies point downward")
    return problems


def check_cycles(root):
    headers = {}
    for path in (root / "include" / "retrace").rglob("*.hpp"):
        name = str(path.relative_to(root / "include"))
        headers[name] = [f"retrace/{m.group(1)}/{m.group(2)}" for m in INCLUDE.finditer(path.read_text())]
    problems, state = [], {}

    def visit(h, stack):
        if state.get(h) == "done" or h not in headers:
            return
        if state.get(h) == "open":
            problems.append("include cycle: " + " -> ".join(stack[stack.index(h):] + [h]))
            return
        state[h] = "open"
        for inc in headers[h]:
            visit(inc, stack + [h])
        state[h] = "done"

    for h in sorted(headers):
        visit(h, [])
    return problems


def self_test():
    """The control: an upward include and a cycle are found."""
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        root = pathlib.Path(d)
        for rel, text in {
            "include/retrace/core/a.hpp": '#include "retrace/proxy/p.hpp"\n',
            "include/retrace/proxy/p.hpp": '#include "retrace/core/a.hpp"\n',
            "src/sim/s.cpp": '#include "retrace/replay/r.hpp"\n#include "retrace/net/n.hpp"\n',
            "src/run/ok.cpp": '#include "retrace/proxy/p.hpp"\n',
        }.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)
        files = sorted(root.rglob("*.[ch]pp"))
        layers = check_layers(files, root)
        assert len(layers) == 2 and "core (layer 0) includes proxy" in layers[0] \
            and "sim (layer 3) includes replay" in layers[1], layers
        cycles = check_cycles(root)
        assert cycles == ["include cycle: retrace/core/a.hpp -> retrace/proxy/p.hpp -> "
                          "retrace/core/a.hpp"], cycles


def main(root):
    self_test()
    root = pathlib.Path(root).resolve()
    files = sorted(list((root / "src").rglob("*.[ch]pp")) +
                   list((root / "include" / "retrace").rglob("*.hpp")))
    problems = check_layers(files, root) + check_cycles(root)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
