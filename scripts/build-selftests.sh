#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the upstream BPF selftests runner (tools/testing/selftests/bpf
# test_progs, bpf_testmod, bpftool) of the series branch against the built
# kernel, in the toolchain root, output in $CACHE/selftests-$FLAVOUR.
# Also builds the series' samples/bpf loader when the series has one. The
# base flavours (base, base-kcsan) get the base tree's own selftests.
. "$(dirname "$0")/common.sh"

SELFTESTS=$CACHE/selftests-$FLAVOUR
src=$KDIR
[[ $FLAVOUR != base* ]] || src=$CACHE/linux-base
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
rm -f "$src"/tools/testing/selftests/bpf/test_kmods/*.ko "$SELFTESTS"/*.ko
if ! in_root make -C "$src/tools/testing/selftests/bpf" -j"$JOBS" \
	O="$OUT" OUTPUT="$SELFTESTS" VMLINUX_BTF="$OUT/vmlinux" \
	CLANG=clang-$ROOT_CLANG LLC=llc LLVM_STRIP=llvm-strip \
	"${targets[@]}" >"$log" 2>&1; then
	grep -E 'error|Error' "$log" | head -30
	tail -15 "$log"
	die "selftests build failed (log: $log)"
fi
[ -f "$SELFTESTS/bpf_testmod.ko" ] || die "bpf_testmod.ko was not built (log: $log)"
msg "test_progs and bench built in $(( $(date +%s) - start )) s"

# The series' samples/bpf loader, if it has one, the demo's policy loader
# (scripts/demo/policy.c) and make fault's tool (scripts/fault/failnth.c),
# into $SELFTESTS/samples. By hand, as
# samples/bpf's Makefile builds in the source tree (make sample-build
# runs that Makefile).
# build_loader NAME BPF_SOURCE C_SOURCE: $S/NAME, skeleton name "memcg"
build_loader() {
	in_root /bin/sh -ec '
		K=$1 SF=$2 S=$3 V=$4 N=$5 B=$6 C=$7
		cd "$S"
		[ -s vmlinux.h ] || $SF/tools/sbin/bpftool btf dump file "$V" format c >vmlinux.h
		clang-'"$ROOT_CLANG"' -g -O2 --target=bpf -D__TARGET_ARCH_x86 -Wall \
			-Wno-compare-distinct-pointer-types -I$K/include -I. \
			-I$K/samples/bpf -I$K/tools/include -I$SF/tools/include \
			-c "$B" -o $N.bpf.o
		$SF/tools/sbin/bpftool gen object $N.lbpf.o $N.bpf.o
		mkdir -p $N.d
		$SF/tools/sbin/bpftool gen skeleton $N.lbpf.o name memcg >$N.d/memcg.skel.h
		gcc -Wall -O2 -I$N.d -I$K/tools/include/uapi -I$SF/tools/include \
			-I$K/tools/include -I$K/tools/lib -I$K/tools/testing/selftests/bpf \
			-o $N "$C" $SF/tools/build/libbpf/libbpf.a -lelf -lz -lzstd
	' sh "$KDIR" "$SELFTESTS" "$S" "$OUT/vmlinux" "$@"
}
if [ -f "$src/samples/bpf/memcg.bpf.c" ]; then
	S=$SELFTESTS/samples
	rm -rf "$S"
	mkdir -p "$S"
	slog=$S/build.log
	if ! build_loader memcg "$KDIR/samples/bpf/memcg.bpf.c" \
		"$KDIR/samples/bpf/memcg.c" >"$slog" 2>&1; then
		tail -15 "$slog"
		die "samples/bpf/memcg build failed (log: $slog)"
	fi
	if ! build_loader policy "$TOP/scripts/demo/policy.bpf.c" \
		"$TOP/scripts/demo/policy.c" >>"$slog" 2>&1; then
		tail -15 "$slog"
		die "scripts/demo/policy build failed (log: $slog)"
	fi
	# make fault's tool, for kernels with CONFIG_FAULT_INJECTION
	if ! build_loader failnth "$TOP/scripts/fault/failnth.bpf.c" \
		"$TOP/scripts/fault/failnth.c" >>"$slog" 2>&1; then
		tail -15 "$slog"
		die "scripts/fault/failnth build failed (log: $slog)"
	fi
	msg "samples/bpf/memcg, the demo's policy loader and make fault's tool built in $S"
fi
