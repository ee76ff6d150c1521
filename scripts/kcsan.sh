#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make kcsan: data races. Runs the series' tests and the stress test on
# the KCSAN kernel (FLAVOUR=kcsan), and the upstream tests of the code the
# series changes on the base with KCSAN (FLAVOUR=base-kcsan); collects
# every "BUG: KCSAN: data-race" report of both and sorts them: a report
# whose stacks name a function the series adds or changes (from the hunk
# headers and added definitions of `git diff base..series`) is the
# series'; the others are listed with whether the base run had them too.
# Fails if the series has one, or on any other kind of splat.
#   STRESS_SECS=N  the stress test's duration (default 30)
. "$(dirname "$0")/common.sh"

base=$(series_base)
upstream=struct_ops,cgroup_link,cgroup_attach_override,cgroup_iter_memcg
out=$CACHE/kcsan/$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
secs=${STRESS_SECS:-30}

# The functions the series adds or changes
git -C "$KDIR" diff "$base" "$SERIES_BRANCH" -- mm kernel include |
	awk '/^@@/ { sub(/^@@[^@]*@@ /, ""); if (match($0, /[A-Za-z_][A-Za-z0-9_]*\(/))
			print substr($0, RSTART, RLENGTH - 1) }
	     /^\+[a-z].*[A-Za-z_][A-Za-z0-9_]*\(/ && !/;$/ {
			if (match($0, /[A-Za-z_][A-Za-z0-9_]*\(/))
				print substr($0, RSTART, RLENGTH - 1) }' |
	sort -u >"$out/series-functions.txt"

# run FLAVOUR TESTS: test_progs in a boot of that kernel, KCSAN's reports
# kept (not fatal), into $out/FLAVOUR-reports.txt, one block per report
run() {
	local flavour=$1 tests=$2 log
	log=$CACHE/vm-logs/$(date +%Y%m%d-%H%M%S)-kcsan-$flavour-$$
	FLAVOUR=$flavour "$TOP/scripts/build-kernel.sh"
	FLAVOUR=$flavour "$TOP/scripts/build-selftests.sh"
	msg "kcsan: test_progs -t $tests on the $flavour kernel"
	FLAVOUR=$flavour VM_LOGS=$log VM_SPLAT_IGNORE='BUG: KCSAN: ' "$TOP/scripts/vm.sh" \
		"MEMCG_OPS_STRESS_SECS=$secs ./test_progs -w $((secs + 120)) -t '$tests'" \
		>"$out/$flavour-stdout.txt" || die "the $flavour run failed (log: $log)"
	awk '/BUG: KCSAN: /,/^=====/' "$log/dmesg.txt" >"$out/$flavour-reports.txt"
	grep -c 'BUG: KCSAN: ' "$out/$flavour-reports.txt" || true
}
run base-kcsan "$upstream"
run kcsan "memcg_ops,struct_ops_cgroup,$upstream"

python3 - "$out" <<'PY'
import re, sys
out = sys.argv[1]
funcs = set(open(f'{out}/series-functions.txt').read().split())
def reports(name):
    text = open(f'{out}/{name}-reports.txt').read()
    return [b for b in re.split(r'(?m)^=+\n', text) if 'BUG: KCSAN' in b]
def title(b):
    return re.search(r'BUG: KCSAN: (.*)', b).group(1).strip()
base = {title(b) for b in reports('base-kcsan')}
series, other = [], []
for b in reports('kcsan'):
    frames = set(re.findall(r'^ ?([A-Za-z_][A-Za-z0-9_.]*)\+0x', b, re.M))
    hit = sorted(f for f in frames if f.split('.')[0] in funcs)
    (series if hit else other).append((title(b), hit))
lines = ['| report | series functions | also on the base |', '| --- | --- | --- |']
for t, hit in series + other:
    lines.append(f"| {t} | {', '.join(hit) or '-'} | {'yes' if t in base else 'no'} |")
lines.append('')
lines.append(f'{len(series)} report(s) in the series\' code, {len(other)} elsewhere '
             f'({sum(t in base for t, _ in other)} of them also on the base); '
             f'base run: {len(base)} report(s)')
open(f'{out}/table.md', 'w').write('\n'.join(lines) + '\n')
print('\n'.join(lines))
sys.exit(1 if series else 0)
PY
