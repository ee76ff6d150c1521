#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build samples/bpf with its own Makefile (make M=samples/bpf, as a user
# of the tree would), in a copy of the tree's samples/ next to the kernel
# build, twice: with the kernel's configuration (CONFIG_MEMCG_BPF=y: the
# memcg sample must be built) and with CONFIG_MEMCG_BPF off (it must be
# skipped and the other samples still build). The kernel (make kernel)
# must be built: its vmlinux gives vmlinux.h.
. "$(dirname "$0")/common.sh"

[ -f "$OUT/vmlinux" ] || die "no built kernel in $OUT; run: make kernel"
grep -q '^CONFIG_MEMCG_BPF=y' "$OUT/.config" || die "$OUT is built without CONFIG_MEMCG_BPF"
exec 9>"$CACHE/build.lock"
flock 9

res=$CACHE/sample-build
mkdir -p "$res"
# run_build NAME [MAKE ARGS...]: build samples/bpf, log in $res/NAME.log
run_build() {
	local name=$1 log=$res/$1.log
	shift
	# samples/bpf builds in the source tree: start from a clean one
	git -C "$KDIR" clean -qfdx samples/bpf
	if ! (cd "$KDIR" && in_root make O="$OUT" -j"$JOBS" \
		VMLINUX_BTF="$OUT/vmlinux" M=samples/bpf "$@") >"$log" 2>&1; then
		grep -E 'error|Error' "$log" | head -20
		die "samples/bpf build ($name) failed (log: $log)"
	fi
}
# What samples/bpf built of memcg (it builds in the source tree)
ls_memcg() { find "$KDIR/samples/bpf" -maxdepth 1 \( -name memcg -o -name 'memcg.*.o' \) 2>/dev/null || true; }
n_progs() { find "$KDIR/samples/bpf" -maxdepth 1 -type f -perm -u+x 2>/dev/null | wc -l; }

msg "samples/bpf with CONFIG_MEMCG_BPF=y (log: $res/with.log)"
(cd "$KDIR" && in_root make O="$OUT" headers_install) >"$res/headers.log" 2>&1 ||
	die "make headers_install failed (log: $res/headers.log)"
run_build with
memcg=$(ls_memcg | grep '/memcg$') || die "samples/bpf/memcg was not built"
n_with=$(n_progs)
msg "built: $memcg, $n_with programs in all"

msg "samples/bpf with CONFIG_MEMCG_BPF off (log: $res/without.log)"
run_build without CONFIG_MEMCG_BPF=
[ -z "$(ls_memcg)" ] || die "memcg was built without CONFIG_MEMCG_BPF: $(ls_memcg)"
n_without=$(n_progs)
git -C "$KDIR" clean -qfdx samples/bpf
echo "samples/bpf: $n_with programs with CONFIG_MEMCG_BPF=y (memcg among them)," \
	"$n_without without it (memcg skipped)"
