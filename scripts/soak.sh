#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make soak: 30 minutes of policies attached, detached and replaced while
# workloads charge, swap, get throttled and OOM killed under memory.max
# and cgroups come and go (scripts/soak/guest.sh, on the full kernel),
# then scripts/soak/report.py: the table, the slope of every counter over
# the last 20 minutes against its noise, and a plot. Writes
# $CACHE/soak/<time>/ (samples.csv, report.md, soak.png, the loaders'
# output; $CACHE/soak/last points to it).
#   SOAK_SECS=N     length (default 1800)
#   SOAK_EVERY=N    seconds between samples (default 60)
#   SOAK_RESTART=N  seconds between restarts of samples/bpf/memcg (300)
#   SOAK_WINDOW=N   the last N seconds judged for growth (default 1200)
# Fails on a kernel report (vm.sh), a failed loader, an OOM kill outside
# the cgroup meant to have them, or growth beyond noise.
. "$(dirname "$0")/common.sh"

SOAK_SECS=${SOAK_SECS:-1800}
SOAK_EVERY=${SOAK_EVERY:-60}
SOAK_WINDOW=${SOAK_WINDOW:-1200}
S=$CACHE/selftests-$FLAVOUR
for f in samples/memcg samples/policy tools/sbin/bpftool; do
	[ -x "$S/$f" ] || die "no $S/$f; run: make selftests"
done
[ -f "$OUT/arch/x86/boot/bzImage" ] || die "no kernel; run: make kernel"

res=$CACHE/soak/$(date +%Y%m%d-%H%M%S)
mkdir -p "$res"
ln -sfn "$res" "$CACHE/soak/last"
msg "soak: $SOAK_SECS s on the $FLAVOUR kernel, results in $res"
set +e
VM_TIMEOUT=$((SOAK_SECS + 1200)) VM_RWDIRS="$res" VM_LOGS=$res/vm \
	"$TOP/scripts/vm.sh" "SOAK_RESTART=${SOAK_RESTART:-300} bash '$TOP/scripts/soak/guest.sh' \
'$res' '$SOAK_SECS' '$SOAK_EVERY' '$S/samples/memcg' '$S/samples/policy' '$S/tools/sbin/bpftool'"
rc=$?
set -e
[ -s "$res/samples.csv" ] || die "the soak recorded nothing (logs: $res/vm)"
header="soak, $(date +%F), kernel $(cat "$OUT/include/config/kernel.release") ($FLAVOUR), \
guest ${VM_MEM:-2G} / ${VM_CPUS:-2} vCPUs, QEMU $(cat "$res/vm/accel" 2>/dev/null)"
set +e
in_root python3 "$TOP/scripts/soak/report.py" "$res" "$SOAK_WINDOW" "$header"
rrc=$?
set -e
echo "table: $res/report.md; plot: $res/soak.png; samples: $res/samples.csv; VM logs: $res/vm"
[ $rc -eq 0 ] || die "the soak failed in the VM (exit $rc; see $res/vm/stdout)"
[ $rrc -ne 3 ] || die "the soak's counters grew beyond noise (see $res/report.md)"
[ $rrc -eq 0 ] || die "the report could not be made (exit $rrc)"
msg "soak: OK"
