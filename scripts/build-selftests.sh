#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the upstream BPF selftests runner (tools/testing/selftests/bpf
# test_progs, bpf_testmod, bpftool) of the series branch against the built
# kernel, in the toolchain root, output in $CACHE/selftests-$FLAVOUR.
# Also builds the series' samples/bpf loader when the series has one.
. "$(dirname "$0")/common.sh"

SELFTESTS=$CACHE/selftests-$FLAVOUR
[ -f "$OUT/vmlinux" ] || die "no built kernel in $OUT; run: make kernel"
mkdir -p "$SELFTESTS"
exec 9>"$CACHE/build.lock"
flock 9

log=$SELFTESTS/build.log
msg "building test_progs and bench in $SELFTESTS (log: $log)"
start=$(date +%s)
# test_progs plus the kernel modules and helpers it loads at run time, and
# the benchmark runner (make bench). The modules are built in the source
# tree (test_kmods/), which the flavours share: build them anew for this
# kernel every time.
targets=(test_progs bench)
rm -f "$KDIR"/tools/testing/selftests/bpf/test_kmods/*.ko "$SELFTESTS"/*.ko
if ! in_root make -C "$KDIR/tools/testing/selftests/bpf" -j"$JOBS" \
	O="$OUT" OUTPUT="$SELFTESTS" VMLINUX_BTF="$OUT/vmlinux" \
	CLANG=clang-$ROOT_CLANG LLC=llc LLVM_STRIP=llvm-strip \
	"${targets[@]}" >"$log" 2>&1; then
	grep -E 'error|Error' "$log" | head -30
	tail -15 "$log"
	die "selftests build failed (log: $log)"
fi
[ -f "$SELFTESTS/bpf_testmod.ko" ] || die "bpf_testmod.ko was not built (log: $log)"
msg "test_progs and bench built in $(( $(date +%s) - start )) s"

# The series' samples/bpf loader, if it has one, into $SELFTESTS/samples
# (by hand: samples/bpf's Makefile builds in the source tree).
if [ -f "$KDIR/samples/bpf/memcg.bpf.c" ]; then
	S=$SELFTESTS/samples
	mkdir -p "$S"
	slog=$S/build.log
	if ! in_root /bin/sh -ec '
		K=$1 SF=$2 S=$3 V=$4
		cd "$S"
		$SF/tools/sbin/bpftool btf dump file "$V" format c >vmlinux.h
		clang-'"$ROOT_CLANG"' -g -O2 --target=bpf -D__TARGET_ARCH_x86 -Wall \
			-Wno-compare-distinct-pointer-types -I$K/include -I. \
			-I$K/samples/bpf -I$K/tools/include -I$SF/tools/include \
			-c $K/samples/bpf/memcg.bpf.c -o memcg.bpf.o
		$SF/tools/sbin/bpftool gen object memcg.lbpf.o memcg.bpf.o
		$SF/tools/sbin/bpftool gen skeleton memcg.lbpf.o name memcg >memcg.skel.h
		gcc -Wall -O2 -I. -I$K/tools/include/uapi -I$SF/tools/include \
			-I$K/tools/include -I$K/tools/lib -I$K/tools/testing/selftests/bpf \
			-o memcg $K/samples/bpf/memcg.c $SF/tools/build/libbpf/libbpf.a \
			-lelf -lz -lzstd
	' sh "$KDIR" "$SELFTESTS" "$S" "$OUT/vmlinux" >"$slog" 2>&1; then
		tail -15 "$slog"
		die "samples/bpf/memcg build failed (log: $slog)"
	fi
	msg "samples/bpf/memcg built: $S/memcg"
fi
