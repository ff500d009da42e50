#!/usr/bin/env python3
"""The fidelity suite: does retrace find what it exists to find?

Each scenario under tests/fidelity/scenarios/ is a small program with a
planted bug and a scenario.json that declares how to start the sim for it,
how to record it, what varies between attempts, the pass/fail oracle (the
program's exit code), the verdict `retrace diff` must give and the words
and JSON paths of the cause it must name, and for the stochastic ones a
probe and its expected verdict (docs/fidelity.md).

For each scenario the driver records runs until it has a passing and a
failing one (at most max_attempts), replays the failing one K times with the
sim stopped and a tripwire as every upstream, diffs pass against fail, and
runs the probe against a fresh sim. It prints a table and the score line

    fidelity: reproduced R/N, cause named C/N, probe verdicts P/Q

and exits 0 only when every failure reproduced K/K, every cause was named
and every probe verdict was right.

    RETRACE_BIN=build/retrace python3 tests/fidelity/run.py [--k 3] [--jobs 2] [--only a,b] [--keep] [-v]
"""

import argparse
import concurrent.futures
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIOS = os.path.join(HERE, "scenarios")
SOURCE = os.environ.get("RETRACE_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
# The sims running now, stopped if the driver itself is stopped (a test
# timeout sends SIGTERM).
LIVE_SIMS = set()


def stop_live_sims(signum, frame):
    for sim in list(LIVE_SIMS):
        sim.kill()
    os._exit(128 + signum)


def pick_python():
    """The interpreter for the scenarios' programs: one with numpy (the
    training scenario), Debian's first; a version manager's shim on PATH
    costs hundreds of milliseconds per start and may lack Debian's numpy."""
    candidates = ["/usr/bin/python3", shutil.which("python3"), sys.executable]
    for c in candidates:
        if c and os.path.exists(c):
            if subprocess.run([c, "-c", "import numpy"], capture_output=True).returncode == 0:
                return c
    return next(c for c in candidates if c and os.path.exists(c))


class Tripwire:
    """A listener that counts every connection made to it and answers
    nothing: proof that a replay reached no provider."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        self.connections = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            c.close()

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


class Scenario:
    def __init__(self, directory, opts, python):
        self.dir = directory
        with open(os.path.join(directory, "scenario.json")) as f:
            self.spec = json.load(f)
        self.name = os.path.basename(directory)
        self.opts = opts
        self.python = python
        self.log_lines = []
        self.sim = None
        self.result = {"scenario": self.name, "language": self.spec["language"],
                       "reproduced": 0, "verdict": "-", "cause_named": False,
                       "probe": None, "probe_ok": None, "notes": []}

    # -- helpers ---------------------------------------------------------
    def log(self, text):
        self.log_lines.append(text)
        if self.opts.verbose:
            print("[%s] %s" % (self.name, text), file=sys.stderr, flush=True)

    def expand(self, args, attempt=None):
        out = []
        for a in args:
            a = a.replace("{python}", self.python).replace("{src}", SOURCE)
            if attempt is not None:
                a = a.replace("{attempt}", str(attempt))
            out.append(a)
        return out

    def base_env(self):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("OPENAI_", "ANTHROPIC_", "RETRACE_"))}
        env["PATH"] = "/usr/bin:/bin:" + env.get("PATH", "")
        env["RETRACE_STORE"] = os.path.join(self.work, "store")
        env["NO_COLOR"] = "1"
        env["PYTHONPATH"] = os.path.join(SOURCE, "sdk", "python")
        env.update(self.spec.get("env", {}))
        return env

    def run(self, args, env, timeout=120, check=False):
        p = subprocess.run(args, cwd=self.prog, env=env, capture_output=True, text=True,
                           timeout=timeout)
        if check and p.returncode != 0:
            raise RuntimeError("%s exited %d: %s" % (" ".join(args), p.returncode,
                                                     p.stderr.strip()[-800:]))
        return p

    def retrace(self, args, env, **kw):
        return self.run([self.opts.bin] + args, env, **kw)

    def start_sim(self, flags):
        out = open(os.path.join(self.work, "sim.out"), "w+")
        err = open(os.path.join(self.work, "sim.err"), "w")
        self.sim = subprocess.Popen([self.opts.bin, "sim", "--port", "0"] + flags,
                                    stdout=out, stderr=err, cwd=self.work)
        LIVE_SIMS.add(self.sim)
        for _ in range(500):
            out.seek(0)
            line = out.readline()
            if line.startswith("listening on "):
                return line[len("listening on "):].strip()
            if self.sim.poll() is not None:
                break
            time.sleep(0.01)
        raise RuntimeError("sim did not start: " + open(err.name).read())

    def stop_sim(self):
        if self.sim and self.sim.poll() is None:
            self.sim.terminate()
            try:
                self.sim.wait(10)
            except subprocess.TimeoutExpired:
                self.sim.kill()
                self.sim.wait()
        LIVE_SIMS.discard(self.sim)
        self.sim = None

    def latest_run(self, env):
        p = self.retrace(["runs", "--json", "--limit", "1"], env, check=True)
        return json.loads(p.stdout)[0]["id"]

    def command(self):
        return self.expand(self.spec["command"])

    # -- the phases ------------------------------------------------------
    def record_until_pass_and_fail(self, url):
        passing = failing = None
        attempts = self.spec.get("attempts", [])
        limit = self.spec.get("max_attempts", 8)
        for n in range(1, limit + 1):
            env = self.base_env()
            env["OPENAI_BASE_URL"] = url + "/v1"
            env["ANTHROPIC_BASE_URL"] = url
            vary = attempts[min(n, len(attempts)) - 1] if attempts else {}
            env.update(vary.get("env", {}))
            for step in vary.get("setup", []):
                self.run(self.expand(step, n), env, check=True)
            args = self.expand(vary["args"]) if "args" in vary else self.command()
            rec = self.retrace(["record", "--name", "%s.attempt" % self.name]
                               + self.expand(self.spec.get("record", [])) + ["--"] + args, env)
            run_id = self.latest_run(env)
            ok = rec.returncode == 0
            self.log("attempt %d: exit %d (%s) %s" % (n, rec.returncode, "pass" if ok else "fail",
                                                      run_id))
            if not ok:
                self.log("  output: " + " | ".join((rec.stdout + rec.stderr).strip().splitlines()[-3:])[:300])
            if ok and passing is None:
                passing = (run_id, rec.returncode)
            if not ok and failing is None:
                failing = (run_id, rec.returncode)
            if passing and failing:
                self.result["attempts"] = n
                return passing, failing
        self.result["attempts"] = limit
        return passing, failing

    def replay(self, failing):
        run_id, exit_code = failing
        trip = Tripwire()
        try:
            env = self.base_env()
            for k in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
                env.pop(k, None)  # replay needs no credentials
            env["OPENAI_BASE_URL"] = trip.url + "/v1"
            env["ANTHROPIC_BASE_URL"] = trip.url
            good = 0
            for i in range(self.opts.k):
                p = self.retrace(["replay", run_id, "--json"], env)
                doc = last_json_document(p.stdout)
                verdict = doc.get("verdict") if doc else None
                same_exit = doc is not None and doc.get("exit_code") == exit_code
                if verdict == "reproduced" and same_exit and not doc.get("divergences") \
                        and trip.connections == 0:
                    good += 1
                else:
                    self.log("replay %d: verdict %s exit %s (recorded %d), %d connection(s) "
                             "upstream; %s" % (i + 1, verdict, doc and doc.get("exit_code"),
                                               exit_code, trip.connections,
                                               "; ".join(p.stderr.strip().splitlines()[-4:])))
            if trip.connections:
                self.result["notes"].append("%d connection(s) reached the tripwire"
                                            % trip.connections)
            return good
        finally:
            trip.close()

    def diff(self, passing, failing):
        env = self.base_env()
        p = self.retrace(["diff", passing[0], failing[0], "--json"], env)
        report = json.loads(p.stdout)
        verdict, explanation = report["verdict"], report["explanation"]
        self.log("diff: %s: %s" % (verdict, explanation))
        want = self.spec["diff"]
        named = verdict == want["verdict"]
        line = verdict + ": " + explanation
        for word in want.get("cause", []):
            if word not in line:
                named = False
                self.log("  the verdict does not name %r" % word)
        paths = report_paths(report)
        for path in want.get("paths", []):
            if not any(p.startswith(path) for p in paths):
                named = False
                self.log("  the report names no path %r (it names %s)" % (path, sorted(paths)))
        self.result["verdict"] = verdict
        self.result["explanation"] = explanation
        return named

    def probe(self):
        spec = self.spec["probe"]
        url = self.start_sim(self.expand(spec.get("sim", self.spec["sim"])))
        try:
            env = self.base_env()
            env["OPENAI_BASE_URL"] = url + "/v1"
            env["ANTHROPIC_BASE_URL"] = url
            env.update(spec.get("env", {}))
            args = (["probe", "--k", str(spec["k"]), "--jobs", "1", "--name", self.name + ".probe",
                     "--json"] + self.expand(spec.get("args", []))
                    + self.expand(self.spec.get("record", [])) + ["--"]
                    + self.expand(spec.get("command", self.spec["command"])))
            p = self.retrace(args, env, timeout=300)
            doc = last_json_document(p.stdout)
            if doc is None:
                self.log("probe: no JSON (exit %d): %s" % (p.returncode, p.stderr.strip()[-400:]))
                return None
            runs = doc.get("runs") or []
            self.log("probe: %s (%d of %d runs failed)" % (
                doc.get("verdict"), sum(not r.get("passed") for r in runs), len(runs)))
            return doc.get("verdict")
        finally:
            self.stop_sim()

    def execute(self):
        self.work = tempfile.mkdtemp(prefix="retrace-fidelity-%s-" % self.name)
        self.prog = os.path.join(self.work, "prog")
        started = time.monotonic()
        try:
            shutil.copytree(self.dir, self.prog)
            if self.spec["language"] == "node":
                os.symlink(os.path.join(SOURCE, "tests", "node", "node_modules"),
                           os.path.join(self.prog, "node_modules"))
            url = self.start_sim(self.expand(self.spec["sim"]))
            try:
                passing, failing = self.record_until_pass_and_fail(url)
            finally:
                self.stop_sim()
            if not passing or not failing:
                self.result["notes"].append("no %s run in %d attempts"
                                            % ("passing" if not passing else "failing",
                                               self.result["attempts"]))
                return self.result
            self.result["reproduced"] = self.replay(failing)
            self.result["cause_named"] = self.diff(passing, failing)
            if "probe" in self.spec:
                verdict = self.probe()
                self.result["probe"] = verdict
                self.result["probe_ok"] = bool(verdict) and \
                    verdict.startswith(self.spec["probe"]["verdict"])
        except Exception as e:  # reported in the table, counted as a miss
            self.result["notes"].append("error: %s" % e)
            self.log("error: %s" % e)
        finally:
            self.stop_sim()
            self.result["seconds"] = time.monotonic() - started
            if self.opts.keep:
                self.log("kept " + self.work)
            else:
                shutil.rmtree(self.work, ignore_errors=True)
        return self.result


def last_json_document(text):
    """The JSON document a command printed after the program's own output."""
    lines = text.splitlines()
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].startswith("{"):
            try:
                return json.loads("\n".join(lines[i:]))
            except ValueError:
                continue
    return None


