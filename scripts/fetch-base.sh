#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Download the pinned base (Debian's linux-source package), check its
# sha256 and unpack the kernel tarball it carries into the cache.
# Output: $DLDIR/linux-source.tar.xz
. "$(dirname "$0")/common.sh"
. "$TOP/scripts/apt-private.sh"

deb=$DLDIR/${BASE_PKG}_${BASE_VERSION//:/%3a}_all.deb
tarball=$DLDIR/linux-source-$BASE_UPSTREAM.tar.xz

check_sum() {
	local got
	got=$(sha256sum "$1" | cut -d' ' -f1)
	if [ "$got" != "$BASE_SHA256" ]; then
		echo "error: sha256 mismatch for $1" >&2
		echo "  expected $BASE_SHA256 (scripts/common.sh BASE_SHA256)" >&2
		echo "  got      $got" >&2
		return 1
	fi
}

if [ -s "$tarball" ] && [ -s "$deb" ] && check_sum "$deb" 2>/dev/null; then
	exit 0
fi

mkdir -p "$DLDIR"
if [ ! -s "$deb" ]; then
	need_space "$DLDIR" 2500 "the base package ($BASE_PKG, ~160 MiB, unpacked ~1.6 GiB)"
	apt_private_setup
	msg "downloading $BASE_PKG=$BASE_VERSION from $BASE_SUITE"
	(cd "$DLDIR" && papt download -q "$BASE_PKG=$BASE_VERSION") ||
		die "apt-get download $BASE_PKG=$BASE_VERSION failed"
	[ -s "$deb" ] || deb=$(ls "$DLDIR"/${BASE_PKG}_*.deb | head -1)
fi
if ! check_sum "$deb"; then
	mv -f "$deb" "$deb.bad"
	die "the downloaded base does not match the pin; kept as $deb.bad"
fi

msg "unpacking $BASE_TARBALL"
dpkg-deb --fsys-tarfile "$deb" | tar -xO "./$BASE_TARBALL" >"$tarball.tmp" ||
	die "$deb holds no $BASE_TARBALL"
mv "$tarball.tmp" "$tarball"
