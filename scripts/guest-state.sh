#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# In the VM: what tests may leave behind (cgroups, swap areas, zram
# devices), one per line, sorted. scripts/test.sh compares its output
# before and after the tests. The cgroup v2 hierarchy is mounted for the
# look if the guest has it nowhere (the tests mount it privately).
cg=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
if [ -z "$cg" ]; then
	cg=/tmp/guest-state-cgroup2
	mkdir -p "$cg" && mount -t cgroup2 none "$cg" || echo "cgroup2: cannot mount"
fi
find "$cg" -mindepth 1 -type d | sed "s|^$cg|cgroup |"
tail -n +2 /proc/swaps | awk '{ print "swap " $1 }'
ls /sys/block | grep '^zram' | sed 's/^/block /'
