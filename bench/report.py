#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Side-by-side report of a bench VM run.

    bench/report.py --log console.log [--out DIR] [--no-plot]

Reads the "@@BENCH {json}" lines bench/guest.sh printed on the VM console,
prints one table of medians over the repetitions with each configuration's
ratio to the kernel's default scheduler, then PASS/FAIL per target. With
--out it also writes results.json, table.txt and plot.png (gnuplot).

Exit status: 0 every target passes, 1 a target fails, 2 no usable data.
Standard library only.
"""
import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys

MARK = "@@BENCH "
BASE = "default"

# (key, label, unit, better): better is "up", "down" or None (context only).
AI_METRICS = [
    ("locality_pct", "locality", "%", "up"),
    # The same during the warm-up and in the measured window's second half
    # (homes and memory settled): where memory follows its task, it climbs.
    ("locality_warmup_pct", " ..in warm-up", "%", None),
    ("locality_late_pct", " ..settled", "%", "up"),
    ("throughput_bps", "throughput", "batch/s", "up"),
    ("wake_p50_us", "wake p50", "us", "down"),
    ("wake_p99_us", "wake p99", "us", "down"),
    ("wake_max_us", "wake max", "us", "down"),
    # Where the launcher ran when woken (ai_pipeline's wake_paths): context.
    ("wake_waker_pct", "on waker CPU", "%", None),   # the hand-off path
    ("wake_waker_p99_us", " ..its p99", "us", None),
    ("wake_prev_pct", "on prev CPU", "%", None),
    ("wake_prev_p99_us", " ..its p99", "us", None),
    ("wake_node_pct", "on other CPU", "%", None),
    ("wake_node_p99_us", " ..its p99", "us", None),
    # The same wakes by what the launcher found on its CPU (wake_kinds):
    # an idle CPU or queued behind another task (hand-off is "on waker CPU").
    ("wake_idle_pct", "path: idle CPU", "%", None),
    ("wake_idle_p99_us", " ..its p99", "us", None),
    ("wake_queue_pct", "path: queue", "%", None),
    ("wake_queue_p99_us", " ..its p99", "us", None),
    ("xnode_per_s", "x-node migr", "/s", "down"),
    ("migr_per_s", "all migr", "/s", "down"),
    ("cpu_util_pct", "CPU busy", "%", None),
    ("batch_ms", "batch compute", "ms", "down"),
    ("home_moved_pct", "pages moved", "%", None),
    ("stalls", "stalls", "", "down"),
]
OTHER_METRICS = [
    ("hackbench", "msgs_per_s", "hackbench", "msg/s", "up"),
    ("stress_ng", "bogo_ops_s", "stress-ng cpu", "bogo/s", "up"),
    ("wakebench", "requests_per_s", "wakebench", "req/s", "up"),
    ("wakebench", "p50_us", "wakebench p50", "us", "down"),
    ("wakebench", "p99_us", "wakebench p99", "us", "down"),
    ("wakebench", "max_us", "wakebench max", "us", "down"),
    ("wakebench", "on_waker_pct", "wb on waker CPU", "%", None),
    ("wakebench", "same_node_pct", "wb on waker node", "%", None),
    ("cyclictest", "p50_us", "cyclictest p50", "us", "down"),
    ("cyclictest", "p99_us", "cyclictest p99", "us", "down"),
    ("cyclictest", "max_us", "cyclictest max", "us", "down"),
]
# Each ai workload may also run with loader processes (WORKLOAD_procs) and
# under the NUMA cost model (..._cm). ai_firsttouch: loader processes whose
# buffers another thread first-touched on node 0 (memory follows the task).
AI_BASE = ["ai_fit", "ai_imbalance", "ai_noise"]
AI_WORKLOADS = [w + p + c for p in ("", "_procs") for c in ("", "_cm") for w in AI_BASE] + \
    ["ai_firsttouch", "ai_firsttouch_cm"]


def wl_label(w):
    """A workload's name in the table: loader processes and the cost model say so."""
    return w.replace("_procs", "+procs").replace("_cm", "+cost")
# gnuplot refuses a plot without points: draw an empty frame with a note.
NO_BPF_PLOT = """set label 1 "not measured" at graph 0.4,0.5
set xrange [0:1]
set yrange [0:1]
plot -1 notitle"""


