#!/usr/bin/env python3
"""End-to-end throughput comparisons against real peers, side by side in one run.

Each case is a shell pipeline that moves one input file; every case of a group runs on the same
input, interleaved round by round (so a slow moment of the machine hits all of them), ROUNDS
times. The report gives the median throughput in MB/s of input moved per second, the ratio to the
group's reference case, and (for compressing cases) the output/input size ratio.

  bench/e2e.py [--rounds 5] [--groups buffer,codecs] [--json out.json] [--markdown out.md]
               [--plot out.png]

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
        "title": "Compressing a pipe: `cat IN | COMPRESSOR > OUT`",
        "reference": None,
        "inputs": ["zfs-stream"],
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


GROUPS = {"buffer": buffer_group, "codecs": codec_group}


def run_case(command, input_path, output_path):
    cmd = command.format(input=input_path, output=output_path)
    start = time.monotonic()
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True)
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd!r} failed ({proc.returncode}): {proc.stderr.strip()[:300]}")
    out_size = os.path.getsize(output_path) if os.path.exists(output_path) else None
    return elapsed, out_size


def run_group(name, group, rounds):
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
            line = (f"| {r['input']} | {r['case']} | {r['mb_per_s']:.0f} | "
                    + ", ".join(f"{x:.0f}" for x in r["runs"]) + " |")
            if ref:
                base = next(x for x in rows if x["input"] == r["input"] and x["case"] == ref)
                line += f" {r['mb_per_s'] / base['mb_per_s']:.2f}x |"
            if any(x["size_ratio"] for x in rows):
                line += f" {r['size_ratio']:.3f} |" if r["size_ratio"] else " |"
            lines.append(line)
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
    if args.plot:
        plot(results, args.plot)


if __name__ == "__main__":
    main()
