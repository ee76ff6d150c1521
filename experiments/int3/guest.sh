#!/bin/sh
# Run in the VM from the selftests directory (make vm), as root:
#   guest.sh memcg SECS   toggle memcg_bpf_ops_key: bench memcg-attach
#                         (attach and detach a policy, no descendants)
#   guest.sh sched SECS   toggle an unrelated upstream key
#                         (kernel.sched_schedstats) in a loop
# both under the same reclaim load: stress-ng --vm in a cgroup whose
# memory.max is a third of its working set, swapping to zram.
mode=$1 secs=${2:-60}
CACHE_DIR=${CACHE_DIR:-/root/.cache/memcg-bpf}
echo 1G >/sys/block/zram0/disksize && mkswap /dev/zram0 >/dev/null && swapon /dev/zram0 || exit 1
echo +memory >/sys/fs/cgroup/cgroup.subtree_control
mkdir -p /sys/fs/cgroup/int3load
echo 64M >/sys/fs/cgroup/int3load/memory.max
sh -c "echo \$\$ >/sys/fs/cgroup/int3load/cgroup.procs; exec stress-ng --vm 2 --vm-bytes 96M --vm-keep -t ${secs}s -q" &
load=$!
t0=$(cut -d. -f1 /proc/uptime)
case $mode in
memcg)	./bench -w1 -d"$((secs - 1))" -p1 memcg-attach --descendants 0 2>&1 | grep -a -E "Summary|failed|error" ;;
sched)	# toggle.c, built on the host: scripts/int3.sh
	"$CACHE_DIR"/int3-toggle /proc/sys/kernel/sched_schedstats "$secs" ;;
esac
wait $load
echo "pgscan in the load cgroup: $(grep -w pgscan /sys/fs/cgroup/int3load/memory.stat)"
echo "oops-like reports: $(dmesg | grep -c -E 'int3|Oops|BUG:|general protection')"
dmesg | grep -E -A30 'int3|Oops|BUG:|general protection' | head -60
