#!/usr/bin/env python3
"""`zsend backup` against `syncoid -r` on the same job, side by side in one run.

A tree of DATASETS small filesystems (a few files each) on a file-backed source pool is backed
up to a second pool by zsend and to a third by syncoid: first a full run, then (after a few
files change in CHANGED datasets) an incremental run. Prints both timings per phase and the
ratio. Pools are named after this process (wtbench_*_PID) and destroyed at the end.

  bench/backup_vs_syncoid.py [--datasets 50] [--changed 3] [--json out.json]

Needs root, a running zfs-fuse (scripts/zfs-fuse-up.sh), build/bin/zsend and Debian's sanoid
package (syncoid). Keep it short on a shared machine: the defaults take about a minute.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ZSEND = os.path.join(os.environ.get("ZSEND_BIN", os.path.join(ROOT, "build", "bin")), "zsend")


def sh(*argv, check=True):
    r = subprocess.run(argv, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {r.returncode}: {r.stderr.strip()}")
    return r


def timed(argv):
    start = time.monotonic()
    r = subprocess.run(argv, capture_output=True, text=True)
    seconds = time.monotonic() - start
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:3])}... exited {r.returncode}: "
                           f"{(r.stderr or r.stdout).strip()[-1500:]}")
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=50)
    parser.add_argument("--changed", type=int, default=3)
    parser.add_argument("--json")
    args = parser.parse_args()
    if shutil.which("syncoid") is None:
        sys.exit("syncoid not found: apt-get install sanoid")
    pid = os.getpid()
    pools = {role: f"wtbench_{role}_{pid}" for role in ("src", "zs", "syn")}
    work = tempfile.mkdtemp(prefix="zsend-bench-")
    created = []
    results = {}
    try:
        for role, pool in pools.items():
            img = os.path.join(work, pool + ".img")
            with open(img, "wb") as f:
                f.truncate(256 << 20)
            sh("zpool", "create", "-m", os.path.join(work, pool), pool, img)
            created.append(pool)
        src = pools["src"]
        sh("zfs", "create", f"{src}/tree")
        sh("zfs", "set", "zsend:bench=true", f"{src}/tree")
        for i in range(args.datasets):
            ds = f"{src}/tree/d{i:02d}"
            sh("zfs", "create", ds)
            mnt = sh("zfs", "get", "-H", "-o", "value", "mountpoint", ds).stdout.strip()
            for j in range(3):
                with open(os.path.join(mnt, f"f{j}"), "wb") as f:
                    f.write(os.urandom(8192))

        zsend = [ZSEND, "backup", "bench", pools["zs"], "--transport", "pipe", "--jobs", "2",
                 "--readonly", "--state-dir", os.path.join(work, "state")]
        syncoid = ["syncoid", "-r", "--quiet", "--no-privilege-elevation", f"{src}/tree",
                   f"{pools['syn']}/tree"]
        results["full"] = {"zsend": timed(zsend + ["--snapshot-name", "full"]),
                           "syncoid": timed(syncoid)}
        for i in range(args.changed):
            mnt = sh("zfs", "get", "-H", "-o", "value", "mountpoint",
                     f"{src}/tree/d{i:02d}").stdout.strip()
            with open(os.path.join(mnt, "f0"), "wb") as f:
                f.write(os.urandom(8192))
        results["incremental"] = {"zsend": timed(zsend + ["--snapshot-name", "incr"]),
                                  "syncoid": timed(syncoid)}
    finally:
        for pool in reversed(created):
            for _ in range(10):
                if sh("zpool", "destroy", "-f", pool, check=False).returncode == 0:
                    break
                time.sleep(0.5)
        shutil.rmtree(work, ignore_errors=True)

    print(f"{args.datasets} datasets, {args.changed} changed before the incremental run")
    print(f"{'phase':<12} {'zsend s':>9} {'syncoid s':>10} {'syncoid/zsend':>14}")
    for phase, t in results.items():
        print(f"{phase:<12} {t['zsend']:>9.2f} {t['syncoid']:>10.2f} "
              f"{t['syncoid'] / t['zsend']:>13.2f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"datasets": args.datasets, "changed": args.changed, "results": results},
                      f, indent=2)


if __name__ == "__main__":
    main()
