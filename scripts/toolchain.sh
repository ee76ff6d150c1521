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
	busybox-static iproute2 procps util-linux stress-ng
	python3-matplotlib
)

stamp=$ROOTFS/.memcg-bpf-root
want="rev=$ROOT_REV ${PKGS[*]}"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
	exit 0
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
# Unversioned names for the LLVM tools the kernel and selftests call.
for t in clang llc lld ld.lld llvm-strip llvm-objcopy llvm-readelf llvm-objdump llvm-ar llvm-nm bpftool; do
	[ -e "$ROOTFS.tmp/usr/bin/$t-$ROOT_CLANG" ] || [ -e "$ROOTFS.tmp/usr/lib/llvm-$ROOT_CLANG/bin/$t" ] || continue
	ln -sf "/usr/lib/llvm-$ROOT_CLANG/bin/$t" "$ROOTFS.tmp/usr/local/bin/$t"
done
rm -rf "$ROOTFS"
mv "$ROOTFS.tmp" "$ROOTFS"
echo "$want" >"$stamp"
msg "toolchain root ready: $(in_root clang --version | head -1)"
