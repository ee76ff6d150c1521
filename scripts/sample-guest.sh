#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# In the VM, after test_progs (scripts/test.sh): run the series'
# samples/bpf/memcg loader as its users would, and check what it did in
# the kernel.
#   sample-guest.sh MEMCG BPFTOOL
# 1. usage: --help lists every option, bad input exits 2 with a message;
# 2. the design document's command line (seed 004: --threshold=1
#    --use_below_min) attaches below_min to "high" (bpftool link show has
#    it, with high's cgroup id), counts high's page faults, and Ctrl-C
#    (SIGINT) detaches and exits 0;
# 3. asynchronous reclaim: a workload over --reclaim_trigger in a cgroup
#    gets reclaimed by the bpf_wq (the sample's counters and memory.stat's
#    pgsteal_proactive both move);
# 4. SIGTERM as soon as the loader catches it (during setup, under TCG)
#    still exits 0 with no link left.
# Prints "sample: OK" or "sample: FAIL: reason"; exit status to match.
set -u
M=$1 BPFTOOL=$2
R=/sys/fs/cgroup
D=$R/sample-check
out=/tmp/sample.out
zram=

log() { echo "sample: $*"; }
cleanup() {
	local c
	[ -n "${PID:-}" ] && kill -INT "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	for c in "$D"/*/; do
		[ -d "$c" ] || continue
		kill -9 $(cat "$c/cgroup.procs" 2>/dev/null) 2>/dev/null
		wait_for 30 cg_empty "$c"
		rmdir "$c"
	done
	rmdir "$D" 2>/dev/null
	if [ -n "$zram" ]; then
		zram_off "$zram" || echo "sample: could not remove $zram"
	fi
}
fail() {
	echo "sample: FAIL: $*"
	[ -s "$out" ] && sed 's/^/  | /' "$out" | tail -20
	cleanup
	exit 1
}
. "$(dirname "$0")/guest-lib.sh"
# stop_loader SIGNAL WHAT: signal the loader, which must exit with status 0
stop_loader() {
	local rc
	kill -"$1" "$PID"
	wait "$PID"
	rc=$?
	PID=
	[ $rc -eq 0 ] || fail "$2: exit status $rc after SIG$1"
}
struct_ops_links() { "$BPFTOOL" link show | grep -c struct_ops; }

# 1. Usage
"$M" --help >"$out" 2>&1 || fail "--help: exit status $?"
for o in high_path threshold use_below_low use_below_min low_path delay_ms \
	 reclaim_path reclaim_trigger reclaim_target help; do
	grep -q -- "--$o" "$out" || fail "--help does not list --$o"
done
bad() {	# bad MESSAGE ARGS...: the loader refuses ARGS with MESSAGE, status 2
	local want=$1 rc
	shift
	"$M" "$@" >"$out" 2>&1
	rc=$?
	[ $rc -eq 2 ] || fail "$*: exit status $rc, not 2"
	grep -q -- "$want" "$out" || fail "$*: no message '$want'"
}
bad "unrecognized option" --bogus
bad "give --high_path, --reclaim_path or both"
bad "--delay_ms needs --low_path" --high_path=$R --delay_ms=5
bad "invalid number" --high_path=$R --threshold=1x
bad "No such file or directory" --high_path=/nonexistent --use_below_min
bad "go together" --reclaim_path=$R --reclaim_trigger=1M
bad "must be below" --reclaim_path=$R --reclaim_trigger=1M --reclaim_target=2M
mkdir -p "$D/high" "$D/low" "$D/batch" || fail "mkdir"
echo +memory >"$R/cgroup.subtree_control"
echo +memory >"$D/cgroup.subtree_control" || fail "enable memory"
bad "same or nested" --high_path="$D/high" --use_below_low --low_path="$D/high/" --delay_ms=1
bad "same or nested" --high_path="$D" --use_below_min --reclaim_path="$D/batch" --reclaim_trigger=2M --reclaim_target=1M
bad "not a cgroup v2 directory" --high_path=/tmp --use_below_low

# 2. The design document's command line, with dashes for one option
[ "$(struct_ops_links)" -eq 0 ] || fail "struct_ops links before the run"
in_cg "$D/high" sh -c 'while :; do /bin/true; done'
"$M" --low_path="$D/low" --high-path="$D/high" --threshold=1 --use_below_min >"$out" 2>&1 &
PID=$!
wait_for 60 grep -q '^Successfully attached!' "$out" || fail "not attached within 60 s"
id=$(stat -c %i "$D/high")
"$BPFTOOL" link show | grep -q "cgroup_id $id " || fail "no link on high (cgroup_id $id)"
[ "$(struct_ops_links)" -eq 1 ] || fail "$(struct_ops_links) struct_ops links, not 1"
wait_for 30 grep -Eq '^high: [1-9][0-9]* faults/s' "$out" || fail "no fault of high counted"
stop_loader INT "seed 004 command line"
[ "$(struct_ops_links)" -eq 0 ] || fail "struct_ops link left after SIGINT"
kill -9 $(cat "$D/high/cgroup.procs")
log "seed 004 command line: attached, $(grep -c '^high:' "$out") statistics lines, detached on SIGINT"
tail -3 "$out" | sed 's/^/  | /'

# 3. Asynchronous reclaim of "batch": 96 MiB of anonymous memory, trigger
# 48 MiB, target 32 MiB, memory.max 80 MiB. Reclaim needs swap.
if ! grep -q '^/' /proc/swaps; then
	zram=$(cat /sys/class/zram-control/hot_add) || fail "no zram for swap"
	zram=zram$zram
	echo 256M >"/sys/block/$zram/disksize" && mkswap "/dev/$zram" >/dev/null &&
		swapon "/dev/$zram" || fail "swap on $zram"
fi
echo 80M >"$D/batch/memory.max"
"$M" --reclaim_path="$D/batch" --reclaim_trigger=48M --reclaim_target=32M >"$out" 2>&1 &
PID=$!
wait_for 60 grep -q '^Successfully attached!' "$out" || fail "reclaim: not attached within 60 s"
in_cg "$D/batch" stress-ng --vm 1 --vm-bytes 96M --vm-keep -t 60s -q
wait_for 60 grep -Eq 'reclaim: [1-9][0-9]* calls, [1-9][0-9]* pages' "$out" ||
	fail "reclaim: no pages reclaimed by the sample within 60 s"
steal=$(awk '$1 == "pgsteal_proactive" { print $2 }' "$D/batch/memory.stat")
[ "${steal:-0}" -gt 0 ] || fail "reclaim: pgsteal_proactive is ${steal:-0}"
stop_loader INT "reclaim"
log "asynchronous reclaim: $(tail -1 "$out"), pgsteal_proactive $steal"

# 4. SIGTERM as soon as the loader has its handler (SigCgt bit 15): it is
# then still setting up, loading its programs takes a second under TCG
caught() {
	local m
	m=$(awk '/^SigCgt:/ { print $2 }' "/proc/$PID/status" 2>/dev/null)
	[ -n "$m" ] && (( 0x$m & 0x4000 ))
}
"$M" --high_path="$D/high" --use_below_low >"$out" 2>&1 &
PID=$!
wait_for 30 caught || fail "no SIGTERM handler within 30 s"
stop_loader TERM "early SIGTERM"
[ "$(struct_ops_links)" -eq 0 ] || fail "struct_ops link left after an early SIGTERM"

cleanup
log OK
