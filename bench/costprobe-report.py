#!/usr/bin/env python3
"""Summarise bench/costprobe.sh's @@COST lines from a VM console log:
per configuration and workload, ns per call of each callback (bpf_stats:
the mean) and of each probed section (the mean, and the median and 90th
percentile of the probe's histogram, summed over repetitions; see
bpf/costprobe.h for why the median is the figure to read).

    bench/costprobe-report.py CONSOLE.LOG
"""
import json
import statistics
import sys
from collections import defaultdict


MIN_LOG = 6  # bpf/costprobe.h AN_COST_MIN_LOG


def bucket_lo(b):
    return (1 << (b // 4 + MIN_LOG)) * (4 + b % 4) // 4


def pct(hist, q):
    """The q-quantile's bucket, as the bucket's geometric middle in ns."""
    n = sum(hist)
    if not n:
        return 0.0
    acc = 0
    for b, c in enumerate(hist):
        acc += c
        if acc >= q * n:
            return (bucket_lo(b) * bucket_lo(b + 1)) ** 0.5
    return float(bucket_lo(len(hist)))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    runs = defaultdict(list)
    with open(sys.argv[1], errors="replace") as f:
        for line in f:
            i = line.find("@@COST ")
            if i < 0:
                continue
            try:
                r = json.loads(line[i + 7:])
            except ValueError:
                continue
            runs[(r["config"], r["workload"])].append(r["data"])
    for (cfg, wl), ds in sorted(runs.items()):
        sc = statistics.median(d.get("syscall_ns", 0) for d in ds)
        print(f"== {cfg} {wl}: {len(ds)} run(s), getppid {sc:.0f} ns")
        rows = defaultdict(lambda: ([], []))
        hists = {}
        for d in ds:
            for p in d.get("progs", []):
                if p["run_cnt"]:
                    rows["cb " + p["name"]][0].append(p["ns_per_run"])
                    rows["cb " + p["name"]][1].append(p["run_cnt"])
            for p in d.get("probe") or []:
                if p["cnt"]:
                    rows["   " + p["name"]][0].append(p["ns_per_call"])
                    rows["   " + p["name"]][1].append(p["cnt"])
                    h = hists.setdefault("   " + p["name"], [0] * len(p["hist"]))
                    for b, c in enumerate(p["hist"]):
                        h[b] += c
        for name, (ns, cnt) in rows.items():
            h = hists.get(name)
            q = f"p50 {pct(h, .5):8.0f}  p90 {pct(h, .9):8.0f}" if h else " " * 23
            print(f"  {name:22s} mean {statistics.median(ns):10.0f}  {q} ns  "
                  f"{statistics.median(cnt):7.0f} calls  "
                  f"(means: {', '.join(f'{x:.0f}' for x in ns)})")


if __name__ == "__main__":
    main()
