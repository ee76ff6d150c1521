#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# In the VM (scripts/soak.sh): the soak. Under /sys/fs/cgroup/soak, with
# memory.max 192M for workloads that want 240M (so that its reclaim asks
# the policies of hi and up) and zram swap:
#   hi/work   stress-ng faulting 64M; samples/bpf/memcg's high cgroup
#   hi/churn  cgroups created, charged 1M and removed, one after another
#   lo/work   96M kept, memory.max 64M (swaps); the sample's low cgroup
#   lo/w1     2 x 40M kept, memory.max 48M (swaps)
#   lo/w2     48M, memory.max 32M, no swap: OOM kills (meant to)
#   up/work   32M; the demo's policy tool with --update_every: its link
#             switches between below_min and below_low (BPF_LINK_UPDATE)
# samples/bpf/memcg is stopped (SIGINT: detach) and started again every
# SOAK_RESTART seconds, alternating below_low with 20 ms delays and
# below_min with 5 ms delays. Every EVERY seconds a line of samples.csv
# records slab and per-CPU memory, the kmalloc caches with and without
# memcg accounting, the memory cgroups (dying ones too) and the policies'
# counters; slabinfo-<t>.txt keeps the whole of /proc/slabinfo.
#   guest.sh RES SECS EVERY SAMPLE POLICY BPFTOOL
# Prints "soak: FAIL: ..." and exits 1 when a loader fails, a link is
# left behind, or a task outside lo/w2 was OOM killed.
set -u
RES=$1 SECS=$2 EVERY=$3 SAMPLE=$4 POLICY=$5 BPFTOOL=$6
RESTART=${SOAK_RESTART:-300}
R=/sys/fs/cgroup
D=$R/soak
. "$(dirname "$0")/../guest-lib.sh"