def parse_log(path):
    """Records from the console log; lines cut by kernel output are counted, not fatal."""
    records, bad = [], 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            i = line.find(MARK)
            if i < 0:
                continue
            try:
                rec = json.loads(line[i + len(MARK):].strip())
                if not isinstance(rec, dict) or "workload" not in rec or "data" not in rec:
                    raise ValueError("not a bench record")
                records.append(rec)
            except ValueError:
                bad += 1
    return records, bad


def hist_percentile(hist, overflow, overflow_value, pct):
    """Nearest-rank percentile of a {value: count} histogram plus overflow samples."""
    total = sum(hist.values()) + overflow
    if total == 0:
        return None
    rank = max(1, math.ceil(pct / 100.0 * total))
    seen = 0
    for value in sorted(hist):
        seen += hist[value]
        if seen >= rank:
            return float(value)
    return float(overflow_value)


def cyclictest_summary(data):
    """Merge cyclictest's per-thread histograms (1 us buckets) into p50/p99/max."""
    hist, cycles, mx = {}, 0, 0
    for t in (data.get("thread") or {}).values():
        for k, v in (t.get("histogram") or {}).items():
            hist[int(k)] = hist.get(int(k), 0) + int(v)
        cycles += int(t.get("cycles", 0))
        mx = max(mx, int(t.get("max", 0)))
    overflow = max(0, cycles - sum(hist.values()))
    if not cycles:
        return {}
    return {
        "p50_us": hist_percentile(hist, overflow, mx, 50),
        "p99_us": hist_percentile(hist, overflow, mx, 99),
        "max_us": float(mx),
        "count": cycles,
    }


def run_metrics(rec):
    """The numbers one run contributes, by metric key."""
    w, d = rec["workload"], rec["data"]
    if w.startswith("ai_"):
        secs = d.get("duration_s") or 0
        lat = d.get("wake_lat_us") or {}
        m = {
            "locality_pct": d.get("locality_pct"),
            "locality_warmup_pct": d.get("locality_warmup_pct"),
            "locality_late_pct": d.get("locality_late_pct"),
            "throughput_bps": d.get("throughput_bps"),
            "wake_p50_us": lat.get("p50"),
            "wake_p99_us": lat.get("p99"),
            "wake_max_us": lat.get("max"),
            "xnode_per_s": d.get("xnode_migrations_per_s"),
            "migr_per_s": d["migrations"] / secs if secs and d.get("migrations", -1) >= 0 else None,
            "cpu_util_pct": d.get("cpu_util_pct"),
            "batch_ms": d.get("batch_compute_ms"),
            "home_moved_pct": d.get("home_moved_pct"),
            "stalls": d.get("stalls"),
        }
        paths = d.get("wake_paths") or {}
        kinds = d.get("wake_kinds") or {}
        for kind in ("handoff", "idle", "queue"):
            kd = kinds.get(kind) or {}
            m["wake_%s_pct" % kind] = kd.get("pct")
            m["wake_%s_p99_us" % kind] = kd.get("p99") if kd.get("pct") else None
        for path in ("waker", "prev", "node"):
            pd = paths.get(path) or {}
            m["wake_%s_pct" % path] = pd.get("pct")
            m["wake_%s_p99_us" % path] = pd.get("p99") if pd.get("pct") else None
        if not lat.get("count"):
            for k in list(m):
                if k.startswith("wake_"):
                    m[k] = None
        return m
    if w == "hackbench":
        t = d.get("time_s") or 0
        return {"time_s": t, "msgs_per_s": d["messages"] / t if t > 0 else None}
    if w == "stress_ng":
        return {"bogo_ops_s": d.get("bogo_ops_s")}
    if w == "wakebench":
        lat = d.get("wake_lat_us") or {}
        return {"requests_per_s": d.get("requests_per_s"), "on_waker_pct": d.get("on_waker_cpu_pct"),
                "same_node_pct": d.get("same_node_pct"),
                "p50_us": lat.get("p50"),
                "p99_us": lat.get("p99"), "max_us": lat.get("max")}
    if w == "cyclictest":
        return cyclictest_summary(d)
    if w == "health":
        return {"kernel_stalls": d.get("kernel_stalls", 0), "detached": d.get("detached", 0)}
    return {}


