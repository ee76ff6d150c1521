#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# In the VM: what tests may leave behind (cgroups, swap areas, zram
# devices), one per line, sorted. scripts/test.sh compares its output
# before and after the tests.
find /sys/fs/cgroup -mindepth 1 -type d | sed 's/^/cgroup /'
tail -n +2 /proc/swaps | awk '{ print "swap " $1 }'
ls /sys/block | grep '^zram' | sed 's/^/block /'
