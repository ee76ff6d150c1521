# SPDX-License-Identifier: GPL-2.0
# A private apt configuration for Debian trixie / trixie-backports, so that
# packages of a newer suite can be downloaded without touching the system's
# apt sources. Sourced after common.sh. Defines: papt (apt-get with it).

APT_SUITES="trixie trixie-backports"

apt_private_setup() {
	local mirror
	mirror=$(debian_mirror)
	mkdir -p "$APTDIR/lists/partial" "$APTDIR/cache/archives/partial" "$APTDIR/etc/preferences.d"
	local s
	for s in $APT_SUITES; do
		echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $s main"
	done >"$APTDIR/sources.list.new"
	mv "$APTDIR/sources.list.new" "$APTDIR/sources.list"
	: >"$APTDIR/status"
	if [ -z "$(ls "$APTDIR/lists" 2>/dev/null | grep -v partial)" ] ||
	   [ -n "${APT_REFRESH:-}" ]; then
		msg "apt: reading the $APT_SUITES indexes (private configuration)"
		papt update -qq || die "apt-get update of the private configuration failed"
	fi
}

papt() {
	apt-get -o Dir::Etc::sourcelist="$APTDIR/sources.list" \
		-o Dir::Etc::sourceparts=- \
		-o Dir::Etc::preferencesparts="$APTDIR/etc/preferences.d" \
		-o Dir::State::Lists="$APTDIR/lists" \
		-o Dir::State::status="$APTDIR/status" \
		-o Dir::Cache="$APTDIR/cache" \
		-o APT::Get::List-Cleanup=0 \
		-o APT::Sandbox::User=root \
		"$@"
}
