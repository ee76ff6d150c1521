#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What memcg_bpf_ops costs where its hooks are called, per call. The
# selftests benchmarks (benchs/bench_memcg_charge.c):
#   memcg-charge*   page faults of fresh anonymous memory in a cgroup: one
#                   charge and uncharge per page; hits are pages
#   memcg-reclaim*  writes to memory.reclaim of a parent whose 8 children
#                   hold unevictable memory: below_low and below_min for
#                   every child at every pass; hits are writes
# each without a policy (on the base kernel and the patched one), with
# hooks that only count their calls ("-bpf") and with a policy's work per
# call ("-policy": a hash map lookup, counters, a clock read). The kernels
# alternate, boot after boot, and the patched cases rotate within each
# boot. Prints every run and a table: hits/s, instructions per hit, hook
# calls per hit (counted by the programs) and the instructions each call
# adds to the case without a policy; writes $CACHE/bench/<time>.csv.
#
# Under TCG the host's scheduling moves a run by +-10 %, more than the
# differences looked for. By default the guest therefore runs with QEMU's
# -icount (one vCPU, its clock advancing 1 ns per guest instruction), so
# that "pages/s" means pages per 10^9 guest instructions: a count of the
# work the kernel does per page, repeatable run to run, blind to cache and
# branch effects a real CPU would show. With KVM, or BENCH_CLOCK=wall,
# the guest clock is the host's and the figures are times (the
# "instructions" columns are then nanoseconds).
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
echo "round,kernel,case,hits_per_s,sd,clock,charged,uncharged,below_low,below_min" >"$csv"

# Run the benchmarks in a boot of kernel $1, one "case" per argument.
run_boot() {
	local flavour=$1 round=$2 c cmd="" line calls
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
		"Calls per hit:"*)
			# Calls per hit: memcg_charged 0.0157 memcg_uncharged ... below_min 0.0000
			calls=$(awk '{ printf "%s,%s,%s,%s", $5, $7, $9, $11 }' <<<"$line")
			sed -i "\$s/,,,,\$/,$calls/" "$csv"
			;;
		Summary:*)
			# Summary: pages    36123.4 ±     12.3/s
			set -- $(sed -E 's/.*: [a-z]+ +([0-9.]+) ± +([0-9.]+)\/s.*/\1 \2/' <<<"$line")
			echo "$round,$flavour,$c,$1,$2,$BENCH_CLOCK,,,," >>"$csv"
			printf '  round %d  %-5s %-21s %10.1f ± %.1f /s\n' "$round" "$flavour" "$c" "$1" "$2"
			;;
		esac
	done < <(tr -d '\r' <"$out/last.txt")
}

msg "bench: $ROUNDS rounds, bench $BENCH_ARGS, clock $BENCH_CLOCK, results in $csv"
cases=(memcg-charge memcg-charge-bpf memcg-charge-policy
       memcg-reclaim memcg-reclaim-bpf memcg-reclaim-policy)
for r in $(seq "$ROUNDS"); do
	run_boot base "$r" memcg-charge memcg-reclaim
	# A different order in each boot
	k=$(( (r - 1) % ${#cases[@]} ))
	run_boot full "$r" "${cases[@]:k}" "${cases[@]:0:k}"
done

python3 - "$csv" "$BENCH_CLOCK" "$ROUNDS" <<'PY'
import csv, math, sys
rows = list(csv.DictReader(open(sys.argv[1])))
clock, rounds = sys.argv[2], sys.argv[3]
def stats(xs):
    m = sum(xs) / len(xs)
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0
    return m, sd
by = {}
for r in rows:
    by.setdefault((r['kernel'], r['case']), []).append(r)
print(f"\n{'kernel / case':28} {'hits/s':>10} {'sd':>8} {'insn/hit':>10} "
      f"{'calls/hit':>10} {'insn/call':>10}")
for kernel, case in [('base', 'memcg-charge'), ('full', 'memcg-charge'),
                     ('full', 'memcg-charge-bpf'), ('full', 'memcg-charge-policy'),
                     ('base', 'memcg-reclaim'), ('full', 'memcg-reclaim'),
                     ('full', 'memcg-reclaim-bpf'), ('full', 'memcg-reclaim-policy')]:
    rs = by.get((kernel, case))
    if not rs:
        continue
    m, sd = stats([float(r['hits_per_s']) for r in rs])
    insn = 1e9 / m
    line = f"{kernel + ' ' + case:28} {m:10.1f} {sd:8.1f} {insn:10.0f}"
    hooks = ('charged', 'uncharged') if 'charge' in case else ('below_low', 'below_min')
    if rs[0]['charged'] != '':
        calls = stats([sum(float(r[h]) for h in hooks) for r in rs])[0]
        none = by.get(('full', case.rsplit('-', 1)[0]))
        if none and calls:
            base_insn = 1e9 / stats([float(r['hits_per_s']) for r in none])[0]
            line += f" {calls:10.4f} {(insn - base_insn) / calls:10.1f}"
        else:
            line += f" {calls:10.4f} {'-':>10}"
    print(line)
unit = 'guest instructions (QEMU -icount)' if clock == 'icount' else 'ns (wall clock: "insn" columns are ns)'
print(f"({rounds} boots of each kernel; mean and sd over the runs; {unit}; "
      "calls/hit: memcg_charged + memcg_uncharged for charge, below_low + below_min "
      "for reclaim, counted by the programs; insn/call: what a call adds to the "
      "same case without a policy)")
PY
echo "raw results: $csv"
