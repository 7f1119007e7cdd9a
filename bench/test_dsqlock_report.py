#!/usr/bin/env python3
"""bench/dsqlock-report.py reads what bench/dsqlock.sh prints: rates are the
acquisitions of every lock of every repetition over their summed seconds
(and over their summed context switches),
the contended share is spins over acquisitions, and a median comes from the
histograms summed over repetitions (one repetition alone would give another
bucket here). Lines that are not results, or whose tracer printed nothing,
are skipped."""
import importlib.util
import json
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("dsqlock_report", os.path.join(here, "dsqlock-report.py"))
rep = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rep)

NB = 76


def lo(b):
    # bpf/costprobe.h AN_COST_LO with AN_COST_MIN_LOG 6, written out again.
    return (64 << (b // 4)) * (4 + b % 4) // 4


def hist(**at):
    h = [0] * NB
    for b, c in at.items():
        h[int(b[1:])] = c
    return h


def run(secs, locks, kinds, ctxt=0):
    return {"tool": "dsqlock", "secs": secs, "ctxt": ctxt, "getppid_ns": 900.0, "getppid_traced_ns": 1500.0, "lost": 1,
            "locks": [{"id": i, "acq": a, "slow": s} for i, (a, s) in enumerate(locks)],
            "kinds": [{"name": n, "cnt": sum(h), "ns": 0, "hist": h} for n, h in kinds.items()]}


def line(cfg, wl, data):
    return "[  12.3] @@DSQLOCK " + json.dumps({"config": cfg, "workload": wl, "data": data}) + "\n"


failed = 0


def expect(what, got, want):
    global failed
    ok = abs(got - want) <= 1e-9 * max(1.0, abs(want))
    print(("ok" if ok else "FAIL") + f": {what}: {got} (want {want})")
    failed += not ok


log = [
    "boot noise @@DSQLOCK {not json\n",
    line("llc", "hackbench", run(2.0, [(1000, 100), (3000, 0)], {"hold": hist(b10=3, b20=2), "wait": hist(b8=1)}, 1000)),
    line("llc", "hackbench", run(6.0, [(2000, 300)], {"hold": hist(b20=2), "wait": hist(b8=1)}, 2000)),
    line("llc", "wakebench", None),
    '@@DSQLOCK-PLAIN {"config":"llc","secs":1.5}\n',
    '@@DSQLOCK-PLAIN {"config":"llc","secs":2.5}\n',
    '@@DSQLOCK-PLAIN {"config":"node","secs":9.0}\n',
]
res = rep.summarise(log)
f = res[("llc", "hackbench")]
expect("runs", f["runs"], 2)
expect("acquisitions per second: all locks, all runs, summed seconds", f["acq_per_s"], 6000 / 8.0)
expect("acquisitions per context switch, summed", f["acq_per_switch"], 6000 / 3000)
expect("context switches per second", f["switch_per_s"], 3000 / 8.0)
expect("share that spun", f["contended"], 400 / 6000)
# run 1 alone: 3 of 5 holds in bucket 10; summed: 4 of 7 in bucket 20.
expect("hold median from the summed histograms", f["hold"][0], (lo(20) * lo(21)) ** 0.5)
expect("holds timed", f["hold"][2], 7)
expect("wait median", f["wait"][0], (lo(8) * lo(9)) ** 0.5)
expect("a kind nobody timed", f["probe_pair"][2], 0)
expect("untraced hackbench of its own configuration", f["untraced_secs"], 2.0)
expect("lost summed", f["lost"], 2)
expect("a run without output is not a result", float(("llc", "wakebench") in res), 0.0)
sys.exit(1 if failed else 0)
