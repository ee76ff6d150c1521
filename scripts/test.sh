#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run the series' tests in the VM with the upstream test_progs runner and
# print a summary. Non-zero exit on any failed or skipped test of the
# series, on any kernel splat, or when the guest does not come back.
#   TESTS="a,b"  test_progs -t selection (default: the series' tests)
#   EXACT=1      TESTS are exact test[/subtest] names (test_progs -a)
#   PARALLEL=1   run test_progs -j (the non-serial tests in parallel)
#   REPEAT=N     run the selection N times in one boot (default 1)
#   STRESS_SECS=N  duration of memcg_ops_stress (its default: 5 s, the
#                short run every `make test` has; 60 for the long run)
#   SAMPLE=0|1   also run samples/bpf/memcg as a user would, after the
#                tests (scripts/sample-guest.sh; default: 1 unless TESTS
#                is given); it counts as one test
. "$(dirname "$0")/common.sh"

SELFTESTS=$CACHE/selftests-$FLAVOUR
[ -x "$SELFTESTS/test_progs" ] || die "no test_progs in $SELFTESTS; run: make selftests"
REPEAT=${REPEAT:-1}

# The series' tests (every test_progs test it adds), and the upstream tests
# of the code it changes: struct_ops links (every test with "struct_ops" in
# its name), cgroup BPF links and their release, the memcg kfuncs.
series_tests() {
	local t=() f
	for f in memcg_ops struct_ops_cgroup; do
		[ -f "$KDIR/tools/testing/selftests/bpf/prog_tests/$f.c" ] && t+=("$f")
	done
	t+=(struct_ops cgroup_link cgroup_attach_override cgroup_iter_memcg)
	(IFS=,; echo "${t[*]}")
}
SAMPLE=${SAMPLE:-$([ -n "${TESTS:-}" ] && echo 0 || echo 1)}
TESTS=${TESTS:-$(series_tests)}
sample=
if [ "$SAMPLE" = 1 ]; then
	[ -x "$SELFTESTS/samples/memcg" ] || die "no samples/bpf/memcg in $SELFTESTS/samples; run: make selftests"
	sample="[ \$rc = 0 ] && { bash '$TOP/scripts/sample-guest.sh' ./samples/memcg ./tools/sbin/bpftool || rc=1; }"
fi

env= wd=
if [ -n "${STRESS_SECS:-}" ]; then
	[[ $STRESS_SECS =~ ^[0-9]+$ ]] || die "STRESS_SECS must be a number of seconds"
	env="MEMCG_OPS_STRESS_SECS=$STRESS_SECS "
	# test_progs' watchdog kills a test after 120 s by default
	wd=" -w $((STRESS_SECS + 120))"
fi
# Under TCG, KASAN and lockdep make some subtests take more than that
# (memcg_ops/min_floor, memcg_ops_async_reclaim/async_reclaim: 2 to 3
# minutes): its SIGSEGV then interrupts the test's waitpid() and, the
# second time, kills test_progs. The debug kernels get 15 minutes.
if [ "$FLAVOUR" != full ] && [ "${STRESS_SECS:-0}" -lt 780 ]; then
	wd=" -w 900"
fi
sel=-t
[ "${EXACT:-0}" = 1 ] && sel=-a
[ "${PARALLEL:-0}" = 1 ] && sel="-j $sel"
msg "running ${env}test_progs $sel $TESTS ($REPEAT time(s)) in the VM"
log=$CACHE/vm-logs/$(date +%Y%m%d-%H%M%S)-test-$$
set +e
# Whether the tests and the sample pass or fail, they must leave no
# cgroup, swap area or zram device behind: each one left is a "leftover:"
# line, and a failure.
VM_LOGS=$log "$TOP/scripts/vm.sh" "
sh '$TOP/scripts/guest-state.sh' | sort >'$log/state-before'
rc=0
for i in \$(seq $REPEAT); do
	echo \"=== run \$i/$REPEAT\"
	${env}./test_progs${wd} $sel '$TESTS' || { rc=1; break; }
done
$sample
sh '$TOP/scripts/guest-state.sh' | sort >'$log/state-after'
diff '$log/state-before' '$log/state-after' | sed -n 's/^> /leftover: /p'
exit \$rc"
rc=$?
set -e
[ -f "$log/cmd" ] || die "the VM runner did not start"

# Count the leaves of test_progs' results: every subtest ("#12/3 name:OK"),
# and every test without subtests ("#12 name:OK").
out=$log/stdout
read -r passed failed skipped < <(tr -d '\r' <"$out" | awk '
	/^=== run / { run++ }
	match($0, /^#[0-9]+(\/[0-9]+)?[ \t]+[^ \t]+:(OK|FAIL|SKIP)/) {
		split($1, id, "/"); res = $2; sub(/.*:/, "", res)
		if (id[2] != "") { sub_of[run " " id[1]] = 1; leaf[run " " $1] = res }
		else top[run " " id[1]] = res
	}
	END {
		for (k in leaf) n[leaf[k]]++
		for (t in top) if (!(t in sub_of)) n[top[t]]++
		print n["OK"] + 0, n["FAIL"] + 0, n["SKIP"] + 0
	}')
if ! grep -q '^Summary: ' "$out"; then
	echo "no test_progs summary found (log: $log)" >&2
	failed=$((failed + 1))
fi
if [ "$skipped" -gt 0 ]; then
	echo "skipped tests count as failures here:" >&2
	grep -E '^#[0-9/]+ .*:SKIP' "$out" | sort -u | sed 's/^/  /' >&2
	failed=$((failed + skipped))
fi
if [ -n "$sample" ]; then
	if grep -q '^sample: OK' "$out"; then
		passed=$((passed + 1))
	else
		echo "samples/bpf/memcg check: $(grep -m1 '^sample: FAIL' "$out" || echo 'no result')" >&2
		failed=$((failed + 1))
	fi
fi
if grep -q '^leftover: ' "$out"; then
	echo "left behind by the tests:" >&2
	grep '^leftover: ' "$out" | sed 's/^/  /' >&2
	failed=$((failed + 1))
fi
[ -s "$log/splats.txt" ] && failed=$((failed + 1))
[ $rc -eq 0 ] || [ $failed -gt 0 ] || failed=1
echo
echo "kernel: $(cat "$OUT/include/config/kernel.release" 2>/dev/null) ($FLAVOUR), tests: $sel $TESTS, runs: $REPEAT, log: $log"
echo "test_progs: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