def collect(records):
    meta, configs, values, stalls, bpf, daemon_records, migcost = {}, [], {}, {}, [], [], []
    for rec in records:
        w, c = rec["workload"], rec.get("config", "?")
        if w == "meta":
            meta = rec["data"]
            configs = meta.get("configs", "").split()
            continue
        if w == "bpf_cost":
            bpf.append(rec["data"])
            continue
        if w == "migcost":
            migcost.append(migcost_summary(rec["data"]))
            continue
        if w in ("sched_stats", "sched_stats_end", "tunables"):
            daemon_records.append(rec)
            continue
        if c not in configs:
            configs.append(c)
        for k, v in run_metrics(rec).items():
            if isinstance(v, (int, float)):
                values.setdefault((c, w, k), []).append(float(v))
        # Zero stalls is about every run, not the median one.
        s = 0
        if w.startswith("ai_"):
            s = rec["data"].get("stalls", 0)
        elif w == "health":
            s = rec["data"].get("kernel_stalls", 0) + rec["data"].get("detached", 0)
        stalls[c] = stalls.get(c, 0) + s
    medians = {key: statistics.median(v) for key, v in values.items() if v}
    return meta, configs, values, medians, stalls, bpf, daemon_records, migcost


def migcost_summary(d):
    """The daemon's CPU time as % of one CPU: baseline, while memory moved, at steady state."""
    hz = d.get("hz") or 100

    def pct(key):
        # Newer runs measure ns (schedstat); older ones clock ticks.
        ms, ns, ticks = d.get(key + "_ms"), d.get(key + "_ns"), d.get(key + "_ticks")
        if not ms:
            return None
        if ns is not None:
            return 100.0 * ns / 1e9 / (ms / 1000.0)
        return 100.0 * ticks / hz / (ms / 1000.0) if ticks is not None else None
    out = dict(d, base_pct=pct("base"), move_pct=pct("move"), steady_pct=pct("steady"))
    s0, s1 = d.get("split0"), d.get("split1")
    if isinstance(s0, dict) and isinstance(s1, dict) and d.get("steady_ms"):
        secs = d["steady_ms"] / 1000.0
        out["steady_split_us_per_s"] = {
            k: (s1[k] - s0[k]) / 1000.0 / secs
            for k in ("cpu_ns", "scan_cpu_ns", "gather_cpu_ns")
            if isinstance(s0.get(k), int) and isinstance(s1.get(k), int)}
    return out


def render_migcost(migcost):
    if not migcost:
        return "daemon CPU for memory migration: not measured"
    out = ["daemon CPU for memory migration (scx_ai_numad, all threads, % of one CPU;",
           "100 processes confined to the last node, 2 MB each first-touched on node 0):"]
    for d in migcost:
        out.append(f"  while moving   {fmt(d.get('move_pct'))} % over {d.get('move_ms', 0) / 1000:.1f} s "
                   f"({d.get('home_procs')} of {d.get('procs')} processes reached >= 90 % home)")
        after = f", from {d['after_home_ms'] / 1000:.0f} s after the last was home" if d.get("after_home_ms") else ""
        out.append(f"  steady state   {fmt(d.get('steady_pct'))} % over {d.get('steady_ms', 0) / 1000:.1f} s"
                   f"{after} ({d.get('alive')} processes alive at the end)")
        split = d.get("steady_split_us_per_s")
        if split:
            out.append("    of which, us of CPU per s: mover " + fmt(split.get("cpu_ns")) +
                       ", /proc pass " + fmt(split.get("scan_cpu_ns")) +
                       ", gathering " + fmt(split.get("gather_cpu_ns")))
        if d.get("base_ms"):
            out.append(f"  baseline       {fmt(d.get('base_pct'))} % over {d.get('base_ms', 0) / 1000:.1f} s "
                       f"(after the processes exited: nothing to migrate)")
    return "\n".join(out)


def fmt(v):
    if v is None:
        return "-"
    a = abs(v)
    if a >= 1000:
        return f"{v:.0f}"
    if a >= 100:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def ratio(v, base):
    if v is None or base is None or base == 0:
        return None
    return v / base


def spread_pct(samples):
    """Half the range of the samples, in % of their median: the run-to-run noise."""
    if not samples or len(samples) < 2:
        return None
    med = statistics.median(samples)
    if med == 0:
        return None
    return 50.0 * (max(samples) - min(samples)) / abs(med)


