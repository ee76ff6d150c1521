#!/bin/bash
# In the VM (scripts/vm.sh): why a test's zram device could be left
# behind. zram refuses hot_remove (EBUSY) while anyone has the device
# open, as udev does for a moment after each uevent. Then the fixed
# swap_off() under an opener that behaves like udev, many times over.
set -u
d=$(cat /sys/class/zram-control/hot_add)
echo 64M >/sys/block/zram$d/disksize && mkswap /dev/zram$d >/dev/null && swapon /dev/zram$d
mkfifo /tmp/opened
( exec 3</dev/zram$d; echo >/tmp/opened; sleep 1 ) &
read -r _ </tmp/opened
swapoff /dev/zram$d
if echo $d >/sys/class/zram-control/hot_remove 2>/tmp/err; then
	echo "hot_remove while open: succeeded"
else
	echo "hot_remove while open: failed: $(cat /tmp/err)"
fi
wait
echo $d >/sys/class/zram-control/hot_remove && echo "hot_remove after close: succeeded"
ls /sys/block | grep zram | tr '\n' ' '; echo

# An opener that holds every added zram device for 0.3 s at a time
( while :; do
	for z in /dev/zram[1-9]*; do
		[ -b "$z" ] && { exec 3<"$z"; sleep 0.3; exec 3<&-; } 2>/dev/null
	done
	sleep 0.05
done ) &
opener=$!
./test_progs -t memcg_ops_async_reclaim 2>&1 | grep -E "swap_off|^#[0-9]+ |Summary"
kill $opener; wait $opener 2>/dev/null
echo "zram devices after the test: $(ls /sys/block | grep zram | tr '\n' ' ')"
grep -c . /proc/swaps | sed 's/^/lines in \/proc\/swaps: /'
