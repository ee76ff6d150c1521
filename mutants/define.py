#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The mutants of `make mutants`: small, plausible bugs in the series'
kernel code, each one a patch (NN-name.patch) that the tests must catch.

Run with the kernel tree at the series' tip (clean) to write the patches
again after the series changed:  mutants/define.py KDIR
Each entry: name, file, the text replaced (exactly once in the file), the
replacement, and what the mutant breaks (the patch's first line).
KILLERS names, for each mutant, the tests (test_progs -a syntax) meant to
kill it (the patch's second line): `make mutants` runs them first and the
whole suite only for a mutant they do not kill.
"""
import os
import subprocess
import sys

BM = 'mm/bpf_memcontrol.c'
MC = 'mm/memcontrol.c'
SO = 'kernel/bpf/bpf_struct_ops.c'

MUTANTS = [
    # throttling (patch 8)
    # Two caps, one on the delay a hook returns and one on the sleep: each
    # alone is redundant, the mutant removes both.
    ('delay-cap', [
        (MC, '''	penalty_jiffies = min(max(penalty_jiffies, min_penalty),
			      MEMCG_MAX_HIGH_DELAY_JIFFIES);''',
         '''	penalty_jiffies = max(penalty_jiffies, min_penalty);'''),
        (BM, '''	delay = min(delay, MEMCG_BPF_MAX_DELAY_MS);''', '')],
     None, None,
     'the delay a policy asks for is not capped at 2 s'),
    ('delay-not-floor', MC,
     '''	penalty_jiffies = min(max(penalty_jiffies, min_penalty),''',
     '''	penalty_jiffies = min(penalty_jiffies ? penalty_jiffies : min_penalty,''',
     'the memory.high penalty replaces the policy delay instead of the longer of the two'),
    ('delay-replaces-penalty', MC,
     '''	penalty_jiffies = min(max(penalty_jiffies, min_penalty),''',
     '''	penalty_jiffies = min(min_penalty ? min_penalty : penalty_jiffies,''',
     'a policy delay replaces the memory.high penalty, even a shorter one'),
    ('delay-plus-penalty', MC,
     '''	penalty_jiffies = min(max(penalty_jiffies, min_penalty),''',
     '''	penalty_jiffies = min(penalty_jiffies + min_penalty,''',
     'the policy delay is added to the memory.high penalty'),
    ('delay-sum', BM,
     '''	if (delay > current->memcg_bpf_delay_ms) {
		current->memcg_bpf_delay_ms = delay;''',
     '''	if (delay) {
		current->memcg_bpf_delay_ms += delay;''',
     'the delays of several charges add up instead of the longest being slept once'),
    ('sleep-not-killable', MC,
     '''		schedule_timeout_killable(penalty_jiffies);''',
     '''		schedule_timeout_uninterruptible(penalty_jiffies);''',
     'SIGKILL does not end the throttling sleep'),
    ('delay-remote', BM,
     '''	if (delay && (!in_task() || (current->flags & PF_KTHREAD) ||
		      !mem_cgroup_is_descendant(mem_cgroup_from_task(current),
						memcg)))''',
     '''	if (delay && (!in_task() || (current->flags & PF_KTHREAD)))''',
     'a task that charges another subtree remotely is delayed'),
    ('delay-kthread', BM,
     '''	if (delay && (!in_task() || (current->flags & PF_KTHREAD) ||''',
     '''	if (delay && (!in_task() ||''',
     'kernel threads get a pending delay'),
    ('delay-fork', 'mm/memcontrol-bpf.h',
     '''	task->memcg_bpf_delay_ms = 0;
}''',
     '''}''',
     'a child inherits the delay pending for its parent'),
    ('no-static-key', BM,
     '''DEFINE_STATIC_KEY_DEFERRED_FALSE(memcg_bpf_ops_key, HZ);''',
     '''DEFINE_STATIC_KEY_DEFERRED_FALSE(memcg_bpf_ops_key, HZ);
#undef static_branch_deferred_inc
#undef static_branch_slow_dec_deferred
#define static_branch_deferred_inc(key) do { } while (0)
#define static_branch_slow_dec_deferred(key) do { } while (0)''',
     'attaching a policy does not enable the static key (its hooks are not called)'),
    ('charge-after-refill', MC,
     '''	memcg_bpf_charged(memcg, batch, gfp_mask);

	if (batch > nr_pages)
		refill_stock(memcg, batch - nr_pages);''',
     '''	if (batch > nr_pages)
		refill_stock(memcg, batch - nr_pages);

	memcg_bpf_charged(memcg, batch, gfp_mask);''',
     'the charge is reported after refill_stock(), which may uncharge part of it first'),
    ('thp-charge-skipped', 'mm/memcontrol-bpf.h',
     '''	return gfpflags_allow_spinning(gfp_mask) ||
	       (gfp_mask & (__GFP_IO | __GFP_FS));''',
     '''	return gfpflags_allow_spinning(gfp_mask);''',
     'memcg_charged misses huge pages faulted in without reclaim (GFP_TRANSHUGE_LIGHT)'),
    ('no-uncharge-hook', MC,
     '''	memcg_bpf_uncharged(memcg, nr_pages);''',
     '''''',
     'memcg_uncharged is never called'),
    ('drain-not-reported', MC,
     '''	if (stock_pages) {
		memcg_uncharge(old, stock_pages);''',
     '''	if (stock_pages) {
		page_counter_uncharge(&old->memory, stock_pages);''',
     'pages the per-CPU stock returns to the page counter are not reported as uncharged'),
    ('charged-nr-pages', MC,
     '''	memcg_bpf_charged(memcg, batch, gfp_mask);''',
     '''	memcg_bpf_charged(memcg, nr_pages, gfp_mask);''',
     'memcg_charged reports the charge, not the batch taken from the page counter'),
    # protection (patch 9)
    ('low-withdraw', BM,
     '''	/* memory.low is a floor: a policy grants more, never less. */
	if (elow >= usage)
		return true;''',
     '''	/* memory.low is a floor: a policy grants more, never less. */''',
     'below_low can withdraw the protection memory.low gives'),
    ('min-withdraw', BM,
     '''	/* memory.min is a floor: a policy grants more, never less. */
	if (emin >= usage)
		return true;''',
     '''	/* memory.min is a floor: a policy grants more, never less. */''',
     'below_min can withdraw the protection memory.min gives'),
    ('low-inverted', BM,
     '''		below = ops->below_low(memcg, elow, usage);''',
     '''		below = !ops->below_low(memcg, elow, usage);''',
     'below_low\'s answer is inverted'),
    ('min-uses-low', BM,
     '''	if (ops && ops->below_min)
		below = ops->below_min(memcg, emin, usage);''',
     '''	if (ops && ops->below_low)
		below = ops->below_low(memcg, emin, usage);''',
     'below_min asks the below_low hook'),
    # lifecycle (patch 7)
    ('offline-skipped', BM,
     '''	RCU_INIT_POINTER(memcg->bpf_ops, NULL);
	if (ops && ops->handle_cgroup_offline)
		ops->handle_cgroup_offline(memcg);''',
     '''	RCU_INIT_POINTER(memcg->bpf_ops, NULL);''',
     'a memcg going offline does not call handle_cgroup_offline'),
    ('online-twice', BM,
     '''	if (ops && ops->handle_cgroup_online)
		ops->handle_cgroup_online(memcg);
	rcu_assign_pointer(memcg->bpf_ops, ops);
}''',
     '''	if (ops && ops->handle_cgroup_online)
		ops->handle_cgroup_online(memcg);
	if (ops && ops->handle_cgroup_online)
		ops->handle_cgroup_online(memcg);
	rcu_assign_pointer(memcg->bpf_ops, ops);
}''',
     'a new memcg gets handle_cgroup_online twice'),
    ('offline-before-online', BM,
     '''		if (ops && ops->handle_cgroup_online)
			ops->handle_cgroup_online(memcg);
		rcu_assign_pointer(memcg->bpf_ops, ops);
		if (old && old->handle_cgroup_offline)
			old->handle_cgroup_offline(memcg);''',
     '''		if (old && old->handle_cgroup_offline)
			old->handle_cgroup_offline(memcg);
		if (ops && ops->handle_cgroup_online)
			ops->handle_cgroup_online(memcg);
		rcu_assign_pointer(memcg->bpf_ops, ops);''',
     'a policy change calls the old offline hook before the new online hook'),
    ('new-memcg-no-policy', BM,
     '''	} else if (parent) {
		ops = memcg_bpf_ops_locked(parent);
	} else {''',
     '''	} else if (parent) {
		ops = NULL;
	} else {''',
     'a memcg created under a policy does not inherit it'),
    ('update-not-propagated', BM,
     '''	att->ops = kdata;
	if (att->memcg)
		memcg_bpf_propagate(att->memcg, att->ops);''',
     '''	att->ops = kdata;''',
     'BPF_LINK_UPDATE records the new map but the memcgs keep the old one'),
    ('detach-no-restore', BM,
     '''		memcg_bpf_propagate(memcg, parent ? memcg_bpf_ops_locked(parent) : NULL);''',
     '''		memcg_bpf_propagate(memcg, NULL);''',
     'detaching a policy that overrode one above leaves the subtree with no policy'),
    ('propagate-into-overrides', BM,
     '''	while (css && css != &top->css && mem_cgroup_from_css(css)->bpf_attach)''',
     '''	while (0)''',
     'a policy attached above overwrites the policies of descendants that have their own'),
    # attach rules and errnos (patch 7)
    ('ebusy-skipped', BM,
     '''		if (att->cgrp == cgrp)
			return -EBUSY;''',
     '''		if (att->cgrp == cgrp)
			continue;''',
     'a second policy on one cgroup is accepted (EBUSY)'),
    ('eperm-override-skipped', BM,
     '''	if (nearest && !(nearest->flags & BPF_F_ALLOW_OVERRIDE))
		return -EPERM;''',
     '''''',
     'a policy below one without BPF_F_ALLOW_OVERRIDE is accepted (EPERM)'),
    ('eperm-farthest', BM,
     '''		    (!nearest || cgroup_is_descendant(att->cgrp, nearest->cgrp)))''',
     '''		    (!nearest || cgroup_is_descendant(nearest->cgrp, att->cgrp)))''',
     'the override rule looks at the farthest ancestor, not the nearest'),
    ('cap-attach', BM,
     '''	/* A policy governs the memory of other users' tasks too. */
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;''',
     '''	/* A policy governs the memory of other users' tasks too. */''',
     'attaching takes no CAP_SYS_ADMIN'),
    ('cap-update', BM,
     '''	/* Replacing a policy is attaching one: same permission as reg(). */
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;''',
     '''	/* Replacing a policy is attaching one: same permission as reg(). */''',
     'BPF_LINK_UPDATE takes no CAP_SYS_ADMIN'),
    ('enodev-errno', BM,
     '''	if (!css) {
		err = -ENODEV;''',
     '''	if (!css) {
		err = -EINVAL;''',
     'a cgroup without the memory controller gets EINVAL, not ENODEV'),
    ('dying-accepted', BM,
     '''	if (css_is_dying(css)) {
		err = -ENOENT;
		goto err_unlock;
	}''',
     '''''',
     'a cgroup being removed, or whose memory controller is being disabled, accepts a policy (ENOENT)'),
    ('global-errno', BM,
     '''	if (!st_link->cgroup)
		return -EOPNOTSUPP;''',
     '''	if (!st_link->cgroup)
		return -EINVAL;''',
     'a global registration gets EINVAL, not EOPNOTSUPP'),
    ('sleepable-hook', BM,
     '''	if (prog->sleepable)
		return -EINVAL;''',
     '''''',
     'a sleepable program is accepted as a hook'),
    # struct_ops links on cgroups (patch 2)
    ('flag-unchecked', SO,
     '''	if (flags & ~st_ops->cgroup_link_flags)
		return ERR_PTR(-EINVAL);''',
     '''''',
     'a link flag the struct_ops type does not take is accepted'),
    ('global-flags-ignored', SO,
     '''	} else if (flags || target_fd) {
		err = -EINVAL;''',
     '''	} else if (0) {
		err = -EINVAL;''',
     'without BPF_F_CGROUP_FD, flags and target_fd are ignored (ABI)'),
    ('no-detach-at-rmdir', SO,
     '''	queue_work(system_dfl_wq, &cgrp->bpf.struct_ops_detach_work);''',
     '''''',
     'removing a cgroup does not detach its struct_ops links'),
    ('link-info-no-cgroup', SO,
     '''	info->struct_ops.cgroup_id = READ_ONCE(st_link->cgroup_id);''',
     '''''',
     'bpf_link_info does not report the cgroup id'),
    # the kfunc (patch 10)
    ('kfunc-zero-pages', BM,
     '''	if (!nr_pages)
		return -EINVAL;''',
     '''''',
     'the kfunc accepts nr_pages 0'),
    ('kfunc-e2big', BM,
     '''	if (nr_pages > totalram_pages())
		return -E2BIG;''',
     '''''',
     'the kfunc accepts more pages than the RAM'),
    ('kfunc-gfp', BM,
     '''	if (gfp_mask != GFP_KERNEL && gfp_mask != GFP_NOFS &&
	    gfp_mask != GFP_NOIO)
		return -EINVAL;''',
     '''''',
     'the kfunc accepts any gfp_mask'),
    ('kfunc-options', BM,
     '''	if (reclaim_options & ~BPF_MEMCG_RECLAIM_OPTIONS)
		return -EINVAL;''',
     '''''',
     'the kfunc accepts unknown reclaim_options bits'),
    ('kfunc-swappiness-proactive', BM,
     '''	     !(reclaim_options & BPF_MEMCG_RECLAIM_PROACTIVE)))''',
     '''	     0))''',
     'the kfunc accepts a swappiness without BPF_MEMCG_RECLAIM_PROACTIVE'),
    ('kfunc-gfp-ignored', BM,
     '''	return try_to_free_mem_cgroup_pages(memcg, nr_pages, gfp_mask,''',
     '''	return try_to_free_mem_cgroup_pages(memcg, nr_pages, GFP_KERNEL,''',
     'the kfunc reclaims with GFP_KERNEL whatever gfp_mask says'),
    ('kfunc-may-swap-forced', BM,
     '''					    reclaim_options,
					    swappiness == -1 ? NULL : &swappiness);''',
     '''					    reclaim_options | MEMCG_RECLAIM_MAY_SWAP,
					    swappiness == -1 ? NULL : &swappiness);''',
     'the kfunc swaps without BPF_MEMCG_RECLAIM_MAY_SWAP'),
    ('kfunc-swappiness-ignored', BM,
     '''					    swappiness == -1 ? NULL : &swappiness);''',
     '''					    NULL);''',
     'the kfunc ignores the swappiness it is given'),
    ('kfunc-cap', BM,
     '''	return capable(CAP_SYS_ADMIN) ? 0 : -EACCES;''',
     '''	return 0;''',
     'any program may call the kfunc (CAP_BPF or a token is enough)'),
    ('kfunc-memcg-ops-cap', BM,
     '''		if (prog->aux->st_ops == &bpf_memcg_bpf_ops)
			return 0;''',
     '''''',
     'memcg_bpf_ops programs need CAP_SYS_ADMIN at load to call the kfunc'),
]

# The tests written for each mutant's bug: run first, alone (a boot and
# one or two subtests rather than the whole suite).
MO, SC, AR = 'memcg_ops/', 'struct_ops_cgroup/', 'memcg_ops_async_reclaim/'
KILLERS = {
    'delay-cap': MO + 'delay_limits',
    'delay-not-floor': MO + 'delay_floor',
    'delay-replaces-penalty': MO + 'delay_floor',
    'delay-plus-penalty': MO + 'delay_floor',
    'delay-sum': MO + 'delay_limits',
    'sleep-not-killable': MO + 'delay_limits',
    'delay-remote': MO + 'remote_charge',
    'delay-kthread': MO + 'remote_charge',
    'delay-fork': MO + 'fork_delay',
    'no-static-key': MO + 'throttle',
    'charge-after-refill': MO + 'balance',
    'thp-charge-skipped': MO + 'thp_charge',
    'no-uncharge-hook': MO + 'uncharged',
    'charged-nr-pages': MO + 'uncharged',
    'drain-not-reported': MO + 'uncharged',
    'low-withdraw': MO + 'low_floor',
    'min-withdraw': MO + 'min_floor',
    'low-inverted': MO + 'below_low',
    'min-uses-low': MO + 'below_min',
    'offline-skipped': MO + 'online_offline',
    'online-twice': MO + 'online_offline',
    'offline-before-online': MO + 'lifecycle',
    'new-memcg-no-policy': MO + 'hierarchy',
    'update-not-propagated': MO + 'lifecycle',
    'detach-no-restore': MO + 'hierarchy',
    'propagate-into-overrides': MO + 'hierarchy',
    'ebusy-skipped': MO + 'hierarchy',
    'eperm-override-skipped': MO + 'hierarchy',
    'eperm-farthest': MO + 'hierarchy',
    'cap-attach': MO + 'attach_errors',
    'cap-update': MO + 'update_perm',
    'enodev-errno': MO + 'attach_errors',
    'dying-accepted': MO + 'controller_toggle',
    'global-errno': MO + 'attach_errors',
    'sleepable-hook': 'memcg_ops_verifier',
    'flag-unchecked': SC + 'errors',
    'global-flags-ignored': SC + 'fd0',
    'no-detach-at-rmdir': SC + 'rmdir',
    'link-info-no-cgroup': SC + 'attach',
    'kfunc-zero-pages': AR + 'kfunc_args',
    'kfunc-e2big': AR + 'kfunc_args',
    'kfunc-gfp': AR + 'kfunc_args',
    'kfunc-options': AR + 'kfunc_args',
    'kfunc-swappiness-proactive': AR + 'kfunc_args',
    'kfunc-gfp-ignored': AR + 'kfunc_reclaim',
    'kfunc-may-swap-forced': AR + 'kfunc_reclaim',
    'kfunc-swappiness-ignored': AR + 'kfunc_reclaim',
    'kfunc-cap': AR + 'kfunc_caps',
    'kfunc-memcg-ops-cap': AR + 'kfunc_caps',
}


def main():
    kdir = sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    git = ['git', '-C', kdir]
    if subprocess.run(git + ['diff', '--quiet']).returncode:
        sys.exit(f'{kdir} has uncommitted changes')
    for old in os.listdir(here):
        if old.endswith('.patch'):
            os.unlink(os.path.join(here, old))
    missing = [m[0] for m in MUTANTS if m[0] not in KILLERS]
    if missing:
        sys.exit(f'no KILLERS entry for {", ".join(missing)}')
    for i, (name, path, old, new, what) in enumerate(MUTANTS, 1):
        # One edit, or a list of (path, old, new) edits
        edits = path if isinstance(path, list) else [(path, old, new)]
        for path, old, new in edits:
            f = os.path.join(kdir, path)
            text = open(f).read()
            if text.count(old) != 1:
                sys.exit(f'{name}: the text to replace is in {path} '
                         f'{text.count(old)} times, not once')
            open(f, 'w').write(text.replace(old, new))
        diff = subprocess.run(git + ['diff'], capture_output=True,
                              text=True, check=True).stdout
        subprocess.run(git + ['checkout', '-q', '--'] +
                       sorted({e[0] for e in edits}), check=True)
        with open(os.path.join(here, f'{i:02d}-{name}.patch'), 'w') as p:
            p.write(f'mutant: {what}\ntests: {KILLERS[name]}\n\n{diff}')
    print(f'{len(MUTANTS)} mutants written to {here}')


if __name__ == '__main__':
    main()