def report_paths(report):
    """Every JSON path a diff report names: declared sections, backend, the
    first divergence's request and response."""
    paths = set()
    for diffs in report["conditions"]["declared"].values():
        paths.update(d["path"] for d in diffs)
    paths.update(d["path"] for d in report["conditions"]["backend"])
    first = report["trajectory"].get("first_divergence") or {}
    for key in ("request_diff", "response_diff"):
        paths.update(d["path"] for d in first.get(key, []))
    return paths


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--k", type=int, default=3, help="replays of each failing run (default 3)")
    ap.add_argument("--jobs", type=int, default=2, help="scenarios run at once (default 2)")
    ap.add_argument("--only", default="", help="comma-separated scenario names")
    ap.add_argument("--keep", action="store_true", help="keep each scenario's temp dir")
    ap.add_argument("-v", "--verbose", action="store_true", help="log each step on stderr")
    opts = ap.parse_args()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, stop_live_sims)
    opts.bin = os.environ.get("RETRACE_BIN")
    if not opts.bin:
        print("fidelity: RETRACE_BIN must point at the retrace binary", file=sys.stderr)
        return 2
    opts.bin = os.path.realpath(opts.bin)
    python = pick_python()
    names = sorted(d for d in os.listdir(SCENARIOS)
                   if os.path.exists(os.path.join(SCENARIOS, d, "scenario.json")))
    if opts.only:
        wanted = opts.only.split(",")
        names = [n for n in names if n in wanted]
    scenarios = [Scenario(os.path.join(SCENARIOS, n), opts, python) for n in names]
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, opts.jobs)) as pool:
        results = list(pool.map(lambda s: s.execute(), scenarios))

    print("%-20s %-7s %-10s %-34s %-6s %s" % ("scenario", "lang", "reproduced", "verdict", "cause",
                                             "probe verdict"))
    for s, r in zip(scenarios, results):
        probe = "-" if r["probe_ok"] is None else "%s (%s)" % (
            r["probe"] or "none", "right" if r["probe_ok"] else "WRONG")
        print("%-20s %-7s %-10s %-34s %-6s %s" % (
            r["scenario"], r["language"], "%d/%d" % (r["reproduced"], opts.k), r["verdict"],
            "yes" if r["cause_named"] else "NO", probe))
    failed = [(s, r) for s, r in zip(scenarios, results)
              if r["reproduced"] != opts.k or not r["cause_named"] or r["probe_ok"] is False]
    for s, r in failed:
        print("\n-- %s: %s" % (s.name, "; ".join(r["notes"])), file=sys.stderr)
        for line in s.log_lines:
            print("   " + line, file=sys.stderr)
    n = len(results)
    reproduced = sum(r["reproduced"] == opts.k for r in results)
    named = sum(bool(r["cause_named"]) for r in results)
    probes = [r for r in results if r["probe_ok"] is not None or "probe" in
              next(s.spec for s in scenarios if s.name == r["scenario"])]
    right = sum(bool(r["probe_ok"]) for r in probes)
    print("fidelity: reproduced %d/%d, cause named %d/%d, probe verdicts %d/%d"
          % (reproduced, n, named, n, right, len(probes)))
    print("fidelity: %d scenario(s) in %.0f s" % (n, time.monotonic() - started), file=sys.stderr)
    return 0 if reproduced == n and named == n and right == len(probes) else 1


if __name__ == "__main__":
    sys.exit(main())
