#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Prove the series bisectable: build the kernel (and libbpf, bpftool's
# library) at every commit of the series. A commit that built once is
# remembered by its tree hash in $CACHE/bisect-ok.
. "$(dirname "$0")/common.sh"

git_k() { git -C "$KDIR" "$@"; }
[ -z "$(git_k status --porcelain --untracked-files=no)" ] || die "$KDIR has uncommitted changes"
base=$(series_base)
ok=$CACHE/bisect-ok
touch "$ok"
orig=$(git_k symbolic-ref -q --short HEAD || git_k rev-parse HEAD)
trap 'git_k checkout -q "$orig"' EXIT
n=0 total=$(git_k rev-list --count "$base..$SERIES_BRANCH")
for c in $(git_k rev-list --reverse "$base..$SERIES_BRANCH"); do
	n=$((n + 1))
	tree=$(git_k rev-parse "$c^{tree}")
	subj=$(git_k log -1 --format=%s "$c")
	if grep -qx "$tree" "$ok"; then
		echo "[$n/$total] ok (built before): $subj"
		continue
	fi
	msg "[$n/$total] building: $subj"
	git_k checkout -q "$c"
	"$TOP/scripts/build-kernel.sh" || die "patch $n/$total does not build: $subj"
	in_root make -s -C "$KDIR/tools/lib/bpf" OUTPUT="$CACHE/bisect-libbpf/" -j"$JOBS" >/dev/null ||
		die "patch $n/$total: libbpf does not build: $subj"
	echo "$tree" >>"$ok"
done
echo "bisect: all $total patches build"