zram= SPID= PPID_TOOL= CHURN=
log() { echo "soak: $*"; }
unpopulated() { grep -q '^populated 0' "$1/cgroup.events"; }
cleanup() {
	local c
	[ -n "$CHURN" ] && kill "$CHURN" 2>/dev/null && wait "$CHURN" 2>/dev/null
	[ -n "$SPID" ] && kill -INT "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
	[ -n "$PPID_TOOL" ] && kill -INT "$PPID_TOOL" 2>/dev/null && wait "$PPID_TOOL" 2>/dev/null
	SPID= PPID_TOOL= CHURN=
	if [ -d "$D" ]; then
		echo 1 >"$D/cgroup.kill"
		wait_for 120 unpopulated "$D" || log "tasks left in $D"
		# Leaves first: sort -r puts a directory after its descendants
		for c in $(find "$D" -mindepth 1 -type d | sort -r); do
			rmdir "$c"
		done
		rmdir "$D"
	fi
	if [ -n "$zram" ]; then
		zram_off "$zram" || log "could not remove $zram"
		zram=
	fi
}
fail() {
	log "FAIL: $*"
	cleanup
	exit 1
}
# struct_ops links held open by a process, from fdinfo (cheaper than
# bpftool under TCG); bpftool confirms at the end
links() {
	grep -h -A1 '^link_type:.*struct_ops' /proc/[0-9]*/fdinfo/* 2>/dev/null |
		grep '^link_id:' | sort -u | wc -l
}
no_links() { [ "$(links)" -eq 0 ]; }
# No struct_ops program, map or link left in the kernel (a reference
# leaked by an update or a detach shows here)
nothing_left() {
	! "$BPFTOOL" link show | grep -q struct_ops &&
	! "$BPFTOOL" map show | grep -q 'struct_ops' &&
	! "$BPFTOOL" prog show | grep -q 'struct_ops'
}
ev() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }

[ "$(links)" -eq 0 ] || fail "struct_ops links before the soak"
z=$(cat /sys/class/zram-control/hot_add) || fail "no zram"
zram=zram$z
echo 512M >"/sys/block/$zram/disksize" && mkswap "/dev/$zram" >/dev/null &&
	swapon "/dev/$zram" || fail "swap on $zram"

# lo/w2's OOM kills are many: no task list on the (slow) serial console
echo 0 >/proc/sys/vm/oom_dump_tasks
echo +memory >"$R/cgroup.subtree_control"
mkdir -p "$D" && echo +memory >"$D/cgroup.subtree_control" && echo 192M >"$D/memory.max" ||
	fail "soak cgroup"
for c in hi lo up; do
	mkdir "$D/$c" && echo +memory >"$D/$c/cgroup.subtree_control" || fail "mkdir $c"
done
mkdir "$D/hi/work" "$D/hi/churn" "$D/lo/work" "$D/lo/w1" "$D/lo/w2" "$D/up/work" || fail mkdir
echo +memory >"$D/hi/churn/cgroup.subtree_control" || fail "hi/churn"
echo 64M >"$D/lo/work/memory.max" && echo 48M >"$D/lo/w1/memory.max" &&
	echo 32M >"$D/lo/w2/memory.max" && echo 0 >"$D/lo/w2/memory.swap.max" ||
	fail "limits"

# Workloads outlive the soak; cleanup kills them. Niced, so that the
# samples, the loaders and the churn keep their pace on two vCPUs.
T=$((SECS + 600))
in_cg "$D/hi/work" nice -n 10 stress-ng --vm 1 --vm-bytes 64M -t "$T" -q
in_cg "$D/lo/work" nice -n 10 stress-ng --vm 1 --vm-bytes 96M --vm-keep -t "$T" -q
in_cg "$D/lo/w1" nice -n 10 stress-ng --vm 2 --vm-bytes 40M --vm-keep -t "$T" -q
in_cg "$D/lo/w2" nice -n 10 stress-ng --vm 1 --vm-bytes 48M --vm-keep -t "$T" -q
in_cg "$D/up/work" nice -n 10 stress-ng --vm 1 --vm-bytes 32M -t "$T" -q
WORK="hi/work lo/work lo/w1 lo/w2 up/work"
populated() { grep -q '^populated 1' "$D/$1/cgroup.events"; }
for c in $WORK; do
	wait_for 60 populated "$c" || fail "no workload in $c"
done

# Cgroups created under high's policy, charged and removed
churn() {
	local i=0 c
	while :; do
		c=$D/hi/churn/c$i
		mkdir "$c" || { echo "churn: mkdir $c failed" >>"$RES/churn.err"; return; }
		bash -c 'echo $$ >"$0/cgroup.procs" && v=$(head -c 1000000 /dev/zero | tr "\0" x) &&
			[ ${#v} -eq 1000000 ]' "$c" || echo "churn: charge in $c failed" >>"$RES/churn.err"
		# The charging task may still be exiting
		wait_for 5 rmdir "$c" || { echo "churn: rmdir $c failed" >>"$RES/churn.err"; return; }
		i=$((i + 1))
		# Readers see the old count or the new one, never an empty file
		echo $i >"$RES/churned.tmp" && mv "$RES/churned.tmp" "$RES/churned"
	done
}
echo 0 >"$RES/churned"
churn &
CHURN=$!

restarts=0
start_sample() {
	if [ $((restarts % 2)) -eq 0 ]; then
		set -- --use_below_low --delay_ms=20
	else
		set -- --use_below_min --delay_ms=5
	fi
	"$SAMPLE" --high_path="$D/hi" --threshold=1 --low_path="$D/lo" "$@" \
		>"$RES/sample-$restarts.out" 2>&1 &
	SPID=$!
	wait_for 120 grep -q '^Successfully attached!' "$RES/sample-$restarts.out" ||
		fail "sample run $restarts: not attached within 120 s"
}
stop_sample() {
	local rc
	kill -INT "$SPID"
	wait "$SPID"
	rc=$?
	SPID=
	[ $rc -eq 0 ] || fail "sample run $restarts: exit status $rc after SIGINT"
	restarts=$((restarts + 1))
}
start_sample
"$POLICY" --high_path="$D/up" --threshold=1 --use_below_min --update_every=10 \
	>"$RES/policy.out" 2>&1 &
PPID_TOOL=$!
wait_for 120 grep -q '^Running' "$RES/policy.out" || fail "policy tool: not attached within 120 s"

# kB of the kmalloc caches, with (kmalloc-cg-*) and without memcg accounting
kmalloc_kb() {
	awk -v cg="$1" '/^kmalloc-/ && (($1 ~ /^kmalloc-cg-/) == cg) { s += $2 * $4 }
		END { printf "%d", s / 1024 }' /proc/slabinfo
}
mi() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }
sample_line() {
	local t=$1 memcgs dying prot del upd pprot line
	# Live memory cgroups (the root too) and dying ones still in memory
	memcgs=$(ev "$R/cgroup.stat" nr_subsys_memory)
	dying=$(ev "$R/cgroup.stat" nr_dying_subsys_memory)
	# The sample's cumulative counters, from its last statistics line
	prot=$(grep '^high:' "$RES/sample-$restarts.out" | tail -1 |
	       sed -nE 's/.* ([0-9]+) protected.*/\1/p')
	del=$(grep '^high:' "$RES/sample-$restarts.out" | tail -1 |
	      sed -nE 's/.*low: ([0-9]+) delayed.*/\1/p')
	upd=$(grep -c '^updated ' "$RES/policy.out")
	pprot=$(grep '| high:' "$RES/policy.out" | tail -1 | sed -nE 's/.*protected ([0-9]+).*/\1/p')
	line="$t,$(mi Slab),$(mi SUnreclaim),$(mi Percpu),$(mi VmallocUsed),$(kmalloc_kb 1),$(kmalloc_kb 0),$memcgs,$dying,$(cat "$RES/churned"),$restarts,$upd,${prot:-0},${del:-0},${pprot:-0},$(ev /proc/vmstat oom_kill),$(links)"
	case ",$line," in *,,*) fail "a counter could not be read: $line" ;; esac
	echo "$line" >>"$RES/samples.csv"
	cp /proc/slabinfo "$RES/slabinfo-$t.txt"
}
echo "t,slab_kb,sunreclaim_kb,percpu_kb,vmalloc_kb,kmalloc_cg_kb,kmalloc_kb,memcgs,dying_memcgs,churned,restarts,updates,protected,delayed,up_protected,oom_kill,links" >"$RES/samples.csv"

