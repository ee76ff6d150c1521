#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What memcg_bpf_ops costs on the charge path: the selftests benchmark
# "memcg-charge" (page faults of fresh anonymous memory in a cgroup, one
# charge and uncharge per page) on the base kernel and on the patched
# kernel with nothing attached, and "memcg-charge-bpf" (memcg_bpf_ops whose
# hooks return 0, attached to the cgroup) on the patched kernel. The
# kernels alternate, boot after boot, and the two patched cases alternate
# within each boot. Prints every run, the means and the ratios to the
# base; writes them to $CACHE/bench/<time>.csv.
#
# Under TCG the host's scheduling moves a run by +-10 %, more than the
# differences looked for. By default the guest therefore runs with QEMU's
# -icount (one vCPU, its clock advancing 1 ns per guest instruction), so
# that "pages/s" means pages per 10^9 guest instructions: a count of the
# work the kernel does per page, repeatable run to run, blind to cache and
# branch effects a real CPU would show. With KVM, or BENCH_CLOCK=wall,
# the guest clock is the host's and the figures are times.
#   ROUNDS=N           boots of each kernel (default 3)
#   BENCH_ARGS         bench options (default: -w1 -d5 -p1)
#   BENCH_CLOCK        icount (default) or wall
. "$(dirname "$0")/common.sh"

ROUNDS=${ROUNDS:-3}
BENCH_ARGS=${BENCH_ARGS:--w1 -d5 -p1}
BENCH_CLOCK=${BENCH_CLOCK:-icount}
case "$BENCH_CLOCK" in
icount) export VM_KVM=0 VM_CPUS=1 VM_ICOUNT=0 ;;
wall) ;;
*) die "BENCH_CLOCK=$BENCH_CLOCK: icount or wall" ;;
esac
bench_dir=$CACHE/selftests-full
[ -x "$bench_dir/bench" ] || die "no bench in $bench_dir; run: make selftests"
[ -f "$CACHE/build-full/arch/x86/boot/bzImage" ] || die "no patched kernel; run: make kernel"
FLAVOUR=base "$TOP/scripts/build-kernel.sh"

out=$CACHE/bench
mkdir -p "$out"
csv=$out/$(date +%Y%m%d-%H%M%S).csv
echo "round,kernel,case,pages_per_s,sd,clock" >"$csv"

# Run the benchmarks in a boot of kernel $1, one "case" per argument.
run_boot() {
	local flavour=$1 round=$2 c cmd="" line
	shift 2
	for c in "$@"; do
		cmd+="echo \"=== $c\"; ./bench $BENCH_ARGS $c || exit 1; "
	done
	FLAVOUR=$flavour VM_CWD=$bench_dir "$TOP/scripts/vm.sh" "$cmd" >"$out/last.txt" ||
		die "bench failed on the $flavour kernel (log: $CACHE/vm-logs/last)"
	c=
	while read -r line; do
		case "$line" in
		"=== "*) c=${line#=== } ;;
		Summary:*)
			# Summary: pages    36123.4 ±     12.3/s
			set -- $(sed -E 's/.*pages +([0-9.]+) ± +([0-9.]+)\/s.*/\1 \2/' <<<"$line")
			echo "$round,$flavour,$c,$1,$2,$BENCH_CLOCK" >>"$csv"
			printf '  round %d  %-5s %-17s %10.1f ± %.1f pages/s\n' "$round" "$flavour" "$c" "$1" "$2"
			;;
		esac
	done < <(tr -d '\r' <"$out/last.txt")
}

msg "bench: $ROUNDS rounds, bench $BENCH_ARGS, clock $BENCH_CLOCK, results in $csv"
for r in $(seq "$ROUNDS"); do
	run_boot base "$r" memcg-charge
	if [ $((r % 2)) -eq 1 ]; then
		run_boot full "$r" memcg-charge memcg-charge-bpf
	else
		run_boot full "$r" memcg-charge-bpf memcg-charge
	fi
done

awk -F, -v rounds="$ROUNDS" -v clock="$BENCH_CLOCK" '
NR > 1 { k = $2 " " $3; n[k]++; s[k] += $4; ss[k] += $4 * $4 }
END {
	split("base memcg-charge,full memcg-charge,full memcg-charge-bpf", order, ",")
	b = s[order[1]] / n[order[1]]
	printf "\n%-28s %10s %8s %8s\n", "kernel / case", "pages/s", "sd", "vs base"
	for (i = 1; i <= 3; i++) {
		k = order[i]
		if (!n[k]) continue
		m = s[k] / n[k]
		v = ss[k] / n[k] - m * m; if (v < 0) v = 0
		printf "%-28s %10.1f %8.1f %+7.2f%%\n", k, m, sqrt(v), (m / b - 1) * 100
	}
	printf "(%d boots of each kernel, mean and sd over the runs; clock: %s)\n", rounds, clock
}' "$csv"
echo "raw results: $csv"
