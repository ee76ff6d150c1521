# SPDX-License-Identifier: GPL-2.0
# Shell helpers of the scripts that run in the VM (scripts/sample-guest.sh,
# scripts/demo/guest.sh, scripts/soak/guest.sh); sourced, not run.

# Run "$@" in cgroup $1 (a new process that joins it first), in background.
in_cg() {
	local cg=$1
	shift
	bash -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$cg" "$@" &
}

# Wait until command "$@" succeeds, at most $1 seconds.
wait_for() {
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 10; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# True when cgroup $1 has no task (for wait_for: evaluated at every try).
cg_empty() {
	[ -z "$(cat "$1/cgroup.procs" 2>/dev/null)" ]
}

# Swap off zram device $1 (zramN) and remove it. udev opens a zram device
# on its uevents, and zram refuses hot_remove (EBUSY) while it is open:
# retry for up to 10 s.
zram_off() {
	swapoff "/dev/$1" 2>/dev/null
	# Still a swap area (swapoff failed): the device cannot go
	grep -q "^/dev/$1 " /proc/swaps && return 1
	wait_for 10 sh -c 'echo "$0" >/sys/class/zram-control/hot_remove' "${1#zram}" 2>/dev/null
}
