#!/usr/bin/env python3
"""Soak: `zsend backup` with a random fault injected in every run, each followed by a clean run.

Each round changes a few files on the source, starts `zsend backup` (rate-limited, so the stream
can be cut mid-way), injects one fault picked at random from the fault matrix (docs/reliability.md)
into a part of the run (SIGKILL, SIGTERM or SIGSTOP of zsend, either engine, `zfs send` or
`zfs receive`, or no fault), waits for zsend to end, then checks what the run left:

  false success   zsend exited 0 but the target's newest snapshot is not the source's newest, or
                  its content differs from the source
  lost snapshot   a snapshot the target had before the round is gone, or the source and target no
                  longer share a snapshot once one had landed
  leftover        a process of the run (anything naming the soak's pools) is still alive, or
                  zsend's private TMPDIR is not empty, or the history shows a run still `running`
  hung            zsend did not end within --deadline seconds of the fault
  clean failed    the clean run after the faulted one did not complete a correct backup

and prints the runs, the faults by kind and these counts; the exit status is 1 when any count
except the faults is non-zero. Pools are file-backed zfs-fuse pools named after this process
(wtsoak_*_PID), destroyed at the end.

  bench/soak.py [--runs 100] [--seed 1] [--transports tcp,pipe] [--only KIND] [--json out.json]

Needs root, a running zfs-fuse (scripts/zfs-fuse-up.sh) and build/bin/{zsend,zsend-engine}.
A round takes about 10 s; 100 rounds about 15 minutes.
"""
import argparse
import collections
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("ZSEND_BIN", os.path.join(ROOT, "build", "bin"))
ZSEND = os.path.join(BIN, "zsend")
ENGINE = os.path.join(BIN, "zsend-engine")

PARTS = ("zsend", "send-engine", "recv-engine", "zfs-send", "zfs-receive")
SIGNALS = {"KILL": signal.SIGKILL, "TERM": signal.SIGTERM, "STOP": signal.SIGSTOP}
# The engines exist only in the tcp transport. In pipe (zfs send | buffer | zfs receive) the
# buffer takes the whole small stream from zfs send at once, so only the receive can be cut.
PIPE_PARTS = ("zsend", "zfs-receive")


def sh(*argv, check=True):
    r = subprocess.run(argv, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {r.returncode}: {r.stderr.strip()}")
    return r


def pids(pattern):
    r = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True)
    return [int(p) for p in r.stdout.split()]


