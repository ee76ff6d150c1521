#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Prove the series bisectable: at every commit of the series, build
#  - the kernel in a small configuration with everything the series
#    compiles (configs/bisect/bpf-memcg.config on tinyconfig),
#  - bpftool, with the libbpf it builds,
# and, at the commits that touch mm/ or the memcg and task headers, the
# kernel without BPF (memcg-nobpf) and without memcg (bpf-nomemcg), where
# the series' stubs are compiled, and at the commits that touch the BPF or
# cgroup core, the kernel without cgroups (bpf-nocgroups: the kernel test
# robot's CONFIG_CGROUPS=n). The complete configuration is built by
# `make kernel` at the head of the series. A build that succeeded once is
# remembered in $CACHE/bisect-ok under a key of what it compiled: the
# commit's difference to the base without the paths no build here reads
# (MAINTAINERS, Documentation/, tools/testing/, samples/), so that a
# rebase that changes only tests, documentation or messages does not
# rebuild every patch.
. "$(dirname "$0")/common.sh"

git_k() { git -C "$KDIR" "$@"; }
[ -z "$(git_k status --porcelain --untracked-files=no)" ] || die "$KDIR has uncommitted changes"
base=$(series_base)
ok=$CACHE/bisect-ok
touch "$ok"
orig=$(git_k symbolic-ref -q --short HEAD || git_k rev-parse HEAD)
trap 'git_k checkout -q "$orig"' EXIT

# build NAME: run one build of the checked-out commit
build() {
	case "$1" in
	tools)
		mkdir -p "$CACHE/bisect-bpftool"
		in_root make -s -C "$KDIR/tools/bpf/bpftool" \
			OUTPUT="$CACHE/bisect-bpftool/" -j"$JOBS" >"$CACHE/bisect-tools.log" 2>&1 ;;
	*) FLAVOUR=bisect-$1 "$TOP/scripts/build-kernel.sh" ;;
	esac
}

# The key of commit $1: hash of its diff to the base, build inputs only.
content_key() {
	git_k diff --binary "$base" "$1" -- . ':(exclude)MAINTAINERS' \
		':(exclude)Documentation' ':(exclude)tools/testing' ':(exclude)samples' |
		sha1sum | cut -c1-40
}

n=0 total=$(git_k rev-list --count "$base..$SERIES_BRANCH")
start=$(date +%s)
for c in $(git_k rev-list --reverse "$base..$SERIES_BRANCH"); do
	n=$((n + 1))
	tree=$(git_k rev-parse "$c^{tree}")
	key=$(content_key "$c")
	subj=$(git_k log -1 --format=%s "$c")
	builds=(bpf-memcg tools)
	if git_k diff --name-only "$c^" "$c" |
		grep -qE '^(mm/|include/linux/(memcontrol|sched)\.h)'; then
		builds+=(memcg-nobpf bpf-nomemcg)
	fi
	if git_k diff --name-only "$c^" "$c" |
		grep -qE '^(kernel/bpf/|kernel/cgroup/|include/linux/(bpf|cgroup))'; then
		builds+=(bpf-nocgroups)
	fi
	for b in "${builds[@]}"; do
		if grep -qx "$key $b" "$ok"; then
			echo "[$n/$total] $b: ok (built before): $subj"
			continue
		fi
		# results kept by tree before the key was the build inputs
		if grep -qx "$tree $b" "$ok"; then
			echo "$key $b" >>"$ok"
			echo "[$n/$total] $b: ok (built before): $subj"
			continue
		fi
		msg "[$n/$total] $b: building: $subj"
		git_k checkout -q "$c"
		build "$b" || die "patch $n/$total does not build ($b): $subj"
		echo "$key $b" >>"$ok"
	done
done
echo "bisect: all $total patches build ($(( $(date +%s) - start )) s)"
