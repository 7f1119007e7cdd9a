#!/usr/bin/env python3
"""bench/report.py's scheduler counters: each block's snapshot totals are
kept apart by snapshot (after the ai workloads, end of block) and by
configuration, and the figure is the median over the blocks, not the sum or
the last one; a counter a daemon did not report is left out, not zero."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402

failed = 0


def check(cond, what):
    global failed
    print(("ok - " if cond else "not ok - ") + what)
    failed += not cond


def rec(snap, cfg, **total):
    return {"workload": snap, "config": cfg, "data": {"total": total}}


records = [
    rec("sched_stats", "scx", migrate_llc=10, group_move=1),
    rec("sched_stats", "scx", migrate_llc=30, group_move=5),
    rec("sched_stats", "scx", migrate_llc=20, group_move=3),
    rec("sched_stats_end", "scx", migrate_llc=100),
    rec("sched_stats", "scx:node_queues=on", migrate_llc=70),
    rec("tunables", "scx"),
]
med = report.counter_medians(records)
check(med[("sched_stats", "scx")]["migrate_llc"] == 20, "the median of three blocks, not their sum or the last")
check(med[("sched_stats", "scx")]["group_move"] == 3, "each counter has its own median")
check(med[("sched_stats_end", "scx")]["migrate_llc"] == 100, "the end-of-block snapshot is kept apart")
check(med[("sched_stats", "scx:node_queues=on")]["migrate_llc"] == 70, "configurations are kept apart")
check("steal_in" not in med[("sched_stats", "scx")], "a counter never reported is absent, not 0")
text = report.render_counters(records)
check("scx:node_queues=on" in text and "over the whole block" in text, "the table names configurations and snapshots")
check(report.render_counters([]) == "scheduler counters: not recorded", "nothing recorded says so")
print(f"1..{7}")
sys.exit(1 if failed else 0)
