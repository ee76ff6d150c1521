#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The demo: boots the patched kernel in the VM and runs, with stress-ng as
# the workload, the experiments of scripts/demo/guest.sh:
#   A. memory priority: high's and low's throughput with no policy, static
#      memory.low on high and BPF protection (the demo's loader with
#      below_low; samples/bpf/memcg with the design document's command
#      line), each with high active and with high idle;
#   B. throttling accuracy: configured vs measured delay;
#   C. asynchronous reclaim: memory.events max/oom_kill and workload time
#      with no policy, a userspace memory.reclaim agent (1 s, 100 ms) and
#      the BPF async reclaim;
#   D. protection reaction: userspace memory.low agent vs the BPF hook;
#   E. survival of a bursty multi-process trace under one limit without
#      swap, with and without samples/bpf/memcg's policy; high's latency.
# Prints one table; the raw results (CSV, JSON), the table and a plot of A
# and C are written to $CACHE/demo/<time>/ (the path is printed).
#   DEMO_REPS=N      repetitions of each case (default 5)
#   DEMO_SECS=N      seconds of each stress-ng run in A (default 20)
#   DEMO_ONLY="A C"  run only these experiments
#   DEMO_C_RATES, DEMO_C_REPS, DEMO_E_RUNS, DEMO_E_*: see scripts/demo/guest.sh
. "$(dirname "$0")/common.sh"

FLAVOUR=full
S=$CACHE/selftests-$FLAVOUR
memcg=${DEMO_MEMCG:-$S/samples/policy}	# DEMO_MEMCG: another build of the loader
[ -x "$memcg" ] || die "no samples/bpf/memcg loader in $S/samples; run: make selftests"
[ -f "$OUT/arch/x86/boot/bzImage" ] || die "no kernel; run: make kernel"

res=$CACHE/demo/$(date +%Y%m%d-%H%M%S)
mkdir -p "$res"
tool=$CACHE/demo/demo-tool
if [ ! -x "$tool" ] || [ "$TOP/scripts/demo/demo-tool.c" -nt "$tool" ]; then
	in_root gcc -O2 -Wall -Wextra -o "$tool" "$TOP/scripts/demo/demo-tool.c" -lm ||
		die "cannot build demo-tool"
fi

# Every DEMO_* variable of the caller goes to the guest
envs=$(env | grep -E '^DEMO_[A-Z0-9_]+=' | sed -E "s/^([A-Z0-9_]+)=(.*)$/\1='\2'/" | tr '\n' ' ')
msg "demo: results in $res (about 25 minutes under TCG)"
start=$(date +%s)
set +e
VM_TIMEOUT=${VM_TIMEOUT:-3600} VM_RWDIRS="$res" VM_LOGS=$res/vm \
	"$TOP/scripts/vm.sh" "$envs bash '$TOP/scripts/demo/guest.sh' '$res' '$memcg' '$tool' \
'$S/tools/sbin/bpftool' '$S/samples/memcg'"
rc=$?
set -e
[ -s "$res/results.csv" ] || die "the demo produced no results (logs: $res/vm)"

accel=$(tr a-z A-Z <"$res/vm/accel" 2>/dev/null || echo '?')
header="memcg_bpf_ops demo, $(date +%F), kernel $(cat "$OUT/include/config/kernel.release"), \
guest ${VM_MEM:-2G} / ${VM_CPUS:-2} vCPUs, QEMU $accel, $(( ($(date +%s) - start) / 60 )) min"
in_root python3 "$TOP/scripts/demo/report.py" "$res" "$header"
echo
echo "raw results: $res/results.csv, $res/results.json; table: $res/table.md; plot: $res/demo.png"
echo "guest log: $res/guest.log; VM logs: $res/vm"
ln -sfn "$res" "$CACHE/demo/last"
[ $rc -eq 0 ] || die "the demo failed in the VM (exit $rc; see $res/guest.log and $res/vm)"