log "running for $SECS s: a line every $EVERY s, the sample restarted every $RESTART s"
t0=$(date +%s)
sample_line 0
next=$EVERY
last_restart=0
while [ "$next" -le "$SECS" ]; do
	now=$(( $(date +%s) - t0 ))
	# Pace the soak: nothing to wait on but the clock
	[ "$now" -lt "$next" ] && sleep $((next - now))
	kill -0 "$SPID" 2>/dev/null || fail "the sample exited (run $restarts)"
	kill -0 "$PPID_TOOL" 2>/dev/null || fail "the policy tool exited"
	[ -s "$RES/churn.err" ] && fail "$(head -1 "$RES/churn.err")"
	for c in $WORK; do
		populated "$c" || fail "the workload of $c is gone"
	done
	# The time the sample was taken, which may be late after a restart
	sample_line $(( $(date +%s) - t0 ))
	if [ $((next - last_restart)) -ge "$RESTART" ] && [ $((next + EVERY)) -le "$SECS" ]; then
		stop_sample
		start_sample
		last_restart=$next
	fi
	log "$(tail -1 "$RES/samples.csv")"
	next=$((next + EVERY))
done

# The end: every policy detached cleanly, OOM kills in lo/w2 only
stop_sample
kill -INT "$PPID_TOOL"
wait "$PPID_TOOL"
rc=$?
PPID_TOOL=
[ $rc -eq 0 ] || fail "policy tool: exit status $rc"
grep '^summary:' "$RES/policy.out" | grep -q ', failed 0' ||
	fail "policy tool: an update failed: $(grep -m1 'update failed' "$RES/policy.out")"
kill "$CHURN" && wait "$CHURN" 2>/dev/null
CHURN=
[ -s "$RES/churn.err" ] && fail "$(head -1 "$RES/churn.err")"
wait_for 30 no_links || fail "$(links) struct_ops links left"
wait_for 30 nothing_left || fail "struct_ops programs, maps or links left: $("$BPFTOOL" prog show | grep -c struct_ops) programs"
# lo/w2 ends first, so that no kill falls between the two readings
echo 1 >"$D/lo/w2/cgroup.kill"
wait_for 60 unpopulated "$D/lo/w2" || fail "lo/w2 does not end"
total=$(ev /proc/vmstat oom_kill)
w2=$(ev "$D/lo/w2/memory.events" oom_kill)
{
	echo "restarts $restarts"
	echo "updates $(grep -c '^updated ' "$RES/policy.out")"
	echo "churned $(cat "$RES/churned")"
	echo "oom_kill_total $total"
	for c in hi/work lo/work lo/w1 lo/w2 up/work; do
		echo "oom_kill_local ${c/\//_} $(ev "$D/$c/memory.events.local" oom_kill)"
	done
	echo "policy_summary $(grep '^summary:' "$RES/policy.out")"
} >"$RES/final.txt"
cat "$RES/final.txt" | sed 's/^/soak: /'
[ "${total:-0}" -eq "${w2:-0}" ] || fail "$((total - w2)) OOM kills outside lo/w2"
# The load was there: a soak without it proves nothing
[ "${w2:-0}" -gt 0 ] || fail "no OOM kill in lo/w2"
[ "$(cat "$RES/churned")" -ge $((SECS / 60)) ] || fail "only $(cat "$RES/churned") cgroups churned"
[ "$(grep -c '^updated ' "$RES/policy.out")" -ge $((SECS / 20)) ] || fail "too few updates"
grep -hE '^high:.* [1-9][0-9]* protected' "$RES"/sample-*.out | grep -q . ||
	fail "the sample's below_low/below_min never protected high"
grep -qE 'protected [1-9]' "$RES/policy.out" || fail "the policy tool never protected up"
cleanup
log OK