def table_rows(configs, medians, values, stalls, workloads):
    rows = []
    for w in workloads:
        for key, label, unit, better in AI_METRICS:
            if key == "stalls":
                if w == workloads[0]:
                    rows.append(("all", "stalls (all runs)", "", better,
                                 [float(stalls.get(c, 0)) for c in configs], [None] * len(configs)))
                continue
            vals = [medians.get((c, w, key)) for c in configs]
            if any(v is not None for v in vals):
                rows.append((w, label, unit, better, vals,
                             [spread_pct(values.get((c, w, key))) for c in configs]))
    for w, key, label, unit, better in OTHER_METRICS:
        vals = [medians.get((c, w, key)) for c in configs]
        if any(v is not None for v in vals):
            rows.append((w, label, unit, better, vals,
                         [spread_pct(values.get((c, w, key))) for c in configs]))
    return rows


def render_table(meta, configs, rows, nreps):
    head = (f"scx_ai_numa bench: kernel {meta.get('kernel', '?')}, {meta.get('nodes', '?')} nodes x "
            f"{(meta.get('cpus') or 0) // max(1, meta.get('nodes') or 1)} CPUs, medians of {nreps} rep(s), "
            f"ai runs {meta.get('duration_s', '?')} s, numa_balancing={meta.get('numa_balancing', '?')}, "
            f"clocksource {meta.get('clocksource', '?')}\n"
            f"(+-: half the range of the repetitions in % of the median, i.e. the run-to-run noise)")
    cols = ["workload", "metric", "unit"]
    for c in configs:
        cols += [c, "+-"]
        if c != BASE:
            cols.append(f"{c}/def")
    body = []
    for w, label, unit, better, vals, spreads in rows:
        line = [wl_label(w) if w != "all" else "", label, unit]
        base = vals[configs.index(BASE)] if BASE in configs else None
        for c, v, sp in zip(configs, vals, spreads):
            line += [fmt(v), "" if sp is None else f"{sp:.0f}%"]
            if c != BASE:
                r = ratio(v, base)
                line.append("-" if r is None else f"x{r:.2f}")
        body.append(line)
    widths = [max(len(str(r[i])) for r in [cols] + body) for i in range(len(cols))]
    out = [head, ""]
    for r in [cols] + body:
        cells = [str(x).ljust(widths[i]) if i < 3 else str(x).rjust(widths[i]) for i, x in enumerate(r)]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out)


