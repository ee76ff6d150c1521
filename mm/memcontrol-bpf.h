/* SPDX-License-Identifier: GPL-2.0 */
/*
 * BPF memory policies: the hooks of struct memcg_bpf_ops as the memory
 * controller calls them. See mm/bpf_memcontrol.c.
 */
#ifndef __MM_MEMCONTROL_BPF_H
#define __MM_MEMCONTROL_BPF_H

#include <linux/memcontrol.h>
#include <linux/sched.h>

/*
 * The longest delay a policy can ask for on one return to userland: the
 * cap of the memory.high penalty (MEMCG_MAX_HIGH_DELAY_JIFFIES).
 */
#define MEMCG_BPF_MAX_DELAY_MS	2000U

/**
 * struct memcg_bpf_ops - A BPF memory policy for a cgroup subtree
 *
 * A struct_ops map of this type is attached to a cgroup with a struct_ops
 * link whose target is the cgroup (bpf_map__attach_struct_ops_opts()). It
 * is then the policy of the cgroup's memcg and of every descendant memcg,
 * present or future, that has no policy of its own attached. Descendants
 * may attach their own only if the link was created with
 * BPF_F_ALLOW_OVERRIDE. Every hook is optional; a missing hook keeps the
 * kernel's default behaviour. The hooks are BPF programs that cannot
 * sleep, called in the context of the event they report, which each
 * hook's description gives; never in NMI context. @memcg is a trusted,
 * read-only pointer valid for the duration of the call.
 */
struct memcg_bpf_ops {
	/**
	 * @memcg_charged: Pages were charged to @memcg.
	 *
	 * Called once per charge batch: when the charge path takes pages
	 * from @memcg's page counter to serve a charge and to refill the
	 * per-CPU charge stock (usually %MEMCG_CHARGE_BATCH pages), not for
	 * each page served from the stock.
	 *
	 * Return: a delay in milliseconds the charging task sleeps for on
	 * its next return to userland, 0 for none. It is a lower bound on
	 * the memory.high penalty of that return: the task sleeps for the
	 * longer of the two, whether or not memory.high is exceeded, and at
	 * most %MEMCG_BPF_MAX_DELAY_MS (2 seconds, the cap of the memory.high
	 * penalty). Several charges before one return sleep once, for the
	 * longest of their delays. No delay applies to kernel threads, to
	 * charges made outside of a task's context (interrupts), and to a
	 * task whose own memcg is not @memcg or one of its descendants (it
	 * charged @memcg remotely: a swap-in charged to the memcg of the
	 * swapped-out page, for instance). A child does not inherit a
	 * delay pending for its parent. A memory.high penalty already
	 * served inside the kernel, by the synchronous reclaim of a large
	 * charge, is not deducted.
	 *
	 * A batch is reported before any part of it can go back to the
	 * page counter (the per-CPU stock may return pages at once): a
	 * policy that keeps charged minus uncharged pages per memcg does
	 * not see it drop below zero for the pages the hooks report.
	 *
	 * Context: that of the charge: usually a task (a page fault, a
	 * system call), also softirq or hardirq (network buffers, atomic
	 * allocations), possibly with spinlocks held and interrupts
	 * disabled. Not called for the charges of kmalloc_nolock() and
	 * alloc_pages_nolock(), which cannot spin and are how a
	 * non-sleepable program's own allocations are charged (local
	 * storage): they do not call the hook again while it runs. (A
	 * transparent huge page faulted in without reclaim, with
	 * GFP_TRANSHUGE_LIGHT, cannot spin either, and is reported.) The
	 * refill of BPF's memory allocator (hash map elements, bpf_obj_new())
	 * charges from an irq_work, in hardirq context: a program that
	 * allocates that way can see the hook called at that level, once
	 * per refill, while its call in process context is not finished.
	 */
	unsigned int (*memcg_charged)(struct mem_cgroup *memcg,
				      unsigned int nr_pages);

	/**
	 * @memcg_uncharged: Pages were uncharged from @memcg's page counter
	 * (freed, or returned from the per-CPU charge stock).
	 *
	 * The two hooks report events, they are not a ledger: pages charged
	 * where no hook is called (charges of the nolock allocators, the
	 * replacement of a page cache folio) are uncharged with one, and the
	 * charges of a removed cgroup move to its parent.
	 * bpf_mem_cgroup_usage() gives the usage itself.
	 *
	 * Context: that of the free: a task, softirq or hardirq, possibly
	 * with interrupts disabled, with the lock of the per-CPU charge
	 * stock held (when the stock is drained), and from the callers of
	 * kfree_nolock(), which may hold raw spinlocks (BPF programs of any
	 * type freeing local storage, for instance). Runs with preemption
	 * disabled. The hook does not re-enter itself: an uncharge caused
	 * by its own program (deleting a BPF local storage frees memory
	 * charged to a memcg, whose uncharge may find the stock lock held
	 * and go to the page counter) is not reported while the hook runs
	 * in the same context (process, softirq or hardirq) on the CPU.
	 */
	void (*memcg_uncharged)(struct mem_cgroup *memcg,
				unsigned int nr_pages);

