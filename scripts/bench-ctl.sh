#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What attaching and detaching a memcg_bpf_ops policy costs (the control
# path), with the selftests benchmarks of bench_memcg_ctl.c, in one boot:
# - memcg-attach --descendants N for N in $DESCENDANTS: mean time of an
#   attach and of a detach of a policy with online/offline hooks, and the
#   cost per descendant (least-squares slope over N);
# - memcg-cgroup-churn: mkdir+rmdir of a cgroup beside the policy's, per
#   second, while nothing else runs ("off"), while a thread attaches and
#   detaches the policy (on a cgroup with $CHURN_DESCENDANTS children) in
#   a loop ("attach"), and while a thread only spins ("busy", the control:
#   what sharing the 2 vCPUs with a busy thread costs, without the lock).
# Runs alternate within the boot, $ROUNDS rounds. Wall clock, 2 vCPUs:
# the churn case needs two CPUs, so QEMU's -icount cannot be used; under
# TCG expect a few percent of noise between rounds.
#   FLAVOUR            kernel to boot (default full)
#   BENCH_DIR          directory with the bench binary (default: the
#                      selftests of that kernel)
#   LABEL              name of the kernel in the results (default v2)
#   ROUNDS             rounds (default 3)
#   DESCENDANTS        default "0 10 100 1000"
#   CHURN_DESCENDANTS  default 100
. "$(dirname "$0")/common.sh"

ROUNDS=${ROUNDS:-3}
DESCENDANTS=${DESCENDANTS:-0 10 100 1000}
CHURN_DESCENDANTS=${CHURN_DESCENDANTS:-100}
LABEL=${LABEL:-v2}
BENCH_DIR=${BENCH_DIR:-$CACHE/selftests-$FLAVOUR}
BARGS="-w1 -d5 -p1"
[ -x "$BENCH_DIR/bench" ] || die "no bench in $BENCH_DIR; run: make selftests"
grep -qa memcg-cgroup-churn "$BENCH_DIR/bench" ||
	die "$BENCH_DIR/bench has no memcg-attach benchmark"

out=$CACHE/bench
mkdir -p "$out"
csv=$out/ctl-$LABEL-$(date +%Y%m%d-%H%M%S).csv
echo "kernel,round,case,descendants,value1,value2" >"$csv"

cmd=""
for r in $(seq "$ROUNDS"); do
	case $((r % 3)) in
	1) churn="off attach busy" ;;
	2) churn="attach busy off" ;;
	0) churn="busy off attach" ;;
	esac
	for n in $DESCENDANTS; do
		cmd+="echo '=== $r attach $n'; ./bench $BARGS memcg-attach --descendants $n || exit 1; "
	done
	for c in $churn; do
		a=""
		[ "$c" = off ] || a=--$c-loop
		cmd+="echo '=== $r churn-$c $CHURN_DESCENDANTS'; ./bench $BARGS memcg-cgroup-churn --descendants $CHURN_DESCENDANTS $a || exit 1; "
	done
done

msg "bench-ctl: $LABEL kernel ($FLAVOUR), $ROUNDS rounds, results in $csv"
VM_CWD=$BENCH_DIR "$TOP/scripts/vm.sh" "$cmd" >"$out/last-ctl.txt" ||
	die "bench failed (log: $CACHE/vm-logs/last)"

tr -d '\r' <"$out/last-ctl.txt" | awk -v k="$LABEL" '
/^=== / { r = $2; c = $3; n = $4; next }
/^Summary: descendants/ {
	# Summary: descendants N attach+detach X/s attach A us detach D us
	print k "," r "," c "," n "," $(NF - 4) "," $(NF - 1); next }
/^Summary: mkdir\+rmdir/ {
	# Summary: mkdir+rmdir R ± S/s, attach loop ...
	print k "," r "," c "," n "," $3 ",0" }' >>"$csv"

awk -F, -v k="$LABEL" '
NR == 1 { next }
$3 == "attach" { n = $4; a[n] += $5; d[n] += $6; cnt[n]++; ns[n] = 1 }
$3 ~ /^churn-/ { ch[$3] += $5; chn[$3]++; chd = $4 }
END {
	printf "\n%s kernel: attach and detach of a policy with online/offline hooks\n", k
	printf "%12s %12s %12s\n", "descendants", "attach us", "detach us"
	m = 0
	for (n in ns) { x[++m] = n + 0 }
	for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (x[j] < x[i]) { t = x[i]; x[i] = x[j]; x[j] = t }
	sx = sy = sz = sxx = sxy = sxz = 0
	for (i = 1; i <= m; i++) {
		n = x[i]; ya = a[n] / cnt[n]; yd = d[n] / cnt[n]
		printf "%12d %12.1f %12.1f\n", n, ya, yd
		sx += n; sxx += n * n; sy += ya; sxy += n * ya; sz += yd; sxz += n * yd
	}
	if (m > 1) {
		den = m * sxx - sx * sx
		printf "per descendant (least-squares slope): attach %.2f us, detach %.2f us\n",
		       (m * sxy - sx * sy) / den, (m * sxz - sx * sz) / den
	}
	if (chn["churn-off"] && chn["churn-attach"] && chn["churn-busy"]) {
		off = ch["churn-off"] / chn["churn-off"]
		on = ch["churn-attach"] / chn["churn-attach"]
		busy = ch["churn-busy"] / chn["churn-busy"]
		printf "mkdir+rmdir beside the policy, per second: %.1f alone; %.1f (%+.1f %%) while a thread spins;\n",
		       off, busy, (busy / off - 1) * 100
		printf "%.1f (%+.1f %%, %+.1f %% against the spinning thread) while a policy on %d children is attached and detached in a loop\n",
		       on, (on / off - 1) * 100, (on / busy - 1) * 100, chd
	}
}' "$csv" | tee "$out/ctl-$LABEL-summary.txt"
echo "raw results: $csv"
