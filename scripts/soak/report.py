#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The soak's report (make soak): samples.csv of scripts/soak/guest.sh as a
table, the growth of each memory counter over the last WINDOW seconds (a
least-squares line: its rise over the window and the standard error of
that rise), the kmalloc/slab caches that grew most, and a plot.

A counter fails when its rise is both above its floor (2 MiB for slab
and vmalloc, 256 kB for per-CPU memory, 8 for counts of memcgs) and above
three standard errors: a steady rise, not noise. The rise is also given
per cgroup created and removed in the window, the cost a leak per cgroup
would have.

    report.py RESULTS_DIR WINDOW_SECONDS HEADER
Writes RESULTS_DIR/report.md and soak.png. Exit status 3 when a counter
grew, 1 when the samples cannot be read.
"""
import csv
import glob
import math
import os
import sys

JUDGED = [  # column, unit, floor
    ("sunreclaim_kb", "kB", 2048),
    ("percpu_kb", "kB", 256),
    ("vmalloc_kb", "kB", 2048),
    ("kmalloc_cg_kb", "kB", 2048),
    ("kmalloc_kb", "kB", 2048),
    ("memcgs", "", 8),
    ("dying_memcgs", "", 8),
]


def fit(xs, ys):
    """Slope of the least-squares line and its standard error."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    res = [y - my - slope * (x - mx) for x, y in zip(xs, ys)]
    se = math.sqrt(sum(r * r for r in res) / (n - 2) / sxx) if n > 2 else 0.0
    return slope, se


def slab_bytes(path):
    """Bytes of each cache of a /proc/slabinfo copy."""
    out = {}
    with open(path) as f:
        for line in f:
            if line.startswith(("slabinfo", "#")):
                continue
            p = line.split()
            out[p[0]] = int(p[1]) * int(p[3])
    return out


def main():
    res, window, header = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(os.path.join(res, "samples.csv")) as f:
        rows = [{k: int(v) for k, v in r.items()} for r in csv.DictReader(f)]
    if len(rows) < 2:
        print("fewer than two samples")
        return 1
    tmax = rows[-1]["t"]
    win = [r for r in rows if r["t"] >= tmax - window]
    lines = [f"# {header}", "",
             f"{len(rows)} samples over {tmax} s; growth judged over the last "
             f"{tmax - win[0]['t']} s ({len(win)} samples).", ""]
    cols = list(rows[0].keys())
    lines.append("| " + " | ".join(cols) + " |")
    lines.append("|" + " --- |" * len(cols))
    for r in rows:
        lines.append("| " + " | ".join(str(r[c]) for c in cols) + " |")

    churned = win[-1]["churned"] - win[0]["churned"]
    lines += ["", f"{churned} cgroups created and removed, "
              f"{win[-1]['updates'] - win[0]['updates']} policy updates and "
              f"{win[-1]['restarts'] - win[0]['restarts']} restarts of the sample in the window.",
              "", "| counter | mean in window | rise over window | per churned cgroup | "
              "3 x std. error | floor | verdict |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    failed = []
    if len(win) < 3:
        failed.append("window")
        lines.append("| (fewer than 3 samples in the window) | | | | | FAIL |")
    else:
        xs = [r["t"] for r in win]
        span = xs[-1] - xs[0]
        for col, unit, floor in JUDGED:
            ys = [r[col] for r in win]
            slope, se = fit(xs, ys)
            rise, err = slope * span, 3 * se * span
            bad = rise > floor and rise > err
            if bad:
                failed.append(col)
            per = f"{rise / churned:+.2f}" if churned else "-"
            lines.append(f"| {col} | {sum(ys) / len(ys):.0f} {unit} | {rise:+.0f} {unit} "
                         f"({slope * 60:+.1f}/min) | {per} | {err:.0f} | {floor} | "
                         f"{'FAIL' if bad else 'ok'} |")

    # The caches that grew most over the window (for the record)
    snaps = sorted((int(os.path.basename(p)[9:-4]), p)
                   for p in glob.glob(os.path.join(res, "slabinfo-*.txt")))
    snaps = [(t, p) for t, p in snaps if t >= tmax - window]
    if len(snaps) >= 3:
        data = [(t, slab_bytes(p)) for t, p in snaps]
        names = set().union(*(d.keys() for _, d in data))
        grow = []
        for n in names:
            xs = [t for t, _ in data]
            ys = [d.get(n, 0) / 1024 for _, d in data]
            slope, se = fit(xs, ys)
            grow.append((slope * (xs[-1] - xs[0]), 3 * se * (xs[-1] - xs[0]), n, ys[-1]))
        grow.sort(reverse=True)
        lines += ["", "Slab caches with the largest rise over the window (kB):", "",
                  "| cache | rise | 3 x std. error | at the end |", "| --- | --- | --- | --- |"]
        for rise, err, n, last in grow[:8]:
            lines.append(f"| {n} | {rise:+.0f} | {err:.0f} | {last:.0f} |")

    final = os.path.join(res, "final.txt")
    if os.path.exists(final):
        lines += ["", "At the end:", "", "```"] + open(final).read().splitlines() + ["```"]
    lines += ["", "Verdict: " + ("FAIL: " + ", ".join(failed) if failed else "OK, no counter rose beyond noise")]
    text = "\n".join(lines) + "\n"
    with open(os.path.join(res, "report.md"), "w") as f:
        f.write(text)
    print(text)

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("no matplotlib: no plot")
        return 3 if failed else 0
    t = [r["t"] / 60 for r in rows]
    fig, ax = plt.subplots(2, 2, figsize=(11, 7))
    for col in ("sunreclaim_kb", "percpu_kb", "vmalloc_kb", "kmalloc_cg_kb", "kmalloc_kb"):
        ax[0][0].plot(t, [r[col] / 1024 for r in rows], label=col[:-3])
    ax[0][0].set_ylabel("MiB")
    for col in ("memcgs", "dying_memcgs", "links"):
        ax[0][1].plot(t, [r[col] for r in rows], label=col)
    for col in ("churned", "updates", "restarts"):
        ax[1][0].plot(t, [r[col] for r in rows], label=col)
    ax[1][0].set_yscale("symlog")
    for col in ("oom_kill", "protected", "up_protected", "delayed"):
        ax[1][1].plot(t, [r[col] for r in rows], label=col)
    ax[1][1].set_yscale("symlog")
    for a in ax.flat:
        a.axvspan(win[0]["t"] / 60, t[-1], color="0.92")
        a.set_xlabel("minutes")
        a.legend(fontsize=8)
    fig.suptitle(header, fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(res, "soak.png"), dpi=90)
    return 3 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
