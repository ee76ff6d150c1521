#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The documentation check (make docs): build the kernel's HTML docs of the
# directories the series touches (make htmldocs SPHINXDIRS="bpf
# admin-guide", Sphinx from the toolchain root) and run scripts/kernel-doc
# -Wall on the sources whose kernel-doc they include; fail on any warning
# that points at a line the series added. Warnings elsewhere (the base
# tree has some, and cross-directory references do not resolve when a
# subset of directories is built) are counted and listed in the log only.
. "$(dirname "$0")/common.sh"

[ -d "$KDIR/.git" ] || die "no kernel tree in $KDIR; run: make tree"
base=$(series_base)
out=$CACHE/docs
mkdir -p "$out"
log=$out/htmldocs.log

# Added lines of the series, as "file:line" (new side of the diff).
added=$out/added-lines
git -C "$KDIR" diff -U0 "$base" HEAD -- Documentation mm include kernel |
	awk '/^\+\+\+ b\// { f = substr($2, 3) }
	     /^@@ / { split($3, a, ","); s = substr(a[1], 2); n = (a[2] == "" ? 1 : a[2])
		      for (i = 0; i < n; i++) print f ":" s + i }' >"$added"

start=$(date +%s)
msg "make htmldocs SPHINXDIRS=\"bpf admin-guide\" (log: $log)"
(cd "$KDIR" && in_root make O="$out/build" SPHINXDIRS="bpf admin-guide" htmldocs) >"$log" 2>&1 ||
	{ tail -20 "$log"; die "make htmldocs failed (log: $log)"; }
docfiles=$(git -C "$KDIR" diff --name-only "$base" HEAD -- Documentation)
srcs=$(grep -ho '^\.\. kernel-doc:: [^ ]*' $(cd "$KDIR" && printf "$KDIR/%s " $docfiles) 2>/dev/null |
	awk '{ print $3 }' | sort -u)
(cd "$KDIR" && for s in $srcs; do
	in_root scripts/kernel-doc -Wall -none "$s"
done) >"$out/kernel-doc.log" 2>&1

# "path:line: WARNING ..." / "path:line: warning: ..." on an added line
ours=$out/warnings-series
sed "s#$KDIR/##" "$log" "$out/kernel-doc.log" |
	grep -iE '^[^ :]+:[0-9]+: (WARNING|ERROR|warning|error)' |
	awk -F: 'NR == FNR { add[$0] = 1; next } ($1 ":" $2) in add' "$added" - >"$ours" || true
all=$(grep -ciE 'warning|error' "$log" "$out/kernel-doc.log" | awk -F: '{ n += $2 } END { print n + 0 }')
echo "htmldocs + kernel-doc: $(wc -l <"$ours") warning(s) on lines the series added," \
	"$all in all (log: $log), $(( $(date +%s) - start )) s"
if [ -s "$ours" ]; then
	cat "$ours"
	exit 1
fi
