#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Make the kernel git tree: the pinned base as one commit (branch "base"),
# then branch "memcg-bpf" = base + git am patches/*.patch, one commit per
# patch. With KDIR=/your/bpf-next the series is applied there instead, on a
# new branch from BASE (default HEAD).
#
# An existing series branch is kept when it already matches patches/; if it
# holds commits that differ from patches/ (work not exported yet), the
# script stops rather than lose them (FORCE=1 overrides).
. "$(dirname "$0")/common.sh"

tarball=$DLDIR/linux-source-$BASE_UPSTREAM.tar.xz
mapfile -t PATCHES < <(ls "$TOP"/patches/[0-9][0-9][0-9][0-9]-*.patch 2>/dev/null | grep -v '/0000-cover-letter.patch$' || true)

git_k() { git -C "$KDIR" "$@"; }

make_base() {
	"$TOP/scripts/fetch-base.sh"
	need_space "$(dirname "$KDIR")" 4000 "the kernel tree"
	msg "creating the base tree in $KDIR"
	rm -rf "$KDIR.tmp"
	mkdir -p "$KDIR.tmp"
	tar -xJf "$tarball" -C "$KDIR.tmp" --strip-components=1
	# Files Debian's patches changed carry the time the patches were
	# applied, the others the upstream release time: list them so that
	# "make check" can prove the series touches none of them.
	tar --full-time -tvJf "$tarball" | awk '
		$6 !~ /\/$/ { sub(/^[^\/]*\//, "", $6); day[$6] = $4; n[$4]++ }
		END { for (d in n) if (n[d] > max) { max = n[d]; top = d }
		      for (f in day) if (day[f] != top) print f }' |
		sort >"$KDIR.tmp/.git-debian-touched"
	(
		cd "$KDIR.tmp"
		git init -q -b "$BASE_BRANCH"
		git config core.autocrlf false
		mv .git-debian-touched .git/debian-touched
		git add -A -f .
		GIT_AUTHOR_NAME="Debian $BASE_PKG" GIT_AUTHOR_EMAIL="base@memcg-bpf.invalid" \
		GIT_COMMITTER_NAME="Debian $BASE_PKG" GIT_COMMITTER_EMAIL="base@memcg-bpf.invalid" \
		GIT_AUTHOR_DATE="2026-01-01T00:00:00Z" GIT_COMMITTER_DATE="2026-01-01T00:00:00Z" \
			git commit -q -m "Linux $BASE_UPSTREAM ($BASE_PKG $BASE_VERSION)"
	)
	mv "$KDIR.tmp" "$KDIR"
}

if [ "$KDIR" = "$CACHE/linux" ]; then
	[ -d "$KDIR/.git" ] || make_base
else
	[ -d "$KDIR" ] || die "KDIR=$KDIR does not exist"
	git_k rev-parse --git-dir >/dev/null 2>&1 || die "KDIR=$KDIR is not a git tree"
	[ -f "$KDIR/Makefile" ] && [ -f "$KDIR/Kbuild" ] && [ -d "$KDIR/mm" ] ||
		die "KDIR=$KDIR is not a Linux kernel tree"
fi
base_rev=$(series_base) || die "no commit ${BASE:-HEAD} in $KDIR"

# A make mutants run killed with the machine (its EXIT trap never ran)
# leaves its mutant applied: take out a mutant found in the tree, and
# nothing else.
if [ "$KDIR" = "$CACHE/linux" ] && ! git_k diff --quiet; then
	for m in "$TOP"/mutants/[0-9]*.patch; do
		if git_k apply -R --check "$m" 2>/dev/null; then
			git_k apply -R "$m"
			msg "took out the mutant an interrupted make mutants left in $KDIR: $(basename "$m")"
			break
		fi
	done
fi
[ -z "$(git_k status --porcelain --untracked-files=no)" ] ||
	die "$KDIR has uncommitted changes; commit or stash them first"

# Does the existing series branch already hold exactly patches/?
if git_k rev-parse -q --verify "refs/heads/$SERIES_BRANCH" >/dev/null; then
	cur=$(git_k rev-parse "$SERIES_BRANCH")
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	"$TOP/scripts/export.sh" --to "$tmp" --quiet
	if diff -rq -x 0000-cover-letter.patch -x EXPORTED "$tmp" "$TOP/patches" >/dev/null 2>&1; then
		git_k checkout -q "$SERIES_BRANCH"
		msg "tree up to date: $KDIR ($SERIES_BRANCH, $(git_k rev-list --count "$base_rev..$cur") patches)"
		exit 0
	fi
	if [ -z "${FORCE:-}" ] && [ "$(git_k rev-list --count "$base_rev..$cur")" -gt 0 ]; then
		echo "error: branch $SERIES_BRANCH in $KDIR differs from patches/." >&2
		echo "  Export it first (make export), or recreate it from patches/ with FORCE=1 make tree" >&2
		echo "  (its head stays reachable as $SERIES_BRANCH-old)." >&2
		exit 1
	fi
	git_k branch -f "$SERIES_BRANCH-old" "$cur"
fi

git_k am --abort >/dev/null 2>&1 || true
git_k checkout -q -B "$SERIES_BRANCH" "$base_rev"
git_k config "branch.$SERIES_BRANCH.seriesbase" "$base_rev"
if [ ${#PATCHES[@]} -eq 0 ]; then
	msg "no patches in patches/: $SERIES_BRANCH = base"
	exit 0
fi
msg "applying ${#PATCHES[@]} patches with git am"
for p in "${PATCHES[@]}"; do
	if ! git_k am -q --keep-cr "$p" >/dev/null 2>"$CACHE/am.err"; then
		cat "$CACHE/am.err" >&2
		git_k am --abort >/dev/null 2>&1 || true
		die "patch does not apply: patches/$(basename "$p")"
	fi
done
# The cover letter's subject and text become the branch description,
# from which export.sh writes it again.
if [ -f "$TOP/patches/0000-cover-letter.patch" ]; then
	git_k config "branch.$SERIES_BRANCH.description" \
		"$(cover_description "$TOP/patches/0000-cover-letter.patch")"
fi
msg "tree ready: $KDIR ($SERIES_BRANCH, ${#PATCHES[@]} patches)"
