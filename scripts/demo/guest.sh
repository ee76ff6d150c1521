#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The demo's experiments, run inside the VM by scripts/demo.sh.
#   guest.sh OUTDIR MEMCG DEMO_TOOL BPFTOOL SAMPLE
# OUTDIR: where results.csv and the logs go; MEMCG: the demo's policy
# loader (scripts/demo/policy.c); DEMO_TOOL: scripts/demo/demo-tool built
# for the guest; BPFTOOL: checks that a loader leaves no struct_ops link
# when it exits; SAMPLE: the series' samples/bpf/memcg, run with the
# design document's own command line in A.
# Environment: DEMO_REPS (repetitions, 5), DEMO_SECS (seconds of each
# stress-ng run in A, 20), DEMO_ONLY (experiments to run, default
# "A B C D E"); DEMO_C_* and DEMO_E_* size C and E (see there).
set -u
OUT=$1 MEMCG=$2 TOOL=$3 BPFTOOL=$4 SAMPLE=$5
REPS=${DEMO_REPS:-5}
SECS=${DEMO_SECS:-20}
ONLY=${DEMO_ONLY:-A B C D E}
CSV=$OUT/results.csv
LOG=$OUT/guest.log
CG=/sys/fs/cgroup
D=$CG/demo			# parent of high and low (experiments A, B, D)
RC=$CG/demo-reclaim		# experiment C
TMPFS=/run/demo-tmpfs

# Sizes: the guest has 2 GB; the memory pressure comes from the parent's
# memory.max, not from the whole machine, so that nothing else is touched.
PARENT_MAX=256			# MB, A and D
WSET=160			# MB, each of high and low (A), low (D)
D_PARENT_MAX=128		# MB, D
D_HOLD=48			# MB, the high cgroup's memory in D
D_LOW=128			# MB, low's in D
RC_MAX=64			# MB, C
RC_FILE=128			# MB, size of each file written in C
RC_TRIGGER=40			# MB, reclaim starts above (C)
RC_TARGET=24			# MB, reclaim down to (C)
RC_DELAY=500			# ms, backpressure delay at memory.max (C)
THRESHOLD=100			# faults/s of high that make it "active"
BEAT=200			# faults/s of an active high besides its working set

log() { echo "[$(date +%T)] $*" | tee -a "$LOG" >&2; }
result() { echo "$1,$2,$3,$4,$5" >>"$CSV"; }   # exp,scenario,rep,metric,value
fail() { log "FAILED: $*"; exit 1; }

. "$(dirname "$0")/../guest-lib.sh"

kill_cg() {
	local cg=$1 pids
	[ -d "$cg" ] || return 0
	pids=$(cat "$cg/cgroup.procs" 2>/dev/null)
	[ -z "$pids" ] || kill -9 $pids 2>/dev/null
	wait_for 30 cg_empty "$cg"
}

setup_parent() {	# setup_parent [MAX_MB]
	kill_cg "$D/high"; kill_cg "$D/low"
	rmdir "$D/high" "$D/low" "$D" 2>/dev/null
	mkdir -p "$D" || fail "mkdir $D"
	echo +memory >"$D/cgroup.subtree_control"
	echo $((${1:-$PARENT_MAX} << 20)) >"$D/memory.max"
	mkdir "$D/high" "$D/low"
}

# Start the loader with its options; wait until it has attached.
POLICY_PID=
start_policy() {
	local f=$OUT/policy.out
	"${LOADER:-$MEMCG}" "$@" >"$f" 2>&1 &
	POLICY_PID=$!
	wait_for 60 grep -qE '^(Running|Successfully attached)' "$f" || { cat "$f" >&2; fail "memcg $*"; }
}
# Stop it with SIGINT (Ctrl-C): it must exit 0 and leave no link behind.
stop_policy() {
	local links
	[ -n "$POLICY_PID" ] || return 0
	kill -INT "$POLICY_PID"
	wait "$POLICY_PID" || fail "memcg loader exit status"
	cat "$OUT/policy.out" >>"$LOG"
	POLICY_PID=
	links=$("$BPFTOOL" link show) || fail "bpftool link show"
	! grep -q struct_ops <<<"$links" || { echo "$links" >&2; fail "struct_ops links left after SIGINT"; }
	STOPS=$((STOPS + 1))
}
STOPS=0

