#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Table, JSON and plot of the demo's results.

    report.py OUTDIR [HEADER]

Reads OUTDIR/results.csv (experiment,scenario,rep,metric,value, written by
guest.sh); writes OUTDIR/results.json, OUTDIR/table.md and OUTDIR/demo.png
(experiments A and C), and prints the table.
"""
import csv
import json
import random
import statistics
import sys
from collections import OrderedDict

out = sys.argv[1]
header = sys.argv[2] if len(sys.argv) > 2 else ""

data = OrderedDict()  # (exp, scenario) -> metric -> [values]
with open(f"{out}/results.csv") as f:
    for row in csv.DictReader(f):
        if row["value"] in ("", None):
            continue
        key = (row["experiment"], row["scenario"])
        data.setdefault(key, OrderedDict()).setdefault(row["metric"], []).append(
            float(row["value"]))


def stat(vals):
    m = statistics.mean(vals)
    sd = statistics.stdev(vals) if len(vals) > 1 else 0.0
    return m, sd


def fmt(vals, prec=0):
    if not vals:
        return "-"
    m, sd = stat(vals)
    return f"{m:,.{prec}f} ± {sd:,.{prec}f}"


def get(exp, sc, metric):
    return data.get((exp, sc), {}).get(metric, [])


lines = []
if header:
    lines += [header, ""]

def median_ci(vals, reps=10000, seed=1):
    """Median and a 95 % bootstrap percentile interval (seeded)."""
    rnd = random.Random(seed)
    n = len(vals)
    meds = sorted(statistics.median(rnd.choice(vals) for _ in range(n))
                  for _ in range(reps))
    return statistics.median(vals), meds[int(0.025 * reps)], meds[int(0.975 * reps) - 1]


def each(vals, prec=0):
    """Every run's value, in run order: "a / b / c" ("-" when none)."""
    return " / ".join(f"{v:,.{prec}f}" for v in vals) or "-"


def fmt_med(vals, prec=0):
    if not vals:
        return "-"
    m, lo, hi = median_ci(vals)
    return f"{m:,.{prec}f} [{lo:,.{prec}f}, {hi:,.{prec}f}]"


# Each experiment's cases, in table order, and their names.
names_a = {
    "baseline": "no policy, both active",
    "memory.low-active": "static memory.low on high, both active",
    "memory.low-idle": "static memory.low on high, high idle",
    "bpf-active": "BPF below_low (demo loader), both active",
    "bpf-idle": "BPF below_low (demo loader), high idle",
    "seed-active": "BPF, samples/bpf/memcg --threshold=1 --use_below_min, both active",
    "seed-idle": "BPF, samples/bpf/memcg --threshold=1 --use_below_min, high idle",
}
scen_a = list(names_a)
targets = []
if any(k[0] == "A" for k in data):
    lines += ["A. Memory priority: stress-ng --vm write64 bogo ops/s, median [95 % bootstrap "
              "interval]; each run", "",
              "| scenario | high | high, each run | low | low, each run | idle high in swap (MB) |",
              "|---|---:|---:|---:|---:|---:|"]
    for sc in scen_a:
        hi = get("A", sc, "high_bogo_ops_s")
        lo = get("A", sc, "low_bogo_ops_s")
        lines.append(f"| {names_a[sc]} | {fmt_med(hi)} | "
                     f"{each(hi)} | {fmt_med(lo)} | {each(lo)} | "
                     f"{fmt_med(get('A', sc, 'high_swapped_mb'))} |")

    def med(sc, m):
        v = get("A", sc, m)
        return statistics.median(v) if v else None

    base_hi = med("baseline", "high_bogo_ops_s")
    low_hi = med("memory.low-active", "high_bogo_ops_s")
    static_idle = get("A", "memory.low-idle", "low_bogo_ops_s")
    for bpf in ("bpf", "seed"):
        bpf_hi = med(f"{bpf}-active", "high_bogo_ops_s")
        if base_hi and low_hi and bpf_hi:
            targets.append((f"A: high's speed-up, memory.low / baseline (>= 10x)",
                            low_hi / base_hi, low_hi / base_hi >= 10))
            targets.append((f"A: high's speed-up, {bpf} / baseline (>= 10x)",
                            bpf_hi / base_hi, bpf_hi / base_hi >= 10))
            targets.append((f"A: high, {bpf} / memory.low (within 25 %)",
                            bpf_hi / low_hi, abs(bpf_hi / low_hi - 1) <= 0.25))
        bpf_idle = get("A", f"{bpf}-idle", "low_bogo_ops_s")
        if static_idle and bpf_idle:
            # run by run: the scenarios of one repetition ran back to back
            ratios = [b / s for b, s in zip(bpf_idle, static_idle) if s]
            if ratios:
                targets.append((f"A: low with high idle, {bpf} / memory.low, every run "
                                f"(>= 20x; runs: {each(ratios, 1)})",
                                min(ratios), min(ratios) >= 20))
    lines.append("")
    seen = set()
    for name, val, ok in targets:
        if name in seen:
            continue
        seen.add(name)
        lines.append(f"- {name}: {val:.2f}{'x' if 'within' not in name else ''} "
                     f"{'(met)' if ok else '(NOT met)'}")
    lines.append("")

