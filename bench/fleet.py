#!/usr/bin/python3
"""Many small datasets: `zsend backup` with default options against `syncoid -r`, side by side.

For each N in --datasets, a source pool gets a tree of N small filesystems (three 8 KiB files
each, marked zsend:fleet=true). zsend backs it up into one pool, syncoid into another, each
through the same route: locally, or pushed through a private sshd on 127.0.0.1 (--routes
local,ssh; the sshd is this script's own, with keys it generates and an empty HOME, so the
machine's ssh config and dotfiles play no part; its sessions find a `zfs` shim first on PATH
that gives syncoid the `zfs get -t snapshot` zfs-fuse lacks, see Sshd). Three phases per N, in this order, each timed
for both tools one right after the other:

  full       the first run (every dataset sent whole)
  unchanged  nothing changed since the last run
  changed    three datasets changed (one file rewritten in each)

The report gives seconds, milliseconds per dataset and syncoid/zsend per phase. zsend runs as a
user runs it: `zsend backup fleet DST` (plus --ssh-* and --remote-engine for the ssh route, and
a private --state-dir); nothing else. Pools are named wtfleet_*_PID and destroyed at the end.

  bench/fleet.py [--datasets 10,100] [--routes local,ssh,guest] [--zsend-only] [--unmounted]
                 [--json out.json] [--plot out.png]

--zsend-only times zsend alone (no syncoid pool, no syncoid runs): for zsend's own growth with N
(N=1000 and its ratio to N=100) in a fraction of the time; the table shows "-" for syncoid.
--unmounted sets mountpoint=none on the tree once its files are written (the changed phase
mounts its three datasets for the writes and unmounts them again), so neither side mounts the
N filesystems: zfs-fuse fails to remount a parent over a thousand mounted children ("mountpoint
or dataset is busy"). It is meant with --zsend-only: syncoid's copies (no -p) would still mount.

The `guest` route runs the same three phases locally on real OpenZFS 2.1 in the qemu guest of
scripts/openzfs-vm.sh (booted for the run unless it is up; this tree's zsend is copied in),
with the guest's own syncoid. The guest runs under emulation (TCG), so compare its two columns
with each other, not with the zfs-fuse rows.

Needs root, a running zfs-fuse (scripts/zfs-fuse-up.sh), build/bin/zsend and zsend-engine,
Debian's sanoid package (syncoid) and openssh-server for the ssh route. On zfs-fuse a run at
N=100 takes a few minutes per route; N=1000 takes most of an hour.
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("ZSEND_BIN", os.path.join(ROOT, "build", "bin"))
ZSEND = os.path.join(BIN, "zsend")
ENGINE = os.path.join(BIN, "zsend-engine")
PHASES = ("full", "unchanged", "changed")
CHANGED = 3


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


class Sshd:
    """A private sshd on 127.0.0.1 with generated keys and an empty HOME for its sessions."""

    def __init__(self, work):
        self.dir = os.path.join(work, "sshd")
        os.makedirs(os.path.join(self.dir, "home"))
        # syncoid lists snapshots with `zfs get -t snapshot`, which zfs-fuse lacks; its fallback
        # for a remote host puts the ssh command in twice (syncoid 2.1) and fails. The sessions
        # of this sshd find a `zfs` first on PATH that answers `get ... -t snapshot` with the
        # snapshot lines of a plain `get` and passes everything else through.
        shim = os.path.join(self.dir, "shim")
        os.makedirs(shim)
        with open(os.path.join(shim, "zfs"), "w") as f:
            f.write('#!/bin/sh\n'
                    'if [ "$1" = get ] && [ "$2" = -Hpd ] && [ "$4" = -t ] && [ "$5" = snapshot ]; then\n'
                    '  shift 5; /usr/sbin/zfs get -Hpd 1 "$@" | grep @; exit 0\n'
                    'fi\n'
                    'exec /usr/sbin/zfs "$@"\n')
        os.chmod(os.path.join(shim, "zfs"), 0o755)
        for key in ("host", "client"):
            sh("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(self.dir, key))
        shutil.copy(os.path.join(self.dir, "client.pub"), os.path.join(self.dir, "authorized"))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        config = os.path.join(self.dir, "sshd_config")
        with open(config, "w") as f:
            f.write(f"ListenAddress 127.0.0.1:{self.port}\nHostKey {self.dir}/host\n"
                    f"PidFile {self.dir}/sshd.pid\nAuthorizedKeysFile {self.dir}/authorized\n"
                    "UsePAM no\nPermitRootLogin prohibit-password\nPasswordAuthentication no\n"
                    "StrictModes no\nMaxStartups 100\nMaxSessions 100\n"
                    f"SetEnv HOME={self.dir}/home PATH={shim}:/usr/sbin:/usr/bin:/sbin:/bin\n")
        os.makedirs("/run/sshd", exist_ok=True)
        self.proc = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", config],
                                     stderr=subprocess.DEVNULL)
        with open(os.path.join(self.dir, "known_hosts"), "w") as f:
            f.write(f"[127.0.0.1]:{self.port} {open(self.dir + '/host.pub').read()}")
        self.options = [f"UserKnownHostsFile={self.dir}/known_hosts", "StrictHostKeyChecking=yes"]
        for _ in range(100):
            if sh("ssh", *self.ssh_args(), "root@127.0.0.1", "true", check=False).returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError("the private sshd does not answer")

    def ssh_args(self):
        args = ["-p", str(self.port), "-i", f"{self.dir}/client", "-o", "BatchMode=yes"]
        for option in self.options:
            args += ["-o", option]
        return args

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def make_pool(work, name, mib):
    img = os.path.join(work, name + ".img")
    with open(img, "wb") as f:
        f.truncate(mib << 20)
    sh("zpool", "create", "-m", os.path.join(work, name), name, img)


# Pools that could not be destroyed: their image files must stay (main keeps the work directory).
STUCK_POOLS = []


def destroy_pool(name):
    for _ in range(10):
        if sh("zpool", "destroy", "-f", name, check=False).returncode == 0:
            return
        time.sleep(0.5)
    STUCK_POOLS.append(name)
    print(f"could not destroy pool {name}; its image file is kept (zpool destroy -f {name}, "
          "then remove the zsend-fleet-* directory in the temporary directory)", file=sys.stderr)


def write_files(dataset, first, count):
    mnt = sh("zfs", "get", "-H", "-o", "value", "mountpoint", dataset).stdout.strip()
    for j in range(first, first + count):
        with open(os.path.join(mnt, f"f{j}"), "wb") as f:
            f.write(os.urandom(8192))


def run_route(n, route, sshd, work, with_syncoid=True, unmounted=False):
    """The three phases for N datasets over one route; returns {phase: {tool: seconds}}."""
    tag = f"{route}{n}_{os.getpid()}"
    src, zs, syn = (f"wtfleet_{role}{tag}" for role in ("s", "z", "y"))
    size = max(256, 64 + n // 2)
    pools = []
    try:
        for pool in (src, zs, syn) if with_syncoid else (src, zs):
            make_pool(work, pool, size)
            pools.append(pool)
        sh("zfs", "create", f"{src}/tree")
        sh("zfs", "set", "zsend:fleet=true", f"{src}/tree")
        for i in range(n):
            sh("zfs", "create", f"{src}/tree/d{i:04d}")
            write_files(f"{src}/tree/d{i:04d}", 0, 3)
        if unmounted:
            sh("zfs", "set", "mountpoint=none", f"{src}/tree")
        zsend = [ZSEND, "backup", "fleet", zs, "--state-dir", os.path.join(work, f"state{tag}")]
        syncoid = ["syncoid", "-r", "--quiet", "--no-privilege-elevation", f"{src}/tree"]
        if route == "ssh":
            zsend += ["--ssh-target", "root@127.0.0.1", "--ssh-port", str(sshd.port),
                      "--ssh-identity", f"{sshd.dir}/client", "--remote-engine", ENGINE]
            for option in sshd.options:
                zsend += ["--ssh-option", option]
            syncoid += [f"--sshport={sshd.port}", f"--sshkey={sshd.dir}/client"]
            for option in sshd.options:
                syncoid += [f"--sshoption={option}"]
            syncoid.append(f"root@127.0.0.1:{syn}/tree")
        else:
            syncoid.append(f"{syn}/tree")
        results = {}
        for phase in PHASES:
            if phase == "changed":
                for i in range(min(CHANGED, n)):
                    dataset = f"{src}/tree/d{i:04d}"
                    if unmounted:
                        sh("zfs", "set", f"mountpoint={work}/{tag}-changed{i}", dataset)
                    write_files(dataset, 0, 1)
                    if unmounted:  # zfs-fuse may still hold the new mount a moment
                        for attempt in range(10):
                            if sh("zfs", "inherit", "mountpoint", dataset,
                                  check=attempt == 9).returncode == 0:
                                break
                            time.sleep(0.5)
            results[phase] = {"zsend": timed(zsend)}
            if with_syncoid:
                results[phase]["syncoid"] = timed(syncoid)
        return results
    finally:
        for pool in reversed(pools):
            destroy_pool(pool)


# The three phases on real OpenZFS, run in the guest with `sh -s N`: prints "PHASE TOOL SECONDS".
GUEST_SCRIPT = r'''
set -eu
n=$1
tag=wtfleet$$
size=$((256 + n / 2))
cleanup() {
  for p in s z y; do zpool destroy -f $tag$p 2>/dev/null || true; rm -f /var/tmp/$tag$p.img; done
  rm -rf /var/tmp/${tag}state
}
trap cleanup EXIT
for p in s z y; do
  truncate -s ${size}M /var/tmp/$tag$p.img
  zpool create -O mountpoint=/var/tmp/$tag$p $tag$p /var/tmp/$tag$p.img
done
zfs create ${tag}s/tree
zfs set zsend:fleet=true ${tag}s/tree
i=0
while [ $i -lt $n ]; do
  d=$(printf d%04d $i)
  zfs create ${tag}s/tree/$d
  for j in 0 1 2; do head -c 8192 /dev/urandom > /var/tmp/${tag}s/tree/$d/f$j; done
  i=$((i + 1))
done
timed() {
  start=$(date +%s.%N)
  "$@" > /var/tmp/$tag.log 2>&1 || { cat /var/tmp/$tag.log >&2; exit 1; }
  end=$(date +%s.%N)
  awk -v s=$start -v e=$end 'BEGIN { printf "%.3f\n", e - s }'
}
for phase in full unchanged changed; do
  if [ $phase = changed ]; then
    i=0
    while [ $i -lt 3 ] && [ $i -lt $n ]; do
      head -c 8192 /dev/urandom > /var/tmp/${tag}s/tree/$(printf d%04d $i)/f0
      i=$((i + 1))
    done
    zpool sync ${tag}s
  fi
  echo "$phase zsend $(timed zsend backup fleet ${tag}z --state-dir /var/tmp/${tag}state)"
  echo "$phase syncoid $(timed syncoid -r --quiet --no-privilege-elevation ${tag}s/tree ${tag}y/tree)"
done
'''


def run_guest(n):
    """The three phases for N datasets on OpenZFS in the guest; returns {phase: {tool: s}}."""
    vm = os.path.join(ROOT, "scripts", "openzfs-vm.sh")
    r = subprocess.run([vm, "ssh", f"sh -s {n}"], input=GUEST_SCRIPT, capture_output=True,
                       text=True)
    if r.returncode != 0:
        raise RuntimeError(f"the guest's fleet run exited {r.returncode}: {r.stderr.strip()[-1500:]}")
    results = {}
    for line in r.stdout.splitlines():
        phase, tool, seconds = line.split()
        results.setdefault(phase, {})[tool] = float(seconds)
    return results


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(PHASES), figsize=(12, 4), sharey=False)
    for ax, phase in zip(axes, PHASES):
        for route in sorted({r["route"] for r in rows}):
            mine = sorted((r for r in rows if r["route"] == route), key=lambda r: r["datasets"])
            for tool, style in (("zsend", "-o"), ("syncoid", "--s")):
                have = [r for r in mine if tool in r["results"][phase]]
                if not have:
                    continue
                ax.plot([r["datasets"] for r in have],
                        [r["results"][phase][tool] for r in have], style,
                        label=f"{tool} ({route})")
        ax.set_title(phase)
        ax.set_xlabel("datasets")
        ax.set_ylabel("seconds")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="10,100", help="comma-separated N values")
    parser.add_argument("--routes", default="local,ssh", help="local, ssh or both")
    parser.add_argument("--zsend-only", action="store_true", help="time zsend alone")
    parser.add_argument("--unmounted", action="store_true", help="mountpoint=none on the tree")
    parser.add_argument("--json")
    parser.add_argument("--plot")
    args = parser.parse_args()
    if args.unmounted and "guest" in args.routes.split(","):
        sys.exit("--unmounted is for the zfs-fuse routes (local, ssh)")
    if not args.zsend_only and shutil.which("syncoid") is None:
        sys.exit("syncoid not found: apt-get install sanoid")
    counts = [int(n) for n in args.datasets.split(",")]
    routes = args.routes.split(",")
    work = tempfile.mkdtemp(prefix="zsend-fleet-")
    sshd = Sshd(work) if "ssh" in routes else None
    vm = os.path.join(ROOT, "scripts", "openzfs-vm.sh")
    guest_started = False
    rows = []
    try:
        if "guest" in routes and sh(vm, "status", check=False).returncode != 0:
            subprocess.run([vm, "up"], check=True, env=dict(os.environ, ZSEND_VM_BIN=BIN))
            guest_started = True
        for n in counts:
            for route in routes:
                results = (run_guest(n) if route == "guest" else
                           run_route(n, route, sshd, work, not args.zsend_only, args.unmounted))
                rows.append({"datasets": n, "route": route, "results": results})
                print(f"done: {n} datasets, {route}", file=sys.stderr)
    finally:
        if sshd:
            sshd.stop()
        if guest_started:
            sh(vm, "down", check=False)
        if not STUCK_POOLS:
            shutil.rmtree(work, ignore_errors=True)

    print("| datasets | route | phase | zsend s | syncoid s | zsend ms/dataset | "
          "syncoid ms/dataset | syncoid / zsend |")
    print("|---:|---|---|---:|---:|---:|---:|---:|")
    for row in rows:
        n = row["datasets"]
        for phase in PHASES:
            t = row["results"][phase]
            if "syncoid" in t:
                syncoid = (f"{t['syncoid']:.2f}", f"{1000 * t['syncoid'] / n:.0f}",
                           f"{t['syncoid'] / t['zsend']:.2f}x")
            else:
                syncoid = ("-", "-", "-")
            print(f"| {n} | {row['route']} | {phase} | {t['zsend']:.2f} | {syncoid[0]} | "
                  f"{1000 * t['zsend'] / n:.0f} | {syncoid[1]} | {syncoid[2]} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"changed": CHANGED, "rows": rows}, f, indent=2)
    if args.plot:
        plot(rows, args.plot)


if __name__ == "__main__":
    main()
