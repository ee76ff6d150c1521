#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot the built kernel in QEMU (virtme-ng, the toolchain root as the
# guest's root filesystem) and run a command in it.
#   vm.sh 'command ...'
# Exit status: the command's; non-zero as well when the guest printed a
# WARN, BUG, Oops, lockdep, KASAN, kmemleak, hung-task or RCU stall report,
# or did not come back. The console log and the guest's dmesg are kept in
# $CACHE/vm-logs/<time>/.
# Environment: VM_MEM (2G), VM_CPUS (2), VM_KVM (auto|0|1), VM_TIMEOUT
# (seconds, 3600), FLAVOUR (full|debug), VM_CWD (guest working directory),
# VM_LOGS (the log directory to use instead of a new one: lets a caller
# find its own run's logs while other VMs run), VM_RWDIRS (more host
# directories the guest may write, space separated), VM_ICOUNT (TCG only:
# QEMU's -icount shift=N, the guest clock then counts guest instructions,
# 2^N ns each, instead of host time, so timings taken in the guest are
# instruction counts and repeat from run to run; for benchmarks),
# VM_SPLAT_IGNORE (an extended regex: kernel reports matching it do not
# fail the run; scripts/kcsan.sh collects KCSAN's itself).
. "$(dirname "$0")/common.sh"

[ $# -ge 1 ] || die "usage: vm.sh 'command'"
cmd=$*
image=$OUT/arch/x86/boot/bzImage
[ -f "$image" ] || die "no kernel image $image; run: make kernel"
VM_MEM=${VM_MEM:-2G}
VM_CPUS=${VM_CPUS:-2}
VM_TIMEOUT=${VM_TIMEOUT:-3600}
VM_CWD=${VM_CWD:-$CACHE/selftests-$FLAVOUR}
[ -d "$VM_CWD" ] || VM_CWD=/

logs=${VM_LOGS:-$CACHE/vm-logs/$(date +%Y%m%d-%H%M%S)-$$}
rm -f "$logs/rc" "$logs/dmesg.txt" "$logs/kmemleak.txt"
mkdir -p "$logs"
[ -n "${VM_PROBING:-}" ] || ln -sfn "$logs" "$CACHE/vm-logs/last"

# The command runs from a script on a shared writable directory; the guest
# writes its exit status and its dmesg there before powering off.
printf '%s\n' "$cmd" >"$logs/cmd"
cat >"$logs/guest.sh" <<EOT
#!/bin/sh
cd '$VM_CWD' 2>/dev/null || cd /
ulimit -l unlimited 2>/dev/null
/bin/sh '$logs/cmd'
rc=\$?
# The debug kernel has kmemleak: scan now, report what stays unreferenced.
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug 2>/dev/null
if [ -w /sys/kernel/debug/kmemleak ]; then
	echo scan >/sys/kernel/debug/kmemleak; echo scan >/sys/kernel/debug/kmemleak
	cat /sys/kernel/debug/kmemleak >'$logs/kmemleak.txt'
fi
dmesg >'$logs/dmesg.txt' 2>&1
echo \$rc >'$logs/rc'
exit \$rc
EOT
chmod +x "$logs/guest.sh"

# Nested KVM may hang while the guest decompresses its kernel: probe once
# per host boot, fall back to TCG.
kvm_ok() {
	local probe=$CACHE/kvm-probe boot
	boot=$(cat /proc/sys/kernel/random/boot_id)
	if [ -f "$probe" ] && [ "$(head -1 "$probe")" = "$boot" ]; then
		[ "$(tail -1 "$probe")" = ok ]
		return
	fi
	local res=bad
	if [ -w /dev/kvm ]; then
		msg "probing KVM (once per host boot)"
		if timeout 60 "$0.probe" >/dev/null 2>&1; then res=ok; fi
	fi
	printf '%s\n%s\n' "$boot" "$res" >"$probe"
	[ $res = ok ]
}

# virtme-init waits for udev's coldplug at most 120 s ("udevadm settle"),
# and the guest needs the /dev/virtio-ports links it makes to run its
# command. The full kernel settles in a minute; the debug kernels under
# TCG took 6 to 16 minutes. Let udev settle for 15 minutes and, with
# memcg_bpf.udev=minimal on the command line (the kernels other than
# the full one), coldplug only the virtio ports. Both edits are made once.
init=$ROOTFS/usr/lib/python3/dist-packages/virtme/guest/virtme-init
[ ! -f "$init" ] || sed -i \
	-e 's|^    udevadm settle$|    udevadm settle --timeout=900|' \
	-e 's|^\(    udevadm trigger --type=devices --action=add\) \(> /dev/null 2>&1\)$|    grep -qw memcg_bpf.udev=minimal /proc/cmdline \&\& only=--subsystem-match=virtio-ports \|\| only=\n\1 $only \2|' \
	"$init"

# QEMU's "-cpu max" offers 5-level paging; the KASAN kernel then reports a
# wild-memory-access in an interrupt taken while it boots (before any code
# of the series runs). Boot it with 4-level paging, as most machines are.
append=
[ "$FLAVOUR" != debug ] || append=no5lvl
[ "$FLAVOUR" = full ] || append="$append memcg_bpf.udev=minimal"
vng_args=(--run "$image" --memory "$VM_MEM" --cpus "$VM_CPUS" --verbose
	--rwdir "$logs" --rwdir "$CACHE/selftests-$FLAVOUR"
	--append "panic_on_warn=0 oops=panic softlockup_panic=0 hung_task_panic=0 nokaslr $append"
	--user root)
for d in ${VM_RWDIRS:-}; do
	vng_args+=(--rwdir "$d")
done
case "${VM_KVM:-auto}" in
1) accel=kvm ;;
0) accel=tcg ;;
*) if [ -n "${VM_PROBING:-}" ]; then accel=kvm
   elif VM_PROBING=1 kvm_ok; then accel=kvm; else accel=tcg; fi ;;
