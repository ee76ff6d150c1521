#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Check the series as a reviewer receives it:
#  1. patches/ applies with git am to a fresh checkout of the base;
#  2. re-exporting those commits gives patches/ byte for byte (round trip)
#     and the exported files in mm/ include/ ... equal the applied tree's;
#  3. no patch touches a file Debian's patches changed in the base;
#  4. scripts/checkpatch.pl --strict on every patch: counts; errors and
#     warnings fail (but for the error checkpatch gives on the "size_t :0;"
#     that ends libbpf's opts structs, and its warning on the "const
#     volatile" configuration of BPF programs and on a "volatile
#     sig_atomic_t" signal flag: reported and not counted).
#  5. scripts/kernel-doc -none -Wall on the kernel sources the series
#     creates: any warning fails.
. "$(dirname "$0")/common.sh"

mapfile -t PATCHES < <(ls "$TOP"/patches/[0-9][0-9][0-9][0-9]-*.patch 2>/dev/null | grep -v '/0000-cover-letter.patch$' || true)
[ -d "$KDIR/.git" ] || die "no kernel tree at $KDIR; run: make tree"
base=$(series_base)
fail=0

# 1. A scratch worktree of the base with only the touched files checked out.
wt=$(mktemp -d "$CACHE/check.XXXXXX")
cleanup() { git -C "$KDIR" worktree remove --force "$wt" >/dev/null 2>&1 || rm -rf "$wt"; git -C "$KDIR" worktree prune; }
trap cleanup EXIT
git -C "$KDIR" worktree add -q --no-checkout --detach "$wt" "$base"
files=$( { [ ${#PATCHES[@]} -eq 0 ] || cat "${PATCHES[@]}"; } | sed -n 's|^+++ b/||p; s|^--- a/||p' | sort -u)
(cd "$wt" && git sparse-checkout set --no-cone /MAINTAINERS $(printf '/%s\n' $files) >/dev/null && git checkout -q)
applied=0
for p in "${PATCHES[@]}"; do
	if ! git -C "$wt" am -q --keep-cr "$p" >/dev/null 2>&1; then
		echo "FAIL: patches/$(basename "$p") does not apply with git am to the base" >&2
		git -C "$wt" am --abort >/dev/null 2>&1 || true
		fail=1
		break
	fi
	applied=$((applied + 1))
done
echo "apply:      $applied/${#PATCHES[@]} patches apply with git am to $(git -C "$KDIR" log -1 --format=%s "$base")"

# 2. Round trip and exported files.
if [ $fail -eq 0 ] && [ ${#PATCHES[@]} -gt 0 ]; then
	out=$(mktemp -d)
	COVER_DESC=$(cover_description "$TOP/patches/0000-cover-letter.patch") \
		KDIR=$KDIR HEAD_REV=$(git -C "$wt" rev-parse HEAD) BASE_REV=$base \
		"$TOP/scripts/export.sh" --to "$out" --quiet
	if [ "$KDIR" != "$CACHE/linux" ]; then
		echo "round trip: skipped (KDIR is not the pinned base: base-commit and index lines differ)"
	elif diff -r -u -x EXPORTED "$out" "$TOP/patches" >"$CACHE/check-roundtrip.diff"; then
		echo "round trip: re-export of the applied series equals patches/"
	else
		echo "FAIL: re-exporting the applied series differs from patches/ ($CACHE/check-roundtrip.diff)" >&2
		fail=1
	fi
	rm -rf "$out"
	bad=0
	expected=$(git -C "$wt" diff --name-only --diff-filter=A "$base" HEAD | sort)
	[ "$expected" = "$(cat "$TOP/patches/EXPORTED" 2>/dev/null)" ] || { echo "FAIL: patches/EXPORTED is not the list of files the series creates" >&2; bad=1; }
	for f in $expected; do
		cmp -s "$wt/$f" "$TOP/$f" || { echo "FAIL: exported $f differs from the series (run make export)" >&2; bad=1; }
	done
	[ $bad -eq 0 ] && echo "exports:    $(echo "$expected" | grep -c . ) exported files match the series"
	[ $bad -eq 0 ] || fail=1
fi

# 3. Debian's patches vs the series.
dt=$(cd "$KDIR" && cd "$(git rev-parse --git-common-dir)" && pwd)/debian-touched
if [ -f "$dt" ]; then
	overlap=$(comm -12 <(echo "$files" | sort -u) "$dt")
	if [ -n "$overlap" ]; then
		echo "FAIL: the series touches files Debian's patches changed in the base:" >&2
		echo "$overlap" | sed 's/^/  /' >&2
		fail=1
	else
		echo "debian:     none of the $(wc -l <"$dt") files Debian's patches changed is touched by the series"
	fi
elif [ "$KDIR" = "$CACHE/linux" ]; then
	echo "FAIL: $dt is missing (recreate the tree: rm -rf $KDIR; make tree)" >&2
	fail=1
fi

# 4. checkpatch --strict, on all cores (it is most of this script's time).
errs=0 warns=0 checks=0
cpd=$wt/.checkpatch
mkdir -p "$cpd"
printf '%s\0' "${PATCHES[@]}" |
	(cd "$KDIR" && xargs -0 -P "$JOBS" -I{} sh -c \
		'perl scripts/checkpatch.pl --strict --no-color --terse "$1" >"$2/$(basename "$1").txt" 2>&1 || true' \
		sh {} "$cpd")
for p in "${PATCHES[@]}"; do
	r=$(cat "$cpd/$(basename "$p").txt")
	e=$(sed -n 's/.*total: \([0-9]*\) errors, \([0-9]*\) warnings, \([0-9]*\) checks.*/\1 \2 \3/p' <<<"$r" | tail -1)
	read -r pe pw pc <<<"${e:-0 0 0}"
	# libbpf's opts structs all end in the anonymous bit-field "size_t :0;",
	# which checkpatch reads as a misplaced ':' (upstream lives with it):
	# such an error, on such a line of tools/lib/bpf, is reported, not counted.
	bf=0
	while IFS=: read -r _ line _; do
		sed -n "${line}p" "$p" | grep -qx $'+\tsize_t :0;' && bf=$((bf + 1))
	done < <(grep -E "^[^ ]*:[0-9]+: ERROR: space prohibited before that ':'" <<<"$r")
	[ $bf -eq 0 ] || echo "  $(basename "$p"): $bf \"size_t :0;\" bit-field(s), checkpatch's SPACING error, not counted"
	pe=$((pe - bf))
	# BPF programs declare their load-time configuration "const volatile"
	# (libbpf puts it in .rodata, the loader sets it before the load, and
	# the verifier prunes on it), and a loader's signal flag is a
	# "volatile sig_atomic_t" (C's type for it, as in tools/sched_ext):
	# checkpatch warns about both; reported, not counted, on such a line.
	cv=0
	while IFS=: read -r _ line _; do
		sed -n "${line}p" "$p" | grep -Eq '^\+(const volatile |static volatile sig_atomic_t )' &&
			cv=$((cv + 1))
	done < <(grep -E "^[^ ]*:[0-9]+: WARNING: Use of volatile is usually wrong" <<<"$r")
	[ $cv -eq 0 ] || echo "  $(basename "$p"): $cv \"const volatile\" BPF configuration or signal flag line(s), checkpatch's VOLATILE warning, not counted"
	pw=$((pw - cv))
	errs=$((errs + pe)); warns=$((warns + pw)); checks=$((checks + pc))
	if [ $((pe + pw + pc)) -gt 0 ]; then
		echo "  $(basename "$p"): $pe errors, $pw warnings, $pc checks"
		grep -E '^[^ ]*:[0-9]+: (ERROR|WARNING|CHECK):' <<<"$r" | head -5 | sed 's/^/    /'
	fi
done
echo "checkpatch: ${#PATCHES[@]} patches, $errs errors, $warns warnings, $checks checks (--strict)"
[ $errs -eq 0 ] && [ $warns -eq 0 ] || fail=1

# 5. kernel-doc: no file of mm/, kernel/, include/ the series changes has
#    more warnings than at the base (the new ones must have none).
kfiles=0 kworse=0
tmpd=$wt/.kernel-doc-base
while read -r f; do
	kfiles=$((kfiles + 1))
	now=$(cd "$KDIR" && scripts/kernel-doc -none -Wall "$f" 2>&1 | wc -l)
	was=0
	if git -C "$KDIR" cat-file -e "$base:$f" 2>/dev/null; then
		mkdir -p "$tmpd/$(dirname "$f")"
		git -C "$KDIR" show "$base:$f" >"$tmpd/$f"
		was=$(cd "$KDIR" && scripts/kernel-doc -none -Wall "$tmpd/$f" 2>&1 | wc -l)
	fi
	if [ "$now" -gt "$was" ]; then
		echo "kernel-doc: $f: $now warnings, $was at the base" >&2
		kworse=$((kworse + 1))
	fi
done < <(git -C "$KDIR" diff --name-only "$base" "$SERIES_BRANCH" -- mm kernel include | grep '\.[ch]$')
echo "kernel-doc: $kfiles changed kernel files, $kworse with new warnings (-Wall)"
[ $kworse -eq 0 ] || fail=1
[ $fail -eq 0 ] && echo "check: OK" || { echo "check: FAILED" >&2; exit 1; }
