#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Regenerate patches/ from the series branch of the kernel tree, cover
# letter included, and the exported copies of the files the series creates.
# The output is stable: same commits, same bytes (zero commit ids, the
# cover letter dated like the newest patch, no git version signature).
#   --to DIR   write the patches to DIR only (used by tree.sh and check.sh)
#   --quiet
. "$(dirname "$0")/common.sh"

to=$TOP/patches
quiet=
while [ $# -gt 0 ]; do
	case "$1" in
	--to) to=$2; shift 2 ;;
	--quiet) quiet=1; shift ;;
	*) die "usage: export.sh [--to DIR] [--quiet]" ;;
	esac
done

git_k() { git -C "$KDIR" "$@"; }
# HEAD_REV/BASE_REV: used by check.sh on a scratch worktree.
head=${HEAD_REV:-$SERIES_BRANCH}
git_k rev-parse -q --verify "$head^{commit}" >/dev/null ||
	die "no branch $SERIES_BRANCH in $KDIR; run: make tree"
if [ -n "${BASE_REV:-}" ]; then
	base=$BASE_REV
else
	base=$(series_base)
fi
n=$(git_k rev-list --count "$base..$head")

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ "$n" -gt 0 ]; then
	# The cover letter's text is the branch description (set by tree.sh
	# from patches/0000-cover-letter.patch; edit it with
	# "git branch --edit-description").
	desc=${COVER_DESC:-$(git_k config "branch.$SERIES_BRANCH.description" || true)}
	[ -n "$desc" ] || desc="memcg: BPF struct_ops for per-cgroup memory policy

(cover letter text: git branch --edit-description $SERIES_BRANCH)"
	[ -n "${COVER_DESC:-}" ] || git_k config "branch.$SERIES_BRANCH.description" "$desc"
	# format-patch takes the cover letter from the description of the
	# branch it formats: a scratch branch when exporting a given commit.
	range_end=$head
	if [ -n "${HEAD_REV:-}" ]; then
		range_end=export-tmp-$$
		git_k branch -f "$range_end" "$head"
		git_k config "branch.$range_end.description" "$desc"
		trap 'rm -rf "$tmp"; git_k branch -D "$range_end" >/dev/null 2>&1' EXIT
	fi
	git_k format-patch -q --zero-commit --no-signature --base="$base" \
		--cover-letter --cover-from-description=subject \
		--subject-prefix="PATCH bpf-next${SERIES_VERSION:+ v$SERIES_VERSION}" -o "$tmp" "$base..$range_end"
	# The cover letter gets the date of the newest patch, not "now".
	last=$(git_k log -1 --format='%aD' "$head")
	sed -i "0,/^Date: /s/^Date: .*/Date: $last/" "$tmp/0000-cover-letter.patch"
fi

mkdir -p "$to"
rm -f "$to"/[0-9][0-9][0-9][0-9]-*.patch
[ "$n" -eq 0 ] || cp "$tmp"/*.patch "$to/"

if [ "$to" = "$TOP/patches" ]; then
	# Exported copies of the files the series creates.
	manifest=$TOP/patches/EXPORTED
	if [ -f "$manifest" ]; then
		while read -r f; do rm -f "$TOP/$f"; done <"$manifest"
	fi
	: >"$manifest"
	if [ "$n" -gt 0 ]; then
		git_k diff --name-only --diff-filter=A "$base" "$head" | sort >"$manifest"
		while read -r f; do
			mkdir -p "$TOP/$(dirname "$f")"
			git_k show "$head:$f" >"$TOP/$f"
		done <"$manifest"
	fi
	find "$TOP/mm" "$TOP/include" "$TOP/kernel" "$TOP/tools" "$TOP/samples" \
		"$TOP/Documentation" -type d -empty -delete 2>/dev/null || true
	[ -n "$quiet" ] || msg "exported $n patches to patches/ and $(wc -l <"$manifest") new files"
fi