esac
echo "$accel" >"$logs/accel"
qemu_opts="-cpu max"
[ -z "${VM_ICOUNT:-}" ] || qemu_opts+=" -icount shift=$VM_ICOUNT"
if [ $accel = tcg ]; then
	vng_args+=(--disable-kvm "--qemu-opts=$qemu_opts")
elif [ -n "${VM_ICOUNT:-}" ]; then
	die "VM_ICOUNT needs TCG (VM_KVM=0)"
fi
mkdir -p "$CACHE/selftests-$FLAVOUR"

[ -n "${VM_PROBING:-}" ] || msg "vm: $(basename "$image") $FLAVOUR, $accel, $VM_CPUS cpus, $VM_MEM; logs in $logs"
set +e
timeout --foreground -k 10 "$VM_TIMEOUT" \
	bash -c '. "$0"; cd /; in_root vng "$@"' "$TOP/scripts/common.sh" "${vng_args[@]}" --exec "$logs/guest.sh" \
	2>"$logs/console.log" | tee "$logs/stdout"
vrc=${PIPESTATUS[0]}
set -e

rc=$(cat "$logs/rc" 2>/dev/null || true)
[ -n "${VM_PROBING:-}" ] && { [ -n "$rc" ]; exit $?; }
fail=0
if [ -z "$rc" ]; then
	echo "vm: the guest did not finish the command (vng exit $vrc, timeout ${VM_TIMEOUT}s); console: $logs/console.log" >&2
	tail -40 "$logs/console.log" >&2
	fail=1
	rc=1
fi
# Kernel reports that fail a run, wherever they were printed.
splat='WARNING: |BUG: |BUG kmalloc|Oops|general protection fault|Kernel panic|'\
'possible recursive locking|possible circular locking|inconsistent lock state|'\
'suspicious RCU usage|irq lock inversion|KASAN:|UBSAN:|kmemleak: [0-9]+ new suspected|'\
'unreferenced object|rcu: INFO: .*detected stall|self-detected stall|'\
'blocked for more than|soft lockup|hard LOCKUP|sleeping function called from invalid context|'\
'refcount_t: |list_add corruption|list_del corruption'
cat "$logs/console.log" "$logs/dmesg.txt" 2>/dev/null |
	tr -d "\r" | grep -E "$splat" | grep -v 'lockdep is turned off' |
	grep -vE "${VM_SPLAT_IGNORE:-^\$}" | sort -u >"$logs/splats.txt" || true
if [ -s "$logs/kmemleak.txt" ]; then
	n=$(grep -c '^unreferenced object' "$logs/kmemleak.txt")
	echo "kmemleak: $n unreferenced object(s)" >>"$logs/splats.txt"
fi
if [ -s "$logs/splats.txt" ]; then
	echo "vm: the kernel reported problems (full log: $logs/console.log):" >&2
	sed 's/^/  /' "$logs/splats.txt" | head -20 >&2
	fail=1
fi
if [ $fail -ne 0 ] && [ "$rc" -eq 0 ]; then rc=1; fi
exit "$rc"
