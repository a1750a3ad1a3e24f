#!/usr/bin/python3
"""End-to-end throughput comparisons against real peers, side by side in one run.

Each case is a shell pipeline that moves one input file; every case of a group runs on the same
input, interleaved round by round (so a slow moment of the machine hits all of them), ROUNDS
times. The report gives the median throughput in MB/s of input moved per second, the ratio to the
group's reference case, and (for compressing cases) the output/input size ratio.

  bench/e2e.py [--rounds 5] [--groups buffer,codecs] [--json out.json] [--markdown out.md]
               [--plot out.png] [--update docs/benchmarks.json]

--update FILE replaces the rows of the groups run now in an earlier --json file and keeps the
others, so one group can be measured again and the plot still shows every group.

Inputs come from bench/make_stream.sh (a real zfs send stream and random data).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("ZSEND_BIN", os.path.join(ROOT, "build", "bin"))
DATA = os.environ.get("ZSEND_BENCH_DIR", "/dev/shm/zsend-bench")
ENGINE = os.path.join(BIN, "zsend-engine")

INPUTS = {
    "zfs-stream": os.path.join(DATA, "zfs-stream.bin"),
    "random": os.path.join(DATA, "random.bin"),
}


def buffer_group():
    mem = "-m 256M -s 1M"
    return {
        "title": "Buffering a pipe: `cat IN | TOOL | cat > /dev/null`",
        "reference": "mbuffer",
        "inputs": ["zfs-stream", "random"],
        "cases": [
            ("cat", "cat {input} | cat | cat > /dev/null"),
            ("mbuffer", f"cat {{input}} | mbuffer -q -Q {mem} | cat > /dev/null"),
            ("zsend-engine buffer", f"cat {{input}} | {ENGINE} buffer -q {mem} | cat > /dev/null"),
        ],
    }


def codec_group():
    eng = f"{ENGINE} buffer -q -m 256M -s 1M"
    return {
        "title": "Compressing a pipe (1 GiB of the zfs send stream): `cat IN | COMPRESSOR > OUT`",
        "reference": None,
        "inputs": ["zfs-stream-1g"],
        "cases": [
            ("zstd -1 -T0", "cat {input} | zstd -q -1 -T0 > {output}"),
            ("zsend-engine --compress zstd:1", f"cat {{input}} | {eng} --compress zstd:1 > {{output}}"),
            ("gzip -1", "cat {input} | gzip -1 > {output}"),
            ("pigz -1", "cat {input} | pigz -1 > {output}"),
            ("zsend-engine --compress gzip:1", f"cat {{input}} | {eng} --compress gzip:1 > {{output}}"),
        ],
        "pairs": [("zsend-engine --compress zstd:1", "zstd -1 -T0"),
                  ("zsend-engine --compress gzip:1", "gzip -1"),
                  ("zsend-engine --compress gzip:1", "pigz -1")],
    }


# --- network: sender and receiver on this host, over loopback or a tbf-limited veth pair ----

SLICE = os.path.join(DATA, "zfs-stream-1g.bin")
NET = {}  # filled by setup_network(): ssh args, keys, namespace commands


def setup_network(work):
    """Keys, a private sshd on 127.0.0.1 and in the namespace pair, and the namespaces."""
    if not os.path.exists(SLICE):
        subprocess.run(f"head -c 1G {INPUTS['zfs-stream']} > {SLICE}", shell=True, check=True)
    run = lambda c: subprocess.run(c, shell=True, check=True, capture_output=True, text=True)
    run(f"ssh-keygen -q -t ed25519 -N '' -f {work}/host && ssh-keygen -q -t ed25519 -N '' -f {work}/client")
    run(f"cp {work}/client.pub {work}/authorized_keys && {ENGINE} keygen -o {work}/sender >/dev/null")
    os.makedirs("/run/sshd", exist_ok=True)
    # The namespaces: zbA (sender) 10.201.0.1 <-> zbB (receiver) 10.201.0.2, 1 Gbit/s tbf.
    subprocess.run("ip netns del zbA; ip netns del zbB", shell=True, capture_output=True)
    run("ip netns add zbA && ip netns add zbB && ip link add veth0 netns zbA type veth peer name veth0 netns zbB")
    for ns, addr in (("zbA", "10.201.0.1"), ("zbB", "10.201.0.2")):
        run(f"ip -n {ns} addr add {addr}/24 dev veth0 && ip -n {ns} link set veth0 up && ip -n {ns} link set lo up")
        run(f"ip netns exec {ns} tc qdisc add dev veth0 root tbf rate 1gbit burst 500kb latency 25ms")
    procs = []
    for name, ns, addr, port in (("lo", "", "127.0.0.1", 22220), ("ns", "ip netns exec zbB ", "10.201.0.2", 22221)):
        with open(f"{work}/sshd_{name}", "w") as f:
            f.write(f"Port {port}\nListenAddress {addr}\nHostKey {work}/host\nAuthorizedKeysFile {work}/authorized_keys\n"
                    "UsePAM no\nStrictModes no\nPermitRootLogin prohibit-password\nPasswordAuthentication no\n"
                    f"PidFile {work}/sshd_{name}.pid\n")
        procs.append(subprocess.Popen(f"{ns}/usr/sbin/sshd -D -e -f {work}/sshd_{name}", shell=True,
                                      stderr=subprocess.DEVNULL))
        NET[name] = {"host": addr, "ns_send": "ip netns exec zbA " if ns else "", "ns_recv": ns,
                     "ssh": f"ssh -p {port} -i {work}/client -o StrictHostKeyChecking=no "
                            f"-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR root@{addr}"}
    time.sleep(1)
    NET["key"] = f"{work}/sender"
    return procs


def teardown_network(procs):
    for p in procs:
        p.terminate()
    subprocess.run(["pkill", "-f", "sshd -D -e -f /tmp/zsend-e2e"], capture_output=True)
    for ns in ("zbA", "zbB"):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def engine_pair(where, codec):
    n = NET[where]
    return (f"coproc R {{{{ {n['ns_recv']}{ENGINE} recv --listen {n['host']}:0 --once --announce -q "
            f"--authorize $(cat {NET['key']}.pub) -o /dev/null; }}}}; read -r line <&${{{{R[0]}}}}; "
            "port=$(sed -E 's/.*\"port\":([0-9]+).*/\\1/' <<<\"$line\"); "
            "pub=$(sed -E 's/.*\"pubkey\":\"([^\"]+)\".*/\\1/' <<<\"$line\"); "
            f"{n['ns_send']}{ENGINE} send -q --connect {n['host']}:$port --peer $pub --key {NET['key']} "
            f"--codec {codec} -i {{input}}; s=$?; wait $R_PID; r=$?; exit $((s | r))")


def mbuffer_pair(where):
    n = NET[where]
    port = 23330 if where == "lo" else 23331
    return (f"{n['ns_recv']}mbuffer -q -Q -m 256M -s 1M -I {port} -o /dev/null & r=$!; "
            f"for i in $(seq 100); do {n['ns_recv']}ss -ltn | grep -q ':{port} ' && break; sleep 0.05; done; "
            f"{n['ns_send']}mbuffer -q -Q -m 256M -s 1M -i {{input}} -O {n['host']}:{port}; s=$?; wait $r; exit $((s | $?))")


def network_group():
    lo, ns = "lo", "ns"
    ssh = lambda w, extra="": f"{NET[w]['ns_send']}{NET[w]['ssh']} {extra}"
    return {
        "title": "Moving a zfs send stream (the whole 3.3 GB stream, and its first 1 GiB) to a receiver on this host: loopback, then a 1 Gbit/s tbf link between two network namespaces",
        "reference": None,
        "inputs": ["zfs-stream", "zfs-stream-1g"],
        "setup": setup_network,
        "teardown": teardown_network,
        "cases": [
            ("loopback: ssh -c aes128-gcm", lambda: f"cat {{input}} | {ssh(lo, '-c aes128-gcm@openssh.com')} 'cat > /dev/null'"),
            ("loopback: mbuffer -O/-I (plaintext)", lambda: mbuffer_pair(lo)),
            ("loopback: zsend-engine --codec none (encrypted)", lambda: engine_pair(lo, "none")),
            ("loopback: zstd -1 -T0 | ssh | zstd -d", lambda: f"zstd -q -1 -T0 -c {{input}} | {ssh(lo, '-c aes128-gcm@openssh.com')} 'zstd -q -d > /dev/null'"),
            ("loopback: zsend-engine --codec auto", lambda: engine_pair(lo, "auto")),
            ("1 Gbit/s: mbuffer -O/-I (plaintext)", lambda: mbuffer_pair(ns)),
            ("1 Gbit/s: ssh -c aes128-gcm", lambda: f"cat {{input}} | {ssh(ns, '-c aes128-gcm@openssh.com')} 'cat > /dev/null'"),
            ("1 Gbit/s: zsend-engine --codec auto", lambda: engine_pair(ns, "auto")),
        ],
        "pairs": [("loopback: zsend-engine --codec none (encrypted)", "loopback: ssh -c aes128-gcm"),
                  ("loopback: zsend-engine --codec none (encrypted)", "loopback: mbuffer -O/-I (plaintext)"),
                  ("loopback: zsend-engine --codec auto", "loopback: zstd -1 -T0 | ssh | zstd -d"),
                  ("1 Gbit/s: zsend-engine --codec auto", "1 Gbit/s: mbuffer -O/-I (plaintext)"),
                  ("1 Gbit/s: zsend-engine --codec auto", "1 Gbit/s: ssh -c aes128-gcm")],
        "link_rate": 125e6,
    }


INPUTS["zfs-stream-1g"] = SLICE
GROUPS = {"buffer": buffer_group, "codecs": codec_group, "network": network_group}


def run_case(command, input_path, output_path):
    cmd = command.format(input=input_path, output=output_path)
    start = time.monotonic()
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd!r} failed ({proc.returncode}): {proc.stderr.strip()[:300]}")
    out_size = os.path.getsize(output_path) if os.path.exists(output_path) else None
    return elapsed, out_size


def run_group(name, group, rounds):
    results = []
    procs = None
    if group.get("setup"):
        import tempfile
        work = tempfile.mkdtemp(prefix="zsend-e2e")
        procs = group["setup"](work)
        group["cases"] = [(label, c() if callable(c) else c) for label, c in group["cases"]]
    try:
        results = run_cases(name, group, rounds)
    finally:
        if group.get("teardown"):
            group["teardown"](procs)
    return results


def run_cases(name, group, rounds):
    results = []
    for input_name in group["inputs"]:
        path = INPUTS[input_name]
        if not os.path.exists(path):
            sys.exit(f"missing input {path}: run bench/make_stream.sh first")
        size = os.path.getsize(path)
        times = {label: [] for label, _ in group["cases"]}
        ratios = {}
        out = os.path.join(DATA, "out.bin")
        subprocess.run(["cat", path], stdout=subprocess.DEVNULL, check=True)  # warm the cache
        for r in range(rounds):
            for label, command in group["cases"]:
                if os.path.exists(out):
                    os.unlink(out)
                elapsed, out_size = run_case(command, path, out)
                times[label].append(elapsed)
                if out_size is not None:
                    ratios[label] = out_size / size
                print(f"  [{name}/{input_name} round {r + 1}] {label}: "
                      f"{size / elapsed / 1e6:.0f} MB/s", file=sys.stderr)
        if os.path.exists(out):
            os.unlink(out)
        for label, _ in group["cases"]:
            median = statistics.median(times[label])
            results.append({"group": name, "input": input_name, "case": label,
                            "bytes": size, "median_seconds": median,
                            "mb_per_s": size / median / 1e6,
                            "runs": [size / t / 1e6 for t in times[label]],
                            "size_ratio": ratios.get(label)})
    return results


def markdown(groups, results):
    lines = []
    for name, group in groups.items():
        rows = [r for r in results if r["group"] == name]
        if not rows:
            continue
        lines.append(f"### {group['title']}\n")
        ref = group.get("reference")
        head = "| input | case | median MB/s | runs (MB/s) |"
        sep = "|---|---|---:|---|"
        if ref:
            head += f" vs {ref} |"
            sep += "---:|"
        if any(r["size_ratio"] for r in rows):
            head += " output/input |"
            sep += "---:|"
        lines += [head, sep]
        for r in rows:
            line = (f"| {r['input']} | {r['case'].replace('|', '&#124;')} | {r['mb_per_s']:.0f} | "
                    + ", ".join(f"{x:.0f}" for x in r["runs"]) + " |")
            if ref:
                base = next(x for x in rows if x["input"] == r["input"] and x["case"] == ref)
                line += f" {r['mb_per_s'] / base['mb_per_s']:.2f}x |"
            if any(x["size_ratio"] for x in rows):
                line += f" {r['size_ratio']:.3f} |" if r["size_ratio"] else " |"
            lines.append(line)
        if group.get("link_rate"):
            for r in rows:
                if r["case"].startswith("1 Gbit/s"):
                    lines.append(f"\n{r['input']}: {r['case']}: "
                                 f"{r['mb_per_s'] * 1e6 / group['link_rate']:.2f}x "
                                 "the link rate in stream bytes per second")
        for a, b in group.get("pairs", []):
            for inp in group["inputs"]:
                ra = next((x for x in rows if x["input"] == inp and x["case"] == a), None)
                rb = next((x for x in rows if x["input"] == inp and x["case"] == b), None)
                if ra and rb:
                    lines.append(f"\n{inp}: **{a}** is {ra['mb_per_s'] / rb['mb_per_s']:.2f}x "
                                 f"**{b}**" + (f", size ratio {ra['size_ratio'] / rb['size_ratio']:.3f}"
                                               if ra["size_ratio"] and rb["size_ratio"] else ""))
        lines.append("")
    return "\n".join(lines)


def plot(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    labels = [f"{r['group']}/{r['input']}\n{r['case']}" for r in results]
    values = [r["mb_per_s"] for r in results]
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(results) + 1.2))
    ax.barh(range(len(values)), values, color="#3b75af")
    ax.set_yticks(range(len(values)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("median MB/s (higher is better)")
    for i, v in enumerate(values):
        ax.text(v, i, f" {v:.0f}", va="center", fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--groups", default=",".join(GROUPS))
    p.add_argument("--json")
    p.add_argument("--markdown")
    p.add_argument("--plot")
    p.add_argument("--update", help="earlier --json results to update in place")
    args = p.parse_args()
    groups = {g: GROUPS[g]() for g in args.groups.split(",")}
    results = []
    for name, group in groups.items():
        results += run_group(name, group, args.rounds)
    md = markdown(groups, results)
    print(md)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(md)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    if args.update:
        with open(args.update) as f:
            earlier = [r for r in json.load(f) if r["group"] not in groups]
        results = earlier + results
        with open(args.update, "w") as f:
            json.dump(results, f, indent=1)
    if args.plot:
        plot(results, args.plot)


if __name__ == "__main__":
    main()
