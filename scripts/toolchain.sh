#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the pinned toolchain root: Debian trixie (+ trixie-backports for
# clang-21) made by mmdebstrap. It compiles the kernel and the selftests,
# and it is the root filesystem of the test VM (virtme-ng + QEMU run from
# inside it), so host and guest user space never disagree.
. "$(dirname "$0")/common.sh"

# Bump ROOT_REV when the package list changes: the root is then rebuilt.
ROOT_REV=1
PKGS=(
	build-essential bc bison flex libelf-dev libssl-dev cpio kmod perl
	python3 rsync xz-utils zstd pahole ccache git
	clang-$ROOT_CLANG lld-$ROOT_CLANG llvm-$ROOT_CLANG libzstd-dev zlib1g-dev
	libcap-dev pkg-config
	virtme-ng python3-requests python3-argcomplete qemu-system-x86
	busybox-static iproute2 procps util-linux mount udev iputils-ping stress-ng
	python3-matplotlib
	# make htmldocs (docs check), sparse (make matrix)
	python3-sphinx python3-yaml sparse
)

# Small additions on top of the packages; idempotent.
root_fixups() {
	local r=$1 t
	# Unversioned names for the LLVM tools the kernel and selftests call.
	for t in clang llc lld ld.lld llvm-strip llvm-objcopy llvm-readelf llvm-objdump llvm-ar llvm-nm; do
		[ -e "$r/usr/lib/llvm-$ROOT_CLANG/bin/$t" ] || continue
		ln -sf "/usr/lib/llvm-$ROOT_CLANG/bin/$t" "$r/usr/local/bin/$t"
	done
	# virtme-init powers the guest off with "poweroff -f"; the root has
	# no init system, busybox provides it.
	[ -e "$r/usr/sbin/poweroff" ] || [ -L "$r/usr/sbin/poweroff" ] ||
		ln -s /bin/busybox "$r/usr/sbin/poweroff"
}

stamp=$ROOTFS/.memcg-bpf-root
want="rev=$ROOT_REV ${PKGS[*]}"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
	root_fixups "$ROOTFS"
	exit 0
fi

# A root that only lacks packages gets them installed in place (it may be
# in use by a build, so it is not replaced).
if [ -f "$stamp" ] && [ "$(sed -n 's/^rev=\([0-9]*\) .*/\1/p' "$stamp")" = "$ROOT_REV" ]; then
	msg "installing new packages into the toolchain root"
	if in_root sh -c 'apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@"' \
		sh "${PKGS[@]}" >"$CACHE/root-apt.log" 2>&1; then
		root_fixups "$ROOTFS"
		echo "$want" >"$stamp"
		exit 0
	fi
	tail -5 "$CACHE/root-apt.log"
	msg "installing into the root failed; rebuilding it"
fi

command -v mmdebstrap >/dev/null || {
	msg "installing mmdebstrap on the host"
	apt-get install -y -qq mmdebstrap >/dev/null || die "apt-get install mmdebstrap failed"
}
need_space "$CACHE" 4000 "the toolchain root"

mirror=$(debian_mirror)
key=/usr/share/keyrings/debian-archive-keyring.gpg
msg "building the $ROOT_SUITE toolchain root in $ROOTFS (clang-$ROOT_CLANG)"
rm -rf "$ROOTFS.tmp"
mmdebstrap --quiet --variant=apt --components=main \
	--include="$(IFS=,; echo "${PKGS[*]}")" \
	--aptopt='APT::Install-Recommends "false"' \
	--customize-hook='chroot "$1" update-alternatives --install /usr/bin/clang clang /usr/bin/clang-'"$ROOT_CLANG"' 100' \
	"$ROOT_SUITE" "$ROOTFS.tmp" \
	"deb [signed-by=$key] $mirror $ROOT_SUITE main" \
	"deb [signed-by=$key] $mirror $ROOT_SUITE-backports main" ||
	die "mmdebstrap failed"
root_fixups "$ROOTFS.tmp"
# Replace the root only while nobody uses it: every in_root() holds
# root.lock shared. (Removing a directory that is a mount point in another
# mount namespace would silently detach that mount under a running build.)
exec 8>"$CACHE/root.lock"
flock -x 8
rm -rf "$ROOTFS"
mv "$ROOTFS.tmp" "$ROOTFS"
echo "$want" >"$stamp"
flock -u 8
msg "toolchain root ready: $(in_root clang --version | head -1)"