# bogo ops/s of the stress-ng run that wrote $1
bogo() { awk '/bogo-ops-per-second-real-time:/ { print $2; exit }' "$1"; }
wall() { awk '/wall-clock-time:/ { print $2; exit }' "$1"; }
event() { awk -v k="$2" '$1 == k { print $2 }' "$1/memory.events"; }
memstat() { awk -v k="$2" '$1 == k { print $2 }' "$1/memory.stat"; }

# The workers of A: each keeps a working set of WSET MB and writes over
# it with 64-bit stores (write64 counts its bogo ops as it goes, not once a
# pass): its throughput is that of memory while the working set stays
# resident, and that of swap-in when it does not. An active high also
# faults in BEAT fresh pages a second besides (demo-tool beat), as a
# running service allocates: the policies watch page faults, and a
# resident working set takes none.
sng_vm() {	# sng_vm CGROUP YAML
	in_cg "$1" stress-ng --vm 1 --vm-bytes ${WSET}M --vm-method write64 --vm-keep -t ${SECS}s \
		--metrics-brief --yaml "$2" >>"$OUT/stress-ng.log" 2>&1
}

# ---------------------------------------------------------------- A
# Memory priority, both directions: high's and low's throughput with no
# policy, static memory.low on high, and two BPF policies: the demo's
# loader with below_low, and samples/bpf/memcg with the design document's
# own command line (--threshold=1 --use_below_min); each with high active,
# and with high idle (it touched its memory once and sleeps).
exp_a_one() {
	local sc=$1 rep=$2 hp bp lp hb= ready=$OUT/ready
	setup_parent
	case $sc in
	memory.low-*) echo $((WSET << 20)) >"$D/high/memory.low" ;;
	bpf-*) start_policy --high_path "$D/high" --threshold $THRESHOLD --use_below_low ;;
	seed-*) LOADER=$SAMPLE start_policy --low_path="$D/low" --high_path="$D/high" \
		--threshold=1 --use_below_min ;;
	esac
	case $sc in
	*-idle)
		rm -f "$ready"
		in_cg "$D/high" "$TOOL" hold $WSET "$ready"
		hp=$!
		wait_for 120 test -e "$ready" || fail "A $sc: high did not fill"
		sng_vm "$D/low" "$OUT/low.yaml"; lp=$!
		wait $lp || fail "A $sc: stress-ng low"
		# how much of the idle high cgroup's memory low pushed to swap
		result A "$sc" "$rep" high_swapped_mb $(( $(cat "$D/high/memory.swap.current") >> 20 ))
		kill -TERM $hp; wait $hp
		;;
	*)
		in_cg "$D/high" "$TOOL" beat $BEAT; bp=$!
		sng_vm "$D/high" "$OUT/high.yaml"; hp=$!
		sng_vm "$D/low" "$OUT/low.yaml"; lp=$!
		wait $hp || fail "A $sc: stress-ng high"
		wait $lp || fail "A $sc: stress-ng low"
		kill -TERM $bp; wait $bp
		hb=$(bogo "$OUT/high.yaml")
		result A "$sc" "$rep" high_bogo_ops_s "$hb"
		;;
	esac
	result A "$sc" "$rep" low_bogo_ops_s "$(bogo "$OUT/low.yaml")"
	stop_policy
	log "A $sc rep $rep: low $(bogo "$OUT/low.yaml")${hb:+, high $hb} bogo ops/s"
}

# The scenarios interleaved, run after run, so that a slow phase of the
# host does not fall on one scenario only
exp_a() {
	local rep sc
	for rep in $(seq "$REPS"); do
		for sc in baseline memory.low-active memory.low-idle bpf-active bpf-idle \
			  seed-active seed-idle; do
			exp_a_one "$sc" "$rep"
		done
	done
}