	/**
	 * @below_low: Decide whether reclaim protects @memcg as if its
	 * usage were within memory.low, although it is not. @elow is its
	 * effective low protection and @usage its usage, both in pages,
	 * as the kernel computed them. Asked only when @elow < @usage: a
	 * policy can grant protection, never take away what memory.low
	 * gives, which stays a guarantee to the administrator. Return true
	 * to protect @memcg: like memory.low, it is then reclaimed from
	 * only when reclaim cannot make progress otherwise (and counted in
	 * the memory.events "low" field). Not called for the root memcg,
	 * for the memcg that reclaim targets, which are never protected,
	 * and for a memcg protected by memory.min or @below_min.
	 *
	 * Context: reclaim, with the RCU read lock held: direct reclaim in
	 * the allocating task (which may hold locks of its allocation path,
	 * filesystem ones with GFP_NOFS), kswapd, or the task that writes
	 * memory.reclaim; called for every memcg and node of every reclaim
	 * pass, so it should be cheap.
	 */
	bool (*below_low)(struct mem_cgroup *memcg, unsigned long elow,
			  unsigned long usage);

	/**
	 * @below_min: Decide whether reclaim protects @memcg as if its
	 * usage were within memory.min, although it is not: it is then
	 * never reclaimed from. @emin is its effective min protection and
	 * @usage its usage, in pages, as the kernel computed them. Asked
	 * only when @emin < @usage: memory.min stays a guarantee the
	 * policy cannot lower. Return true to protect @memcg. Asked before
	 * @below_low; with the multi-gen LRU also when aging. Not called
	 * for the root memcg and for the memcg that reclaim targets.
	 * Context: as @below_low.
	 */
	bool (*below_min)(struct mem_cgroup *memcg, unsigned long emin,
			  unsigned long usage);

	/**
	 * @handle_cgroup_online: @memcg comes under this policy: the policy
	 * is attached to its cgroup or an ancestor's, or the memcg comes
	 * online under it (its cgroup is created, or the memory controller
	 * is enabled for it again). Called with cgroup_mutex held, before
	 * any other hook of this policy can see @memcg.
	 */
	void (*handle_cgroup_online)(struct mem_cgroup *memcg);

	/**
	 * @handle_cgroup_offline: @memcg leaves this policy: the policy is
	 * detached or overridden by a policy attached below it, or @memcg
	 * goes offline (its cgroup is removed, or the memory controller is
	 * disabled for it). Called once for each @handle_cgroup_online, with
	 * cgroup_mutex held. No hook of this policy starts for @memcg after
	 * this call; a call that started before it on another CPU may still
	 * be running, so state kept per memcg is best created in
	 * @handle_cgroup_online only. An offline memcg that still holds
	 * charges gets no hook of any policy.
	 */
	void (*handle_cgroup_offline)(struct mem_cgroup *memcg);
};

#ifdef CONFIG_MEMCG_BPF
void __memcg_bpf_charged(struct mem_cgroup *memcg, unsigned int nr_pages);
void __memcg_bpf_uncharged(struct mem_cgroup *memcg, unsigned int nr_pages);
void memcg_bpf_online(struct mem_cgroup *memcg);
void memcg_bpf_offline(struct mem_cgroup *memcg);

/*
 * Whether a charge with @gfp_mask is reported to memcg_charged: all but
 * those of kmalloc_nolock() and alloc_pages_nolock(), which may come from
 * the hook's own program. Those take neither a reclaim flag nor __GFP_IO
 * and __GFP_FS; a transparent huge page fault that may not reclaim
 * (GFP_TRANSHUGE_LIGHT) has no reclaim flag either, but is a page fault.
 */
static inline bool memcg_bpf_charge_reported(gfp_t gfp_mask)
{
	return gfpflags_allow_spinning(gfp_mask) ||
	       (gfp_mask & (__GFP_IO | __GFP_FS));
}

static inline void memcg_bpf_charged(struct mem_cgroup *memcg,
				     unsigned int nr_pages, gfp_t gfp_mask)
{
	if (memcg_bpf_ops_enabled() && memcg_bpf_charge_reported(gfp_mask))
		__memcg_bpf_charged(memcg, nr_pages);
}

static inline void memcg_bpf_uncharged(struct mem_cgroup *memcg,
				       unsigned int nr_pages)
{
	if (memcg_bpf_ops_enabled())
		__memcg_bpf_uncharged(memcg, nr_pages);
}

/*
 * A new task (@task, before it first runs): a delay that a policy asked for
 * its parent while the parent charged the fork (copying the task_struct
 * copied it) is the parent's to serve, not the child's.
 */
static inline void memcg_bpf_fork(struct task_struct *task)
{
	task->memcg_bpf_delay_ms = 0;
}

/* The throttling a policy asked for current, in jiffies; resets it. */
static inline unsigned long memcg_bpf_take_delay(void)
{
	unsigned int ms = current->memcg_bpf_delay_ms;

	if (likely(!ms))
		return 0;
	current->memcg_bpf_delay_ms = 0;
	return msecs_to_jiffies(ms);
}
#else
static inline void memcg_bpf_charged(struct mem_cgroup *memcg,
				     unsigned int nr_pages, gfp_t gfp_mask)
{
}

static inline void memcg_bpf_uncharged(struct mem_cgroup *memcg,
				       unsigned int nr_pages)
{
}

static inline void memcg_bpf_online(struct mem_cgroup *memcg)
{
}

static inline void memcg_bpf_offline(struct mem_cgroup *memcg)
{
}

static inline void memcg_bpf_fork(struct task_struct *task)
{
}

static inline unsigned long memcg_bpf_take_delay(void)
{
	return 0;
}
#endif /* CONFIG_MEMCG_BPF */

#endif /* __MM_MEMCONTROL_BPF_H */