def targets_for(cfg, medians, values, stalls, bpf, bpf_wanted=True, migcost=(), meta=None):
    """The issue's targets for one scx configuration, against the default scheduler."""
    def m(c, w, k):
        return medians.get((c, w, k))

    res = []
    run_s = float((meta or {}).get("duration_s") or 8)

    def add(name, value, limit, ok, unit="", key=None):
        t = {"target": name, "value": value, "limit": limit, "unit": unit,
             "pass": bool(ok) if value is not None and limit is not None else False}
        # With TCG on a shared host one run can land either side: say so.
        samples = values.get((cfg,) + key) if key else None
        if samples and limit is not None and min(samples) < limit < max(samples):
            t["note"] = "repetitions fall on both sides of the limit"
        res.append(t)

    def ratio_target(w, key, what, factor, up, unit, floor=None):
        """v >= factor x default (up) or v <= factor x default (down); a count
        the default kept below @floor is taken as @floor: 3x of nothing is no
        ratio, and one migration in a run would fail it."""
        v, b = m(cfg, w, key), m(BASE, w, key)
        if v is None and b is None:
            return
        if b is not None and floor is not None and b < floor:
            b = floor
        lim = factor * b if b is not None else None
        ok = v is not None and lim is not None and (v >= lim if up else v <= lim)
        add(f"{wl_label(w)}: {what} {'>=' if up else '<='} {factor:g}x default", v, lim, ok, unit, (w, key))

    # Issue #14's list, per ai workload present, with and without the cost model.
    for w in AI_WORKLOADS:
        if (cfg, w, "throughput_bps") not in medians:
            continue
        if w.startswith("ai_firsttouch"):
            # Issue #12: memory locality at least the default's (+ NUMA balancing) after warm-up.
            ratio_target(w, "locality_pct", "locality after warm-up", 1.0, True, "%")
            ratio_target(w, "locality_late_pct", "locality settled", 1.0, True, "%")
            continue
        cm = w.endswith("_cm")
        ratio_target(w, "throughput_bps", "throughput", 1.10 if cm else 1.0, True, "batch/s")
        ratio_target(w, "wake_p50_us", "wake p50", 0.8, False, "us")
        ratio_target(w, "wake_p99_us", "wake p99", 0.8, False, "us")
        # One migration per run, as a rate: the least a count can tell apart.
        ratio_target(w, "xnode_per_s", "x-node migr", 3.0, False, "/s", 1.0 / run_s)
        v = m(cfg, w, "locality_pct")
        if w.startswith("ai_fit"):
            add(f"{wl_label(w)}: locality >= 95%", v, 95.0, v is not None and v >= 95.0, "%",
                (w, "locality_pct"))
        elif w.startswith("ai_imbalance"):
            # Overloaded: memory locality at least the default's. The issue's
            # "full CPU use" has no target: /proc/stat's busy share measures
            # effort (more batches in less CPU time reads as "less use"), not
            # CPUs idling while work waits; CPU busy stays in the table.
            ratio_target(w, "locality_pct", "locality", 1.0, True, "%")
            if "_procs" in w:
                # Memory can follow a process: once settled, locality >= 90 %.
                v = m(cfg, w, "locality_late_pct")
                add(f"{wl_label(w)}: settled locality >= 90%", v, 90.0, v is not None and v >= 90.0,
                    "%", (w, "locality_late_pct"))
    add("zero stalls", float(stalls.get(cfg, 0)) if cfg in stalls else None, 0.0,
        stalls.get(cfg, 1) == 0)
    for w, k, what, unit in (("hackbench", "msgs_per_s", "hackbench", "msg/s"),
                             ("stress_ng", "bogo_ops_s", "stress-ng", "bogo/s")):
        v, b = m(cfg, w, k), m(BASE, w, k)
        if v is None and b is None:
            continue    # not run (bench/run.sh --only)
        lim = 0.95 * b if b is not None else None
        add(f"{what} >= 0.95x default", v, lim, v is not None and lim is not None and v >= lim,
            unit, (w, k))
    v, b = m(cfg, "wakebench", "p99_us"), m(BASE, "wakebench", "p99_us")
    if v is not None or b is not None:
        # "not below 0.95x of the default": latency at most 1/0.95 of it.
        lim = b / 0.95 if b is not None else None
        add("wakebench p99 <= default/0.95", v, lim, v is not None and lim is not None and v <= lim,
            "us", ("wakebench", "p99_us"))
        v, b = m(cfg, "wakebench", "requests_per_s"), m(BASE, "wakebench", "requests_per_s")
        lim = 0.95 * b if b is not None else None
        add("wakebench requests >= 0.95x default", v, lim,
            v is not None and lim is not None and v >= lim, "req/s", ("wakebench", "requests_per_s"))
    if cfg == "scx" and migcost:
        v = statistics.median([d["steady_pct"] for d in migcost if d.get("steady_pct") is not None] or [None]) \
            if any(d.get("steady_pct") is not None for d in migcost) else None
        add("daemon CPU, 100 procs, steady < 1%", v, 1.0, v is not None and v < 1.0, "% CPU")
    if cfg == "scx" and bpf_wanted:
        progs = [p for d in bpf for p in d.get("progs", []) if p.get("run_cnt", 0) > 0]
        add("BPF cost per callback reported", float(len(progs)), 1.0, len(progs) >= 1, "callbacks")
    return res


def render_targets(cfg, res):
    out = [f"targets for {cfg}:"]
    for t in res:
        val = "-" if t["value"] is None else fmt(t["value"])
        lim = "-" if t["limit"] is None else fmt(t["limit"])
        note = f"  [{t['note']}]" if t.get("note") else ""
        out.append(f"  {'PASS' if t['pass'] else 'FAIL'}  {t['target']:<52} {val:>10} "
                   f"(limit {lim}) {t['unit']}{note}")
    return "\n".join(out)


# Scheduler counters worth comparing between configurations: the daemon
# restarts for every block, so a snapshot's totals are that block's.
COUNTERS = ("migrate_in", "migrate_llc", "steal_in", "balance_move", "group_move", "handoff", "wake_home")
SNAPSHOTS = (("sched_stats", "over the ai workloads"), ("sched_stats_end", "over the whole block"))