# ---------------------------------------------------------------- B
# Throttling accuracy: the delay a faulting task in low gets while high is
# active, against the configured one. ~4 delayed faults per MB touched (a
# charge batch is 64 pages).
exp_b() {
	local rep d mb hp line
	setup_parent
	echo max >"$D/memory.max"
	for rep in $(seq "$REPS"); do
		for d in 0 10 100 1000 2000; do
			case $d in
			0) mb=8 ;; 10) mb=8 ;; 100) mb=4 ;; *) mb=1 ;;
			esac
			[ "$d" = 0 ] || start_policy --high_path "$D/high" --threshold $THRESHOLD \
				--low_path "$D/low" --delay_ms "$d"
			in_cg "$D/high" stress-ng --vm 1 --vm-bytes 32M -t 600s -q
			hp=$!
			# the policy sees high active (or, without one, high faults)
			if [ "$d" = 0 ]; then
				wait_for 30 sh -c "[ \$(awk '\$1 == \"pgfault\" { print \$2 }' $D/high/memory.stat) -gt 10000 ]"
			else
				wait_for 30 grep -q 'faults/s, active' "$OUT/policy.out"
			fi || fail "B: high did not become active"
			in_cg "$D/low" "$TOOL" faultlat "$mb" $(( d ? d / 2 : 5 )) >"$OUT/faultlat.out"
			wait $! || fail "B faultlat"
			kill_cg "$D/high"; wait $hp 2>/dev/null
			stop_policy
			line=$(cat "$OUT/faultlat.out")
			log "B delay $d ms rep $rep: $line"
			set -- $line
			result B "$d" "$rep" delayed "$4"
			result B "$d" "$rep" mean_ms "$6"
			result B "$d" "$rep" sd_ms "$8"
		done
	done
}

# ---------------------------------------------------------------- C
# Asynchronous reclaim, at several writer speeds: a writer (demo-tool
# writer) writes an RC_FILE MB file twice into tmpfs, at RATE MB/s (0: as
# fast as it can), from a cgroup with memory.max RC_MAX MB. Reported:
# memory.events max and oom_kill, the writer's time, and the CPU time the
# reclaim took outside the writer: the agent's process (user + system:
# its memory.reclaim writes reclaim in its context), the BPF work's time
# in its bpf_wq callback (a kworker's). The agent polls every 100 ms and
# gets the same means as the program: alone, and with memory.high at
# RC_HIGH MB, the kernel's backpressure, as the program delays charges
# near memory.max (bpf-backpressure).
RC_RATES=${DEMO_C_RATES:-8 32 0}	# MB/s
RC_HIGH=56			# MB, the agent's memory.high (between trigger and max)
exp_c() {
	local rep sc rate
	mkdir -p "$TMPFS"
	mountpoint -q "$TMPFS" || mount -t tmpfs -o size=1g demo "$TMPFS"
	for rep in $(seq "${DEMO_C_REPS:-3}"); do
		for rate in $RC_RATES; do
			for sc in none agent agent-high bpf bpf-backpressure; do
				exp_c_one "$sc" "$rate" "$rep"
			done
		done
	done
	kill_cg "$RC"; rmdir "$RC"
	umount "$TMPFS"
}

exp_c_one() {
	local sc=$1 rate=$2 rep=$3 agent= wp max0 oom0 line name
	name="$sc@${rate}MB/s"
	[ "$rate" = 0 ] && name="$sc@max"
	kill_cg "$RC"; rmdir "$RC" 2>/dev/null
	mkdir "$RC"
	echo $((RC_MAX << 20)) >"$RC/memory.max"
	rm -f "$TMPFS/c.dat"
	case $sc in
	agent) "$TOOL" reclaimd "$RC" $RC_TRIGGER $RC_TARGET 100 >"$OUT/agent.out" &
		agent=$! ;;
	agent-high) "$TOOL" reclaimd "$RC" $RC_TRIGGER $RC_TARGET 100 $RC_HIGH >"$OUT/agent.out" &
		agent=$! ;;
	bpf) start_policy --reclaim_path "$RC" --reclaim_trigger ${RC_TRIGGER}M \
		--reclaim_target ${RC_TARGET}M ;;
	bpf-backpressure) start_policy --reclaim_path "$RC" --reclaim_trigger ${RC_TRIGGER}M \
		--reclaim_target ${RC_TARGET}M --reclaim_delay_ms $RC_DELAY ;;
	esac
	max0=$(event "$RC" max) oom0=$(event "$RC" oom_kill)
	in_cg "$RC" "$TOOL" writer "$TMPFS/c.dat" $RC_FILE "$rate" >"$OUT/writer.out"
	wp=$!
	wait $wp || log "C $name: writer exit status $?"
	result C "$name" "$rep" max_events $(( $(event "$RC" max) - max0 ))
	result C "$name" "$rep" oom_kills $(( $(event "$RC" oom_kill) - oom0 ))
	line=$(cat "$OUT/writer.out")
	set -- $line
	result C "$name" "$rep" seconds "${4:-}"
	result C "$name" "$rep" pgscan_direct "$(memstat "$RC" pgscan_direct)"
	if [ -n "$agent" ]; then
		kill -TERM $agent; wait $agent
		cat "$OUT/agent.out" >>"$LOG"
		result C "$name" "$rep" reclaim_cpu_ms \
			"$(awk '{ for (i = 1; i < NF; i++) if ($i == "cpu_ms") print $(i + 1) }' "$OUT/agent.out")"
	fi
	stop_policy
	case $sc in
	bpf*) result C "$name" "$rep" reclaim_cpu_ms \
		"$(sed -n 's/.*, work \([0-9]*\) ms.*/\1/p' "$OUT/policy.out" | tail -1)" ;;
	esac
	rm -f "$TMPFS/c.dat"
	log "C $name rep $rep: max +$(( $(event "$RC" max) - max0 )), $line"
}

