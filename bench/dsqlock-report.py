#!/usr/bin/env python3
"""Summarise bench/dsqlock.sh's @@DSQLOCK lines from a VM console log: per
configuration and workload, the DSQ locks' acquisitions per second and per
context switch, the share that had to spin, and the median and 90th percentile of wait and
hold (histograms summed over repetitions; medians because under emulation
the host's descheduling of vCPUs swamps every mean, bpf/costprobe.h).

    bench/dsqlock-report.py CONSOLE.LOG
"""
import importlib.util
import json
import os
import statistics
import sys
from collections import defaultdict

_spec = importlib.util.spec_from_file_location(
    "costprobe_report", os.path.join(os.path.dirname(os.path.abspath(__file__)), "costprobe-report.py"))
_cp = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_cp)
pct = _cp.pct

KINDS = ("wait", "hold", "wait_irqsave", "hold_irqsave", "wait_contended", "probe_pair")


def records(lines, tag):
    """The JSON objects of the lines carrying TAG (a word then a space)."""
    for line in lines:
        i = line.find(tag + " ")
        if i < 0:
            continue
        try:
            yield json.loads(line[i + len(tag) + 1:])
        except ValueError:
            continue


def summarise(lines):
    """{(config, workload): figures} from a console log's lines."""
    lines = list(lines)
    runs = defaultdict(list)
    for r in records(lines, "@@DSQLOCK"):
        if isinstance(r.get("data"), dict):
            runs[(r["config"], r["workload"])].append(r["data"])
    plain = defaultdict(list)
    for r in records(lines, "@@DSQLOCK-PLAIN"):
        plain[r["config"]].append(r["secs"])
    out = {}
    for key, ds in sorted(runs.items()):
        hists = {}
        for d in ds:
            for k in d.get("kinds", []):
                h = hists.setdefault(k["name"], [0] * len(k["hist"]))
                for b, c in enumerate(k["hist"]):
                    h[b] += c
        acq = sum(lk["acq"] for d in ds for lk in d.get("locks", []))
        slow = sum(lk["slow"] for d in ds for lk in d.get("locks", []))
        secs = sum(d.get("secs", 0) for d in ds)
        ctxt = sum(d.get("ctxt", 0) for d in ds)
        f = {
            "runs": len(ds),
            "locks": statistics.median(len(d.get("locks", [])) for d in ds),
            "acq_per_s": acq / secs if secs else 0.0,
            "contended": slow / acq if acq else 0.0,
            "acq_per_switch": acq / ctxt if ctxt else 0.0,
            "switch_per_s": ctxt / secs if secs else 0.0,
            "secs": statistics.median(d.get("secs", 0) for d in ds),
            "getppid_ns": statistics.median(d.get("getppid_ns", 0) for d in ds),
            "getppid_traced_ns": statistics.median(d.get("getppid_traced_ns", 0) for d in ds),
            "lost": sum(d.get("lost", 0) for d in ds),
        }
        for k in KINDS:
            h = hists.get(k)
            f[k] = (pct(h, .5), pct(h, .9), sum(h)) if h and sum(h) else (0.0, 0.0, 0)
        if key[1] == "hackbench" and plain.get(key[0]):
            f["untraced_secs"] = statistics.median(plain[key[0]])
        out[key] = f
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with open(sys.argv[1], errors="replace") as fh:
        res = summarise(fh)
    for (cfg, wl), f in res.items():
        print(f"== {cfg} {wl}: {f['runs']} run(s) of {f['secs']:.1f} s, {f['locks']:.0f} DSQ locks, "
              f"getppid {f['getppid_ns']:.0f} ns ({f['getppid_traced_ns']:.0f} traced), lost {f['lost']}"
              + (f", untraced {f['untraced_secs']:.1f} s" if "untraced_secs" in f else ""))
        print(f"  acquisitions {f['acq_per_s']:.0f}/s, {100 * f['contended']:.1f} % spun; "
              f"{f['switch_per_s']:.0f} context switches/s, {f['acq_per_switch']:.2f} acquisitions per switch")
        for k in KINDS:
            p50, p90, n = f[k]
            print(f"  {k:15s} p50 {p50:8.0f}  p90 {p90:8.0f} ns  {n:9d} timed")


if __name__ == "__main__":
    main()