class Soak:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        pid = os.getpid()
        self.src_pool, self.dst_pool = f"wtsoak_src_{pid}", f"wtsoak_dst_{pid}"
        self.src = self.src_pool + "/data"
        self.target = f"{self.dst_pool}/{self.src}"
        self.job = "soak"
        self.work = tempfile.mkdtemp(prefix="zsend-soak-")
        self.state = os.path.join(self.work, "state")
        self.tmp = os.path.join(self.work, "tmp")
        os.makedirs(self.state)
        os.makedirs(self.tmp)
        self.pools = []
        self.counts = collections.Counter()
        self.faults = collections.Counter()
        self.events = []

    # --- setup and teardown ---------------------------------------------------------------
    def make_pool(self, name):
        img = os.path.join(self.work, name + ".img")
        with open(img, "wb") as f:
            f.truncate(256 << 20)
        sh("zpool", "create", "-m", os.path.join(self.work, name), name, img)
        self.pools.append(name)

    def setup(self):
        self.make_pool(self.src_pool)
        self.make_pool(self.dst_pool)
        # Comparing files must not modify the backup (atime), or the next receive refuses it.
        sh("zfs", "set", "atime=off", self.dst_pool)
        sh("zfs", "create", self.src)
        self.change(0)

    def teardown(self):
        subprocess.run(["pkill", "-CONT", "-f", "wtsoak_.*_" + str(os.getpid())])
        subprocess.run(["pkill", "-KILL", "-f", "wtsoak_.*_" + str(os.getpid())])
        time.sleep(0.5)
        for pool in self.pools:
            for _ in range(5):
                if sh("zpool", "destroy", "-f", pool, check=False).returncode == 0:
                    break
                time.sleep(1)
        shutil.rmtree(self.work, ignore_errors=True)

    def mountpoint(self, dataset):
        return sh("zfs", "get", "-H", "-o", "value", "mountpoint", dataset).stdout.strip()

    def change(self, round_no):
        """Rewrites one of eight 1 MB files, so every round sends an increment of about 1 MB."""
        path = os.path.join(self.mountpoint(self.src), f"f{round_no % 8}.bin")
        with open(path, "wb") as f:
            f.write(self.rng.randbytes(1 << 20))

    def snapshots(self, dataset):
        r = sh("zfs", "list", "-H", "-o", "name", "-t", "snapshot", "-r", dataset, check=False)
        if r.returncode != 0:
            return []
        return [line.split("@", 1)[1] for line in r.stdout.split() if line.startswith(dataset + "@")]

    # --- one run --------------------------------------------------------------------------
    def argv(self, transport, faulted):
        argv = [ZSEND, "backup", self.job, self.dst_pool, "--dataset", self.src,
                "--transport", transport, "--state-dir", self.state,
                "--keep-source", "5", "--keep-target", "10"]
        if faulted:
            argv += ["--rate-limit", "256k", "--timeout", "3", "--command-timeout", "20"]
        return argv

    def pattern(self, part):
        if part == "send-engine":
            return f"^{ENGINE} send .*{self.src_pool}"
        if part == "recv-engine":
            return f"^{ENGINE} recv .*{self.dst_pool}"
        if part == "zfs-send":
            return f"^zfs send .*{self.src_pool}"
        if part == "zfs-receive":
            return f"^zfs receive .*{self.dst_pool}"
        return None

    def start(self, transport, faulted):
        env = dict(os.environ, TMPDIR=self.tmp)
        log = open(os.path.join(self.work, "run.log"), "w")
        return subprocess.Popen(self.argv(transport, faulted), stdout=log, stderr=subprocess.STDOUT,
                                env=env, start_new_session=True)

    def inject(self, proc, part, sig):
        """Waits for the receive to run (the stream is moving), then signals `part`."""
        end = time.monotonic() + 30
        while time.monotonic() < end and proc.poll() is None:
            if pids(f"receive .*{self.dst_pool}"):
                break
            time.sleep(0.05)
        time.sleep(self.rng.uniform(0.2, 2.5))
        if proc.poll() is not None:
            return False
        if part == "zsend":
            proc.send_signal(sig)
            return True
        found = pids(self.pattern(part))
        for pid in found:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        return bool(found)

    def leftovers(self):
        for _ in range(30):
            left = pids(f"wtsoak_(src|dst)_{os.getpid()}")
            if not left:
                return []
            time.sleep(0.1)
        return left

    def history(self):
        r = sh(ZSEND, "history", self.job, "--state-dir", self.state, "--limit", "0", check=False)
        return r.stdout

    def differences(self):
        """"" when the target's files equal the source's, else what diff says."""
        # zfs-fuse lets the kernel cache file pages: a receive that replaced a file under a
        # mounted target may leave the old pages visible until the cache is dropped.
        subprocess.run(["sync"])
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        r = subprocess.run(["diff", "-r", "-q", self.mountpoint(self.src), self.mountpoint(self.target)],
                           capture_output=True, text=True)
        return "" if r.returncode == 0 else (r.stdout + r.stderr).strip()[:300]

    def record(self, kind, round_no, detail):
        self.counts[kind] += 1
        self.events.append({"round": round_no, "kind": kind, "detail": detail})
        print(f"  round {round_no}: {kind}: {detail}", flush=True)

    def pick(self):
        transport = self.rng.choice(self.args.transports)
        parts = list(PARTS if transport == "tcp" else PIPE_PARTS)
        choice = self.rng.choice(parts + ["none"])
        signame = self.rng.choice(list(SIGNALS)) if choice != "none" else ""
        if choice == "zsend" and signame == "STOP":
            signame = "TERM"  # a stopped zsend stops the run by design: nothing to time out
        kind = f"{transport}:{choice}:{signame}" if signame else f"{transport}:none"
        return transport, choice, signame, kind

    def round(self, round_no):
        transport, choice, signame, kind = self.pick()
        while self.args.only and self.args.only not in kind:
            transport, choice, signame, kind = self.pick()
        self.change(round_no)
        before = set(self.snapshots(self.target))
        had_common = bool(before & set(self.snapshots(self.src)))
        proc = self.start(transport, faulted=True)
        hit = True
        if signame:
            hit = self.inject(proc, choice, SIGNALS[signame])
        self.faults[kind if hit else kind + " (missed: run ended first)"] += 1
        try:
            code = proc.wait(timeout=self.args.deadline)
        except subprocess.TimeoutExpired:
            tree = sh("ps", "-eo", "pid,stat,wchan:20,args", check=False).stdout.splitlines()
            tree = [line[:160] for line in tree if f"_{os.getpid()}" in line]
            with open(os.path.join(self.work, "run.log")) as f:
                tail = f.read().splitlines()[-12:]
            self.record("hung", round_no, f"{kind}: processes {tree}; zsend said {tail}")
            os.killpg(proc.pid, signal.SIGKILL)
            code = proc.wait()
        left = self.leftovers()
        subprocess.run(["pkill", "-CONT", "-f", f"wtsoak_(src|dst)_{os.getpid()}"])
        if left:
            self.record("leftover", round_no, f"{kind}: processes {left}")
            subprocess.run(["pkill", "-KILL", "-f", f"wtsoak_(src|dst)_{os.getpid()}"])
        if code == 0:
            newest_src = self.snapshots(self.src)[-1:]
            newest_dst = self.snapshots(self.target)[-1:]
            diff = self.differences()
            if newest_src != newest_dst or diff:
                self.record("false success", round_no,
                            f"{kind}: exit 0, source {newest_src}, target {newest_dst}: {diff}")
        after = set(self.snapshots(self.target))
        # Rotation keeps the newest 10 on the target: only an older one may go.
        gone = sorted(before - after)
        if gone and len(after) < 10:
            self.record("lost snapshot", round_no, f"{kind}: target lost {gone}")
        if had_common and not (after & set(self.snapshots(self.src))):
            self.record("lost snapshot", round_no, f"{kind}: no common snapshot left")
        # The clean run: no fault, no limit.
        clean = self.start(transport, faulted=False)
        try:
            clean_code = clean.wait(timeout=self.args.deadline)
        except subprocess.TimeoutExpired:
            os.killpg(clean.pid, signal.SIGKILL)
            clean_code = clean.wait()
        diff = self.differences()
        if clean_code != 0 or diff:
            with open(os.path.join(self.work, "run.log")) as f:
                why = [l.strip() for l in f if "cannot" in l or "FAILED" in l or "error" in l]
            self.record("clean failed", round_no,
                        f"after {kind}: exit {clean_code}: {why[:4]} {diff}")
        # A killed zsend's directory is swept and its history row closed by the clean run.
        if os.listdir(self.tmp):
            self.record("leftover", round_no, f"{kind}: TMPDIR holds {os.listdir(self.tmp)}")
            for name in os.listdir(self.tmp):
                shutil.rmtree(os.path.join(self.tmp, name), ignore_errors=True)
        history = self.history()
        if "running" in history:
            self.record("leftover", round_no, f"{kind}: a history row still running: {history!r}")
        return kind, code

    def run(self):
        self.setup()
        start = time.monotonic()
        for i in range(1, self.args.runs + 1):
            kind, code = self.round(i)
            print(f"round {i}/{self.args.runs}: {kind} -> exit {code}", flush=True)
        return time.monotonic() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--transports", default="tcp,pipe")
    parser.add_argument("--deadline", type=float, default=120,
                        help="seconds a run may take before it counts as hung")
    parser.add_argument("--only", default="",
                        help="only faults whose kind contains this (e.g. tcp:zfs-receive:STOP)")
    parser.add_argument("--json")
    args = parser.parse_args()
    args.transports = args.transports.split(",")
    for program in (ZSEND, ENGINE):
        if not os.access(program, os.X_OK):
            sys.exit(f"{program} not found: build first (scripts/build.sh build)")
    soak = Soak(args)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that teardown runs
    try:
        seconds = soak.run()
    finally:
        soak.teardown()
    result = {
        "runs": args.runs,
        "seed": args.seed,
        "seconds": round(seconds),
        "faults": dict(sorted(soak.faults.items())),
        "false_successes": soak.counts["false success"],
        "lost_snapshots": soak.counts["lost snapshot"],
        "leftovers": soak.counts["leftover"],
        "hung": soak.counts["hung"],
        "clean_runs_failed": soak.counts["clean failed"],
        "events": soak.events,
    }
    print(f"\n{args.runs} runs in {seconds:.0f} s (seed {args.seed})")
    for kind, n in sorted(soak.faults.items()):
        print(f"  {n:4d}  {kind}")
    for key in ("false_successes", "lost_snapshots", "leftovers", "hung", "clean_runs_failed"):
        print(f"{key}: {result[key]}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    bad = sum(result[k] for k in ("false_successes", "lost_snapshots", "leftovers", "hung",
                                  "clean_runs_failed"))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
