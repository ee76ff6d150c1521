#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The table of `make mutants`, from one or more results.csv: a mutant's
last result wins (by name, shown with its number in mutants/ now: the
numbers change as mutants are added), so the runs of several sessions
(MUTANTS=...) make one table. Survivors listed in mutants/EQUIVALENT are
shown as equivalent, with the reason. Exit status 1 if a mutant survived
or was not run.

  mutants/table.py [--minutes N] results.csv...
"""
import csv
import os
import sys


def main():
    args = sys.argv[1:]
    minutes = None
    if args[:1] == ['--minutes']:
        minutes, args = int(args[1]), args[2:]
    if not args:
        sys.exit(__doc__)
    # By name: the numbers change when mutants are added (define.py)
    rows = {}
    for path in args:
        for r in csv.DictReader(open(path)):
            rows[r['mutant'].split('-', 1)[1]] = r
    equiv = {}
    here = os.path.dirname(os.path.abspath(__file__))
    eq = os.path.join(here, 'EQUIVALENT')
    if os.path.exists(eq):
        for line in open(eq):
            if line.strip() and not line.startswith('#'):
                name, _, why = line.partition(':')
                equiv[name.strip()] = why.strip()
    out = ['| mutant | result | killed by | build s | test s |',
           '| --- | --- | --- | --- | --- |']
    n = {'killed': 0, 'survived': 0, 'equivalent': 0, 'other': 0}
    secs = 0
    here_ids = {f[:-len('.patch')].split('-', 1)[1]: f[:-len('.patch')]
                for f in os.listdir(os.path.dirname(os.path.abspath(__file__)))
                if f.endswith('.patch')}
    for name in sorted(rows, key=lambda n: here_ids.get(n, rows[n]['mutant'])):
        r = rows[name]
        m = here_ids.get(name, r['mutant'])
        res, by = r['result'], r['killed_by']
        if res == 'survived' and name in equiv:
            res, by = 'equivalent', equiv[name]
        n[res if res in n else 'other'] += 1
        for k in ('build_s', 'test_s'):
            secs += int(r[k] or 0)
        out.append(f"| {m} | {res} | {by} | {r['build_s']} | {r['test_s']} |")
    out.append('')
    line = (f"{len(rows)} mutants: {n['killed']} killed, {n['survived']} "
            f"survived, {n['equivalent']} equivalent, {n['other']} not run "
            f"(build or apply failed); build and test time {secs // 60} min")
    if minutes is not None:
        line += f', this run {minutes} min'
    out.append(line)
    print('\n'.join(out))
    sys.exit(1 if n['survived'] or n['other'] else 0)


if __name__ == '__main__':
    main()