# ---------------------------------------------------------------- E
# Survival of a bursty trace, after the lab reports: in high and low under
# one parent limit without swap (E_MAX MB, memory.swap.max 0), a synthetic
# multi-process request trace each (demo-tool replay; low's bursts are
# bigger and denser), sized so that without a policy some runs end in an
# OOM kill. With samples/bpf/memcg's policy (high protected and low's
# charges delayed while high is active), the same trace, run by run (the
# seed is the run's number). Reported: whether the run survived (no OOM
# kill in the parent), the OOM kills, and each request latency of high
# (map and touch, ms) into $OUT/E-<scenario>.lat for the report's P50,
# P95, P99.
E_MAX=${DEMO_E_MAX:-112}		# MB, the parent's memory.max
E_SECS=${DEMO_E_SECS:-20}
E_HIGH=${DEMO_E_HIGH:-2 8 48 100}	# workers, mean MB, max MB, mean gap ms
E_LOW=${DEMO_E_LOW:-4 16 96 50}
E_DELAY=${DEMO_E_DELAY:-50}		# ms, the policy's delay of low's charges
exp_e() {
	local run sc
	rm -f "$OUT"/E-*.lat
	for run in $(seq "${DEMO_E_RUNS:-10}"); do
		for sc in none bpf; do
			exp_e_one "$sc" "$run"
		done
	done
}

exp_e_one() {
	local sc=$1 run=$2 hp lp oom0 oom
	setup_parent "$E_MAX"
	echo 0 >"$D/memory.swap.max"
	[ "$sc" = bpf ] && LOADER=$SAMPLE start_policy --high_path="$D/high" \
		--low_path="$D/low" --threshold=$THRESHOLD --delay_ms=$E_DELAY --use_below_low
	oom0=$(event "$D" oom_kill)
	rm -f "$OUT"/elat.*
	# shellcheck disable=SC2086
	in_cg "$D/high" "$TOOL" replay "$run" $E_HIGH "$E_SECS" "$OUT/elat" >"$OUT/ehigh.out"; hp=$!
	# shellcheck disable=SC2086
	in_cg "$D/low" "$TOOL" replay $((run + 1000)) $E_LOW "$E_SECS" - >"$OUT/elow.out"; lp=$!
	wait $hp; wait $lp
	oom=$(( $(event "$D" oom_kill) - oom0 ))
	result E "$sc" "$run" oom_kills "$oom"
	result E "$sc" "$run" survived $(( oom == 0 ))
	# how close the run came to the limit: the parent's peak usage
	result E "$sc" "$run" peak_mb $(( $(cat "$D/memory.peak") >> 20 ))
	cat "$OUT"/elat.* >>"$OUT/E-$sc.lat" 2>/dev/null
	result E "$sc" "$run" high_requests "$(cat "$OUT"/elat.* 2>/dev/null | wc -l)"
	stop_policy
	log "E $sc run $run: oom_kill $oom, high $(cat "$OUT/ehigh.out"), low $(cat "$OUT/elow.out")"
}

