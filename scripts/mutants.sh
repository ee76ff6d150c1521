#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make mutants: the mutation score of the series' tests. Each patch of
# mutants/ (written by mutants/define.py) is a small bug in the series'
# kernel code. For each one: apply it to the kernel tree, build the kernel
# (incremental), run in the VM the tests written for that bug (the patch's
# "tests:" line), then, if they pass, the series' tests, and note which
# tests failed (the mutant is killed) or that none did (it survived). The
# tree is restored after each mutant and the unmutated kernel rebuilt at
# the end. Prints a table (mutants/table.py); writes results.csv and
# table.md to $CACHE/mutants/<time>/ (linked as $CACHE/mutants/last).
#   MUTANTS="3 low-withdraw ..."  numbers or names (default: all)
#   MUTANT_TESTS=a,b  test_progs -t selection of the second run (default:
#                     the series' own tests: memcg_ops,struct_ops_cgroup)
#   MUTANTS_RESUME=1  go on with the last run ($CACHE/mutants/last): the
#                     mutants it has a result for are not run again
# mutants/EQUIVALENT lists the mutants that no test can kill, with why.
. "$(dirname "$0")/common.sh"

dir=$TOP/mutants
tests=${MUTANT_TESTS:-memcg_ops,struct_ops_cgroup}
[ -d "$KDIR/.git" ] || die "no kernel tree in $KDIR; run: make tree"
git -C "$KDIR" diff --quiet HEAD || die "$KDIR has uncommitted changes"
[ -x "$CACHE/selftests-$FLAVOUR/test_progs" ] || die "no test_progs; run: make selftests"

sel=()
for p in "$dir"/[0-9]*.patch; do
	b=$(basename "$p" .patch) n=${b%%-*} name=${b#*-}
	if [ -z "${MUTANTS:-}" ]; then
		sel+=("$p")
		continue
	fi
	# A number or a name, exactly (names contain one another's words)
	for m in ${MUTANTS//,/ }; do
		if [ "$m" = "$name" ] || { [[ $m =~ ^[0-9]+$ ]] && [ $((10#$m)) -eq $((10#$n)) ]; }; then
			sel+=("$p")
			break
		fi
	done
done
[ ${#sel[@]} -gt 0 ] || die "no mutant selected by MUTANTS='${MUTANTS:-}'"

if [ "${MUTANTS_RESUME:-0}" = 1 ]; then
	res=$(readlink -f "$CACHE/mutants/last") && [ -f "$res/results.csv" ] ||
		die "no earlier run to resume in $CACHE/mutants/last"
	csv=$res/results.csv
	todo=()
	for p in "${sel[@]}"; do
		grep -q "^$(basename "$p" .patch)," "$csv" || todo+=("$p")
	done
	sel=("${todo[@]}")
else
	res=$CACHE/mutants/$(date +%Y%m%d-%H%M%S)
	mkdir -p "$res"
	ln -sfn "$res" "$CACHE/mutants/last"
	csv=$res/results.csv
	echo "mutant,result,killed_by,build_s,test_s" >"$csv"
fi

restore() { git -C "$KDIR" checkout -q -- . && git -C "$KDIR" clean -qfd -- mm kernel include; }
trap 'restore; msg "tree restored; the kernel in $OUT may be a mutant: run make kernel"' EXIT

start=$(date +%s)
msg "${#sel[@]} mutant(s), tests: $tests (results: $res)"
for p in "${sel[@]}"; do
	b=$(basename "$p" .patch)
	log=$res/$b.log
	what=$(head -1 "$p" | sed 's/^mutant: //')
	msg "$b: $what"
	if ! git -C "$KDIR" apply "$p" 2>"$log"; then
		echo "$b,does not apply,,," >>"$csv"
		continue
	fi
	t0=$(date +%s)
	if ! "$TOP/scripts/build-kernel.sh" >>"$log" 2>&1; then
		restore
		echo "$b,build failed,,$(( $(date +%s) - t0 ))," >>"$csv"
		continue
	fi
	t1=$(date +%s)
	# The tests written for this bug first, then, if they all pass, the
	# series' tests
	hint=$(sed -n 's/^tests: //p;/^$/q' "$p")
	result=survived by=
	for run in ${hint:+hint} all; do
		set +e
		if [ $run = hint ]; then
			TESTS=$hint EXACT=1 SAMPLE=0 "$TOP/scripts/test.sh" >>"$log" 2>&1
		else
			TESTS=$tests SAMPLE=0 "$TOP/scripts/test.sh" >>"$log" 2>&1
		fi
		rc=$?
		set -e
		if [ $rc -eq 0 ]; then
			[ $run = hint ] && grep -q '^test_progs: 0 passed' <(tail -1 "$log") &&
				msg "$b: its tests line ($hint) selects no test"
			continue
		fi
		result=killed
		vmlog=$(sed -n 's/.*, log: \(.*\)$/\1/p' "$log" | tail -1)
		by=$(tr -d '\r' <"$vmlog/stdout" 2>/dev/null |
			sed -n 's/^#[0-9/]*[ \t]*\([^ \t]*\):FAIL.*/\1/p' | sort -u |
			awk '{ n[NR] = $0 }
			     END { for (i = 1; i <= NR; i++) {
					keep = 1
					for (j = 1; j <= NR; j++)
						if (index(n[j], n[i] "/") == 1) keep = 0
					if (keep) { printf "%s%s", sep, n[i]; sep = " " }
			     } }')
		[ -s "$vmlog/splats.txt" ] && by="${by:+$by + }kernel splat"
		[ -n "$by" ] || by="test run failed (see $b.log)"
		break
	done
	t2=$(date +%s)
	restore
	echo "$b,$result,\"$by\",$((t1 - t0)),$((t2 - t1))" >>"$csv"
	msg "$b: $result${by:+ by $by}"
done

msg "rebuilding the unmutated kernel"
"$TOP/scripts/build-kernel.sh" >"$res/rebuild.log" 2>&1 || die "rebuild failed (log: $res/rebuild.log)"
trap - EXIT

"$dir/table.py" --minutes $(( ($(date +%s) - start) / 60 )) "$csv" | tee "$res/table.md"
exit "${PIPESTATUS[0]}"