if any(k[0] == "B" for k in data):
    lines += ["B. Throttling accuracy: delay of the delayed faults in low while high is active",
              "", "| configured (ms) | measured (ms, mean ± sd) | delayed faults |",
              "|---:|---:|---:|"]
    for sc in sorted({k[1] for k in data if k[0] == "B"}, key=int):
        delayed = get("B", sc, "delayed")
        means = get("B", sc, "mean_ms")
        # pooled over the runs, weighted by the number of delayed faults
        n = sum(delayed)
        if n:
            mean = sum(m * d for m, d in zip(means, delayed)) / n
            sds = get("B", sc, "sd_ms")
            var = sum((d - 1) * s * s + d * (m - mean) ** 2
                      for m, s, d in zip(means, sds, delayed) if d) / max(n - 1, 1)
            meas = f"{mean:.1f} ± {var ** 0.5:.1f}"
        else:
            meas = "none delayed"
        lines.append(f"| {sc if sc != '0' else '0 (no policy)'} | {meas} | {int(n)} |")
    lines += ["", "(no policy: the faults that took 5 ms or more, TCG's own jitter)", ""]

names_c = {
    "none": "no policy",
    "agent": "userspace memory.reclaim agent (100 ms)",
    "agent-high": "the agent + memory.high (kernel backpressure)",
    "bpf": "BPF async reclaim (bpf_wq)",
    "bpf-backpressure": "BPF async reclaim + charge delays (backpressure)",
}
# C's scenarios are "<scenario>@<rate>MB/s" or "<scenario>@max", in run order
scen_c = []
for e, sc in data:
    if e == "C" and sc not in scen_c:
        scen_c.append(sc)
if scen_c:
    lines += ["C. Asynchronous reclaim at several writer speeds: per run, median [95 % interval]",
              "", "| writer | scenario | memory.events max | oom_kill | writer s "
              "| reclaim CPU ms (agent / bpf_wq) | pgscan_direct |",
              "|---|---|---:|---:|---:|---:|---:|"]
    for sc in scen_c:
        name, _, rate = sc.partition("@")
        lines.append(f"| {rate} | {names_c.get(name, name)} | "
                     f"{fmt_med(get('C', sc, 'max_events'))} | "
                     f"{fmt_med(get('C', sc, 'oom_kills'))} | "
                     f"{fmt_med(get('C', sc, 'seconds'), 1)} | "
                     f"{fmt_med(get('C', sc, 'reclaim_cpu_ms'))} | "
                     f"{fmt_med(get('C', sc, 'pgscan_direct'))} |")
    lines.append("")
    for rate in dict.fromkeys(sc.partition("@")[2] for sc in scen_c):
        zero = [names_c.get(sc.partition("@")[0], sc) for sc in scen_c
                if sc.endswith("@" + rate) and get("C", sc, "max_events")
                and max(get("C", sc, "max_events")) == 0]
        lines.append(f"- writer {rate}: memory.events max stayed 0 in every run with: "
                     f"{', '.join(zero) if zero else 'none'}")
    lines.append("")

names_d = {
    "none": "no policy",
    "agent-1000ms": "userspace memory.low agent, 1 s poll",
    "agent-100ms": "userspace memory.low agent, 100 ms poll",
    "bpf": "BPF below_low",
}
if any(k[0] == "D" for k in data):
    lines += ["D. Protection reaction: high wakes and touches its memory again while low thrashes",
              "", "| scenario | protected after (ms): median [95 %] (runs) | high reclaimed during its pass (MB) "
              "| high's pass (ms) |", "|---|---:|---:|---:|"]
    for sc in names_d:
        react = get("D", sc, "reaction_ms")
        r = f"{fmt_med(react)} ({each(react)})" if react else "-"
        lines.append(f"| {names_d[sc]} | {r} | "
                     f"{fmt(get('D', sc, 'high_reclaimed_mb_after_wake'))} | "
                     f"{fmt(get('D', sc, 'high_pass_ms'))} |")
    lines.append("")