def counter_medians(daemon_records):
    """{(snapshot, config): {counter: median of the blocks' totals}}."""
    per = {}
    for rec in daemon_records:
        total = (rec.get("data") or {}).get("total") or {}
        key = (rec["workload"], rec.get("config", "?"))
        for name in COUNTERS:
            v = total.get(name)
            if isinstance(v, (int, float)):
                per.setdefault(key, {}).setdefault(name, []).append(float(v))
    return {key: {n: statistics.median(v) for n, v in d.items()} for key, d in per.items()}


def render_counters(daemon_records):
    med = counter_medians(daemon_records)
    if not med:
        return "scheduler counters: not recorded"
    out = ["scheduler counters per block (medians over the repetitions):",
           f"  {'config':<28} {'snapshot':<22}" + "".join(f" {n:>13}" for n in COUNTERS)]
    for (snap, cfg), d in sorted(med.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        label = dict(SNAPSHOTS).get(snap, snap)
        out.append(f"  {cfg:<28} {label:<22}" +
                   "".join(f" {d[n]:>13.0f}" if n in d else f" {'-':>13}" for n in COUNTERS))
    return "\n".join(out)


def render_bpf(bpf):
    if not bpf:
        return "BPF cost: not measured"
    out = ["BPF cost per callback (scx_ai_numa, kernel.bpf_stats_enabled=1, separate run;",
           "'syscalls': the same time in getppid() round trips timed in the same VM, a rough",
           "yardstick for how slow the (emulated) CPU is):"]
    for d in bpf:
        sys_ns = d.get("syscall_ns") or 0
        for p in sorted(d.get("progs", []), key=lambda p: p.get("name", "")):
            ns = p.get("ns_per_run", 0)
            rel = f"{ns / sys_ns:>8.2f} syscalls" if sys_ns > 0 and p.get("run_cnt") else ""
            out.append(f"  {p.get('name', '?'):<18} {p.get('run_cnt', 0):>10} calls  {ns:>9.0f} ns/call {rel}")
        if sys_ns:
            out.append(f"  (getppid round trip: {sys_ns:.0f} ns)")
    return "\n".join(out)


def write_plot(outdir, configs, medians, bpf, workloads):
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        return "gnuplot not found: no plot (scripts/deps.sh installs it)"

    def dat(name, rows):
        path = os.path.join(outdir, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write("label " + " ".join(f'"{c}"' for c in configs) + "\n")
            for label, vals in rows:
                f.write(f'"{label}" ' + " ".join("NaN" if v is None else f"{v:.6g}" for v in vals) + "\n")
        return name

    loc = [(wl_label(w), [medians.get((c, w, "locality_pct")) for c in configs]) for w in workloads]
    thr_keys = [(w, "throughput_bps") for w in workloads] + [("hackbench", "msgs_per_s"), ("stress_ng", "bogo_ops_s")]
    thr = []
    for w, k in thr_keys:
        base = medians.get((BASE, w, k))
        thr.append((wl_label(w), [ratio(medians.get((c, w, k)), base) for c in configs]))
    lat = [(wl_label(w), [medians.get((c, w, "wake_p99_us")) for c in configs]) for w in workloads]
    lat.append(("cyclictest", [medians.get((c, "cyclictest", "p99_us")) for c in configs]))
    files = [dat("plot-locality.dat", loc), dat("plot-throughput.dat", thr), dat("plot-latency.dat", lat)]
    ncol = len(configs) + 1
    # One-off callbacks (init, exit) would dwarf the ones on the hot path.
    bpf_rows = [(p["name"], p.get("ns_per_run", 0)) for d in bpf for p in d.get("progs", [])
                if p.get("run_cnt", 0) >= 10]
    with open(os.path.join(outdir, "plot-bpf.dat"), "w", encoding="utf-8") as f:
        f.write('label "ns per call"\n')
        for name, ns in bpf_rows:
            f.write(f'"{name}" {ns:.1f}\n')
    gp = f"""set terminal pngcairo size 1400,1000 font ",10" noenhanced
set output "plot.png"
set multiplot layout 2,2 title "scx_ai_numa vs default scheduler (medians)"
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set key outside right top vertical
set grid ytics
set yrange [0:100]
set title "loader locality (% of work on its memory's node)"
plot for [i=2:{ncol}] "{files[0]}" using i:xtic(1) title columnheader(i)
set title "throughput relative to default (higher is better)"
set arrow 1 from graph 0, first 1 to graph 1, first 1 nohead dashtype 2
set yrange [0:1.2<*]
plot for [i=2:{ncol}] "{files[1]}" using i:xtic(1) title columnheader(i)
unset arrow 1
set title "wake latency p99 (us, lower is better)"
set logscale y
set yrange [*:*]
plot for [i=2:{ncol}] "{files[2]}" using i:xtic(1) title columnheader(i)
unset logscale y
set yrange [0:*]
set title "BPF cost per hot callback (ns per call, scx_ai_numa)"
set xtics rotate by -30
{'plot "plot-bpf.dat" using 2:xtic(1) title columnheader(2)' if bpf_rows else NO_BPF_PLOT}
unset multiplot
"""
    with open(os.path.join(outdir, "plot.gp"), "w", encoding="utf-8") as f:
        f.write(gp)
    r = subprocess.run([gnuplot, "plot.gp"], cwd=outdir, capture_output=True, text=True)
    if r.returncode != 0:
        return "gnuplot failed: " + r.stderr.strip()
    return None


def bpf_wanted(meta):
    """Was the BPF cost run part of this bench (not --no-bpfcost, not left out by --only)?"""
    only = [w for w in meta.get("only", "").split(",") if w]
    return meta.get("bpfcost", 1) != 0 and (not only or "bpf_cost" in only)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--log", required=True, help="VM console log holding @@BENCH lines")
    ap.add_argument("--out", help="directory for results.json, table.txt, plot.png")
    ap.add_argument("--no-plot", action="store_true")
    a = ap.parse_args(argv)

    records, bad = parse_log(a.log)
    meta, configs, values, medians, stalls, bpf, daemon_records, migcost = collect(records)
    if BASE not in configs or len(configs) < 2 or not values:
        print(f"report: no comparable results in {a.log} ({len(records)} records, {bad} unreadable)",
              file=sys.stderr)
        return 2
    configs = [BASE] + [c for c in configs if c != BASE]
    workloads = [w for w in AI_WORKLOADS if any((c, w, "throughput_bps") in medians for c in configs)]
    nreps = max(len(v) for v in values.values())

    rows = table_rows(configs, medians, values, stalls, workloads)
    parts = [render_table(meta, configs, rows, nreps), ""]
    all_targets = {}
    for c in configs:
        if c == BASE:
            continue
        all_targets[c] = targets_for(c, medians, values, stalls, bpf, bpf_wanted(meta), migcost, meta)
        parts += [render_targets(c, all_targets[c]), ""]
    parts += [render_counters(daemon_records), ""]
    parts.append(render_bpf(bpf))
    parts += ["", render_migcost(migcost)]
    if bad:
        parts.append(f"note: {bad} @@BENCH line(s) unreadable (console interleaving?)")
    text = "\n".join(parts)
    print(text)

    if a.out:
        os.makedirs(a.out, exist_ok=True)
        with open(os.path.join(a.out, "table.txt"), "w", encoding="utf-8") as f:
            f.write(text + "\n")
        runs = []
        for rec in records:
            r = dict(rec)
            if rec["workload"] == "cyclictest":
                r["data"] = cyclictest_summary(rec["data"])   # histograms are bulky
            runs.append(r)
        doc = {
            "meta": meta,
            "configs": configs,
            "medians": {c: {f"{w}.{k}": v for (cc, w, k), v in sorted(medians.items()) if cc == c}
                        for c in configs},
            "samples": {c: {f"{w}.{k}": v for (cc, w, k), v in sorted(values.items()) if cc == c}
                        for c in configs},
            "stalls": stalls,
            "targets": all_targets,
            "bpf_cost": bpf,
            "migcost": migcost,
            "daemon_records": daemon_records,
            "counters": {f"{cfg}/{snap}": d for (snap, cfg), d in counter_medians(daemon_records).items()},
            "runs": [r for r in runs if r["workload"] not in ("sched_stats", "sched_stats_end", "tunables")],
        }
        with open(os.path.join(a.out, "results.json"), "w", encoding="utf-8") as f:
            json.dump(doc, f, indent=1, sort_keys=False)
        if not a.no_plot:
            err = write_plot(a.out, configs, medians, bpf, workloads)
            if err:
                print(f"report: {err}", file=sys.stderr)
    failed = any(not t["pass"] for res in all_targets.values() for t in res)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