# ---------------------------------------------------------------- D
# Protection reaction time: high holds memory and sleeps while low thrashes
# (so high's memory goes to swap), then high wakes and touches it all
# again. How soon is it protected, and how long does its pass take, with
# no policy, a userspace agent that sets memory.low from high's fault rate
# (every 1 s or 100 ms), and the BPF hook (below_low from the same rate)?
# Reported: when high was first protected after it woke (the agent's poll
# that set memory.low; the program's first below_low grant, timestamped
# in the program), how much of high's memory was reclaimed while it
# touched it again (memory.stat pgsteal), and how long that pass took.
exp_d() {
	local rep sc hp lp agent ready=$OUT/ready line woke t steal0
	for rep in $(seq "$REPS"); do
		for sc in none agent-1000ms agent-100ms bpf; do
			setup_parent $D_PARENT_MAX
			agent=
			case $sc in
			agent-*)
				"$TOOL" lowagent "$D/high" $THRESHOLD "$(echo "$sc" | tr -dc 0-9)" \
					$D_HOLD >"$OUT/agent.out" &
				agent=$! ;;
			bpf) start_policy --high_path "$D/high" --threshold $THRESHOLD --use_below_low ;;
			esac
			rm -f "$ready"
			in_cg "$D/high" "$TOOL" hold $D_HOLD "$ready" >"$OUT/hold.out"
			hp=$!
			wait_for 120 test -e "$ready" || fail "D: high did not fill"
			in_cg "$D/low" stress-ng --vm 1 --vm-bytes ${D_LOW}M --vm-method write64 \
				-t 600s -q
			lp=$!
			# until most of high's memory is in swap
			wait_for 120 sh -c "[ \$(cat $D/high/memory.current) -lt $(( (D_HOLD << 20) / 2 )) ]" ||
				log "D $sc: high still has $(( $(cat "$D/high/memory.current") >> 20 )) MB in memory"
			steal0=$(memstat "$D/high" pgsteal)
			kill -USR1 $hp
			wait $hp
			result D "$sc" "$rep" high_reclaimed_mb_after_wake \
				$(( ($(memstat "$D/high" pgsteal) - steal0) * 4096 >> 20 ))
			kill_cg "$D/low"; wait $lp 2>/dev/null
			line=$(cat "$OUT/hold.out")
			set -- $line
			woke=$2
			result D "$sc" "$rep" high_pass_ms "$4"
			if [ -n "$agent" ]; then
				kill -TERM $agent; wait $agent
				t=$(awk -v w="$woke" '$1 == "protect_ns" && $2 >= w { print $2; exit }' "$OUT/agent.out")
				[ -z "$t" ] || result D "$sc" "$rep" reaction_ms $(( (t - woke) / 1000000 ))
			fi
			stop_policy
			if [ "$sc" = bpf ]; then
				# the program's first grant after high woke
				t=$(sed -n 's/^grants_ns://p' "$OUT/policy.out" | tr ' ' '\n' |
					awk -v w="$woke" '$1 != "" && $1 >= w { print; exit }')
				[ -z "$t" ] || result D "$sc" "$rep" reaction_ms $(( (t - woke) / 1000000 ))
			fi
			log "D $sc rep $rep: high pass $4 ms"
		done
	done
}

: >"$LOG"
echo "experiment,scenario,rep,metric,value" >"$CSV"
log "guest: $(uname -r), $(nproc) cpus, $(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo) MB"
echo +memory >"$CG/cgroup.subtree_control" || fail "memory controller"
if ! grep -q zram /proc/swaps; then
	echo 1G >/sys/block/zram0/disksize && mkswap /dev/zram0 >/dev/null &&
		swapon /dev/zram0 || fail "zram swap"
fi
for e in $ONLY; do
	log "experiment $e"
	"exp_$(echo "$e" | tr A-Z a-z)"
done
kill_cg "$D/high"; kill_cg "$D/low"
rmdir "$D/high" "$D/low" "$D" 2>/dev/null
swapoff /dev/zram0
log "done: the loader was stopped with SIGINT $STOPS times, no struct_ops link was left"
