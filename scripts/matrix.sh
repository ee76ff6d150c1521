#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make matrix: the builds the kernel test robot would try on the series'
# tip, beyond the full kernel and `make bisect`'s per-patch builds:
#  - configs/matrix/*.config on tinyconfig (FLAVOUR=matrix-NAME): the
#    option off with everything it needs on (nomemcgbpf), cgroup BPF off
#    (nocgroupbpf), 32-bit x86 (i386), clang and lld (clang), arm64 with
#    Debian's cross gcc (arm64, installed into the toolchain root on
#    first use);
#  - W=1 and sparse (C=2) over the C files the series changes, in the full
#    build: a warning on a line the series adds fails the matrix, the
#    others (the base's own) are counted.
# Prints a table; writes it and the logs to $CACHE/matrix/<time>/.
#   MATRIX="i386 clang"  some configurations only (default: all)
#   MATRIX_CHECK=0       skip W=1 and sparse
. "$(dirname "$0")/common.sh"

res=$CACHE/matrix/$(date +%Y%m%d-%H%M%S)
mkdir -p "$res"
ln -sfn "$res" "$CACHE/matrix/last"
table=$res/table.md
echo "| build | result | time | notes |" >"$table"
echo "| --- | --- | --- | --- |" >>"$table"
fails=0
row() { echo "| $1 | $2 | $3 | $4 |" >>"$table"; msg "matrix: $1: $2${4:+ ($4)}"; }

# What a configuration needs from the toolchain root
need_tools() {
	case "$1" in
	arm64)
		in_root sh -c 'command -v aarch64-linux-gnu-gcc >/dev/null ||
			{ apt-get update -qq && apt-get install -y -qq --no-install-recommends \
				gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu; }' \
			>"$res/arm64-apt.log" 2>&1 ;;
	esac
}

for cfg in "$TOP"/configs/matrix/*.config; do
	name=$(basename "$cfg" .config)
	if [ -n "${MATRIX:-}" ] && ! grep -qw "$name" <<<"${MATRIX//,/ }"; then
		continue
	fi
	t0=$(date +%s)
	if ! need_tools "$name"; then
		row "$name" FAIL - "toolchain (log: $res/$name-apt.log)"
		fails=$((fails + 1))
		continue
	fi
	if FLAVOUR=matrix-$name "$TOP/scripts/build-kernel.sh" >"$res/$name.log" 2>&1; then
		row "$name" OK "$(( $(date +%s) - t0 )) s" "$(sed -n 's/^# make: //p' "$cfg")"
	else
		row "$name" FAIL "$(( $(date +%s) - t0 )) s" "log: $res/$name.log"
		fails=$((fails + 1))
	fi
done

if [ "${MATRIX_CHECK:-1}" = 1 ]; then
	full=$CACHE/build-full
	[ -f "$full/.config" ] || die "no full kernel build to check; run: make kernel"
	base=$(series_base)
	mapfile -t files < <(git -C "$KDIR" diff --name-only --diff-filter=AM "$base" "$SERIES_BRANCH" -- \
		'*.c' ':(exclude)tools' ':(exclude)samples')
	objs=("${files[@]/%.c/.o}")
	# Lines the series adds, per file: "file:line"
	git -C "$KDIR" diff -U0 "$base" "$SERIES_BRANCH" -- "${files[@]}" |
		awk '/^\+\+\+ b\// { f = substr($0, 7) }
		     /^@@/ { split($3, a, ","); s = substr(a[1], 2); n = (a[2] == "" ? 1 : a[2])
			     for (i = 0; i < n; i++) print f ":" s + i }' >"$res/added-lines.txt"
	for check in W=1 C=2; do
		t0=$(date +%s)
		log=$res/check-${check%%=*}.log
		# Rebuild the objects so that their warnings are printed again
		(cd "$full" && rm -f "${objs[@]}")
		in_root make -C "$KDIR" O="$full" -j"$JOBS" "$check" "${objs[@]}" >"$log" 2>&1 ||
			{ row "$check" FAIL "$(( $(date +%s) - t0 )) s" "build failed, log: $log"; fails=$((fails + 1)); continue; }
		grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error)' "$log" | sed -E "s|^$KDIR/||; s|^(\.\./)+||" |
			sort -u >"$res/check-${check%%=*}-all.txt" || true
		total=$(wc -l <"$res/check-${check%%=*}-all.txt")
		ours=$(awk -F: 'NR == FNR { a[$1 ":" $2] = 1; next } ($1 ":" $2) in a' \
			"$res/added-lines.txt" "$res/check-${check%%=*}-all.txt" | tee "$res/check-${check%%=*}-series.txt" | wc -l)
		if [ "$ours" -eq 0 ]; then
			row "$check" OK "$(( $(date +%s) - t0 )) s" "${#objs[@]} files, 0 on the series' lines, $total elsewhere"
		else
			row "$check" FAIL "$(( $(date +%s) - t0 )) s" "$ours on the series' lines: $res/check-${check%%=*}-series.txt"
			fails=$((fails + 1))
		fi
	done
fi

echo
cat "$table"
echo "logs: $res"
[ $fails -eq 0 ] || die "make matrix: $fails failure(s)"
