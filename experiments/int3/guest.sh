#!/bin/sh
# Run in the VM from the selftests directory (make vm), as root:
#   guest.sh memcg SECS   toggle memcg_bpf_ops_key: bench memcg-attach
#                         (attach and detach a policy, no descendants)
#   guest.sh sched SECS   toggle an unrelated upstream key
#                         (kernel.sched_schedstats) in a loop
# both under the same reclaim load: stress-ng --vm in a cgroup whose
# memory.max is a third of its working set, swapping to zram.
mode=$1 secs=${2:-60}
echo 1G >/sys/block/zram0/disksize && mkswap /dev/zram0 >/dev/null && swapon /dev/zram0 || exit 1
echo +memory >/sys/fs/cgroup/cgroup.subtree_control
mkdir -p /sys/fs/cgroup/int3load
echo 64M >/sys/fs/cgroup/int3load/memory.max
sh -c "echo \$\$ >/sys/fs/cgroup/int3load/cgroup.procs; exec stress-ng --vm 2 --vm-bytes 96M --vm-keep -t ${secs}s -q" &
load=$!
t0=$(cut -d. -f1 /proc/uptime)
case $mode in
memcg)	./bench -w0 -d"$secs" -p1 memcg-attach --descendants 0 | grep -a Summary ;;
sched)	n=0
	while [ $(( $(cut -d. -f1 /proc/uptime) - t0 )) -lt "$secs" ]; do
		echo 1 >/proc/sys/kernel/sched_schedstats
		echo 0 >/proc/sys/kernel/sched_schedstats
		n=$((n + 1))
	done
	echo "sched_schedstats enabled and disabled $n times in $secs s" ;;
esac
wait $load
echo "pgscan in the load cgroup: $(grep -w pgscan /sys/fs/cgroup/int3load/memory.stat)"
echo "oops-like reports: $(dmesg | grep -c -E 'int3|Oops|BUG:|general protection')"
dmesg | grep -E -A30 'int3|Oops|BUG:|general protection' | head -60