names_e = {"none": "no policy", "bpf": "samples/bpf/memcg: protect high, delay low"}
if any(k[0] == "E" for k in data):
    import os

    def pct(vals, q):
        vals = sorted(vals)
        return vals[min(len(vals) - 1, int(q * len(vals)))] if vals else float("nan")

    lines += ["E. Bursty trace: survival (no OOM kill) and high's request latency "
              "(map and touch, ms; all requests of all runs)", "",
              "| scenario | survived | OOM kills, each run | parent's peak MB, each run "
              "| high P50 | P95 | P99 | requests |",
              "|---|---:|---|---|---:|---:|---:|---:|"]
    p95 = {}
    surv = {}
    for sc, name in names_e.items():
        sv = get("E", sc, "survived")
        if not sv:
            continue
        lat = []
        path = f"{out}/E-{sc}.lat"
        if os.path.exists(path):
            lat = [float(x) for x in open(path).read().split()]
        p95[sc] = pct(lat, 0.95)
        surv[sc] = sum(sv) / len(sv)
        lines.append(f"| {name} | {int(sum(sv))}/{len(sv)} | "
                     f"{each(get('E', sc, 'oom_kills'))} | {each(get('E', sc, 'peak_mb'))} | "
                     f"{pct(lat, 0.5):.1f} | {pct(lat, 0.95):.1f} | {pct(lat, 0.99):.1f} | {len(lat)} |")
    if "none" in surv and "bpf" in surv:
        targets.append(("E: survival with the policy (100 %)", surv["bpf"] * 100,
                        surv["bpf"] == 1))
        if p95.get("none"):
            targets.append(("E: high's P95 latency, policy / none (<= 0.75)",
                            p95["bpf"] / p95["none"], p95["bpf"] / p95["none"] <= 0.75))
        lines.append("")
        for name, val, ok in targets[-2:]:
            lines.append(f"- {name}: {val:.2f} {'(met)' if ok else '(NOT met)'}")
    lines.append("")

table = "\n".join(lines)
print(table)
with open(f"{out}/table.md", "w") as f:
    f.write(table + "\n")

with open(f"{out}/results.json", "w") as f:
    json.dump({"results": [{"experiment": e, "scenario": s, "metric": m, "values": v}
                           for (e, s), ms in data.items() for m, v in ms.items()],
               "targets": [{"target": n, "value": v, "met": ok} for n, v, ok in targets]},
              f, indent=1)

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    sys.exit(0)

fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
ax = axes[0]
vals = [get("A", sc, "low_bogo_ops_s") for sc in scen_a]
# The runs are bimodal (the working set fits or it does not): each run is
# a point on a log scale, the bar is the median.
ax.bar(range(len(scen_a)), [statistics.median(v) if v else 0 for v in vals],
       color="tab:blue", alpha=0.5)
for i, v in enumerate(vals):
    ax.scatter([i] * len(v), [max(x, 0.5) for x in v], color="black", s=14, zorder=3)
ax.set_yscale("log")
ax.set_xticks(range(len(scen_a)))
ax.set_xticklabels(["no policy", "memory.low\nactive", "memory.low\nidle",
                    "BPF\nactive", "BPF\nidle", "seed cmd\nactive", "seed cmd\nidle"],
                   fontsize=7)
ax.set_ylabel("low cgroup: stress-ng bogo ops/s (runs, median bar)")
ax.set_title("A. memory priority")
ax = axes[1]
vals = [get("C", sc, "max_events") for sc in scen_c]
ax.bar(range(len(scen_c)), [statistics.median(v) if v else 0 for v in vals], color="tab:red")
ax.set_xticks(range(len(scen_c)))
ax.set_xticklabels([sc.replace("@", "\n") for sc in scen_c], fontsize=5, rotation=90)
ax.set_ylabel("memory.events max per run")
ax.set_title("C. asynchronous reclaim")
if header:
    fig.suptitle(header, fontsize=8)
fig.tight_layout()
fig.savefig(f"{out}/demo.png", dpi=110)
