#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make fault: systematic fault injection into the control path of
# memcg_bpf_ops (scripts/fault/failnth.c) on the debug kernel, which has
# CONFIG_FAULT_INJECTION, FAILSLAB and FAIL_PAGE_ALLOC (configs/debug.config)
# besides KASAN, lockdep and kmemleak. Every slab and page allocation of
# the operation's syscall may fail, GFP_KERNEL and order 0 included (the
# debugfs defaults spare both); the run fails on an inconsistency, an
# undocumented errno, a kernel splat or a kmemleak report.
#   FAULT_DESCENDANTS=N  children of the policy's cgroup (each with a
#                        child of its own; default 4)
#   FAULT_OPS=name       one operation only (link_create, register,
#                        link_update, link_close, mkdir, rmdir, kfunc)
. "$(dirname "$0")/common.sh"

SELFTESTS=$CACHE/selftests-$FLAVOUR
tool=$SELFTESTS/samples/failnth
[ -x "$tool" ] || die "no $tool; run: FLAVOUR=$FLAVOUR make selftests"
for opt in FAULT_INJECTION FAILSLAB FAIL_PAGE_ALLOC FAULT_INJECTION_DEBUG_FS; do
	grep -q "^CONFIG_$opt=y" "$OUT/.config" ||
		die "the $FLAVOUR kernel has no CONFIG_$opt (FLAVOUR=debug has it)"
done
# Other fault types would take fail-nth's count and fail with EFAULT
for opt in FAULT_INJECTION_USERCOPY FAIL_FUTEX; do
	! grep -q "^CONFIG_$opt=y" "$OUT/.config" ||
		die "the $FLAVOUR kernel has CONFIG_$opt: make fault counts slab and page faults only"
done
args="-d ${FAULT_DESCENDANTS:-4}${FAULT_OPS:+ -o $FAULT_OPS}"
log=$CACHE/vm-logs/$(date +%Y%m%d-%H%M%S)-fault-$$
msg "fault injection: failnth $args on the $FLAVOUR kernel"
set +e
VM_LOGS=$log "$TOP/scripts/vm.sh" "
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
for f in failslab fail_page_alloc; do
	echo N >/sys/kernel/debug/\$f/ignore-gfp-wait
	echo 0 >/sys/kernel/debug/\$f/verbose
done
echo N >/sys/kernel/debug/fail_page_alloc/ignore-gfp-highmem
echo 0 >/sys/kernel/debug/fail_page_alloc/min-order
./samples/failnth $args"
rc=$?
set -e
out=$log/stdout
echo
echo "kernel: $(cat "$OUT/include/config/kernel.release" 2>/dev/null) ($FLAVOUR), log: $log"
tr -d '\r' <"$out" | grep -E '^[a-z_]+: [0-9]+ failure points' || true
if [ $rc -ne 0 ] || ! grep -q '^failnth: OK' "$out"; then
	tr -d '\r' <"$out" | grep '  FAIL: ' | head -20 >&2 || true
	die "fault injection: FAIL"
fi
msg "fault injection: OK (no inconsistency, no splat, kmemleak clean)"
