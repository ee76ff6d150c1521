# SPDX-License-Identifier: GPL-2.0
# Shared settings of the workbench; sourced by every script in scripts/.
# Everything downloaded or built lives under $CACHE, never in the repository.

set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# ---- The pinned base: the one place its identity is written down. ----
BASE_PKG=linux-source-7.3
BASE_VERSION=7.3.4-1~bpo13+1
BASE_SUITE=trixie-backports
BASE_SHA256=703e369ddd4cce971452f5a593ee55df3a5c10c83caf0fa0df039633ed181ee3
BASE_TARBALL=usr/src/linux-source-7.3.tar.xz
# The upstream release the package carries (Debian's patches applied).
BASE_UPSTREAM=7.3.4

# ---- The pinned toolchain root (Debian trixie, built by mmdebstrap). ----
ROOT_SUITE=trixie
ROOT_CLANG=21

CACHE=${MEMCG_BPF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/memcg-bpf}
APTDIR=$CACHE/apt
DLDIR=$CACHE/download
ROOTFS=$CACHE/root-$ROOT_SUITE
# KDIR: the kernel git tree the series is applied to. Default: one made
# from the pinned base; a user may point it at their own bpf-next tree.
KDIR=${KDIR:-$CACHE/linux}
# Fixed identity and date of the base commit so that its hash, and with it
# every exported patch, is the same on every machine.
BASE_BRANCH=base
SERIES_BRANCH=memcg-bpf
# The version of the series that patches/ holds (v2: the answer to the
# review of v1); it goes into the subject prefix of every patch.
SERIES_VERSION=2

# Kernel build flavour: "full" (selftests/bpf config, complete test_progs),
# "debug" (full + lockdep/KASAN...).
FLAVOUR=${FLAVOUR:-full}
OUT=$CACHE/build-$FLAVOUR

JOBS=${JOBS:-$(nproc)}

msg() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

mkdir -p "$CACHE"

# The mirror of the machine's own Debian sources, never a written host name.
debian_mirror() {
	local uri=""
	if [ -r /etc/apt/sources.list.d/debian.sources ]; then
		uri=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' \
			/etc/apt/sources.list.d/debian.sources)
	fi
	if [ -z "$uri" ] && [ -r /etc/apt/sources.list ]; then
		uri=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) { print $i; exit } }' \
			/etc/apt/sources.list)
	fi
	[ -n "$uri" ] || die "no Debian mirror found in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list"
	printf '%s\n' "${uri%/}"
}

# Free space check before large downloads or trees: need_space DIR MIB WHAT
need_space() {
	local avail
	mkdir -p "$1"
	avail=$(df -Pm "$1" | awk 'NR == 2 { print $4 }')
	[ "$avail" -ge "$2" ] ||
		die "$3 needs ${2} MiB free in $1, only ${avail} MiB left (set MEMCG_BPF_CACHE to another disk)"
}

# Run a command inside the toolchain root: own mount namespace, so nothing
# stays mounted when it ends. The repository, the cache and KDIR are
# visible at the same paths inside.
in_root() {
	export TOP CACHE KDIR
	[ -x "$ROOTFS/usr/bin/clang-$ROOT_CLANG" ] || die "toolchain root missing; run: make toolchain"
	mkdir -p "$CACHE/ccache"
	flock -s "$CACHE/root.lock" unshare --mount --propagation private -- /bin/bash -c '
		set -e
		r=$1; shift
		mount -t proc proc "$r/proc"
		mount --rbind /sys "$r/sys"
		mount --rbind /dev "$r/dev"
		mount -t tmpfs tmpfs "$r/tmp"
		for d in "$TOP" "$CACHE" "$KDIR"; do
			[ -d "$d" ] || continue
			mkdir -p "$r$d"
			mount --bind "$d" "$r$d"
		done
		cd "$PWD" 2>/dev/null || cd /
		exec chroot "$r" /usr/bin/env -i HOME=/root TERM="${TERM:-dumb}" \
			PATH=/usr/lib/ccache:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			CCACHE_DIR="$CACHE/ccache" LANG=C.UTF-8 /bin/sh -c "cd \"\$0\" 2>/dev/null || cd /; exec \"\$@\"" "$PWD" "$@"
	' in_root "$ROOTFS" "$@"
}

# The subject and text of a cover letter written by git format-patch
# (without the shortlog and diffstat that follow the text).
cover_description() {
	# The Subject header, unfolded, without its [PATCH ...] prefix.
	awk '
		/^$/ { exit }
		/^Subject: / { s = $0; insub = 1; next }
		insub && /^[ \t]/ { s = s $0; next }
		{ insub = 0 }
		END { sub(/^Subject: (\[[^]]*\] *)?/, "", s); gsub(/[ \t]+/, " ", s); print s }' "$1"
	echo
	awk '
		!hdr && /^$/ { hdr = 1; next }
		!hdr { next }
		/^[^ ].* \([0-9]+\):$/ { exit }
		{ print }' "$1" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'
}

# The commit the series is applied on: the pinned base in the default tree;
# in a user's KDIR, BASE if given, else the commit recorded when the series
# was first applied there (git config branch.memcg-bpf.seriesbase), else HEAD.
series_base() {
	if [ "$KDIR" = "$CACHE/linux" ]; then
		git -C "$KDIR" rev-parse "$BASE_BRANCH"
	elif [ -n "${BASE:-}" ]; then
		git -C "$KDIR" rev-parse --verify "$BASE^{commit}"
	elif b=$(git -C "$KDIR" config "branch.$SERIES_BRANCH.seriesbase"); then
		echo "$b"
	else
		git -C "$KDIR" rev-parse HEAD
	fi
}
