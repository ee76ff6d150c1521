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
 * kernel's default behaviour. The hooks are called from BPF programs that
 * cannot sleep, in the context of the event they report (process, softirq
 * or hardirq), never in NMI context. @memcg is a trusted, read-only pointer
 * valid for the duration of the call.
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
	 * longest of their delays. No delay applies to kernel threads and
	 * to charges made outside of a task's context (interrupts). A
	 * memory.high penalty already served inside the kernel, by the
	 * synchronous reclaim of a large charge, is not deducted.
	 */
	unsigned int (*memcg_charged)(struct mem_cgroup *memcg,
				      unsigned int nr_pages);

	/**
	 * @memcg_uncharged: Pages were uncharged from @memcg's page counter
	 * (freed, or returned from the per-CPU charge stock).
	 *
	 * The two hooks report events, they are not a ledger: pages charged
	 * where no hook is called (charges that cannot spin, the replacement
	 * of a page cache folio) are uncharged with one, and the charges of a
	 * removed cgroup move to its parent. bpf_mem_cgroup_usage() gives the
	 * usage itself.
	 */
	void (*memcg_uncharged)(struct mem_cgroup *memcg,
				unsigned int nr_pages);

	/**
	 * @below_low: Decide whether reclaim treats @memcg as protected by
	 * memory.low. @elow is its effective low protection and @usage its
	 * usage, both in pages; the kernel's own answer is @elow >= @usage.
	 * Like memory.low, a protected memcg is reclaimed from only when
	 * reclaim cannot make progress otherwise (it is then counted in the
	 * memory.events "low" field). Not called for the root memcg and for
	 * the memcg that reclaim targets, which are never protected.
	 */
	bool (*below_low)(struct mem_cgroup *memcg, unsigned long elow,
			  unsigned long usage);

	/**
	 * @below_min: Decide whether reclaim treats @memcg as protected by
	 * memory.min, which it never reclaims from. @emin is its effective
	 * min protection and @usage its usage, in pages; the kernel's own
	 * answer is @emin >= @usage. Asked before @below_low, which is not
	 * asked for a memcg below min; with the multi-gen LRU also when aging.
	 */
	bool (*below_min)(struct mem_cgroup *memcg, unsigned long emin,
			  unsigned long usage);

	/**
	 * @handle_cgroup_online: @memcg comes under this policy: the policy
	 * is attached to its cgroup or an ancestor's, or the memcg is
	 * created under it. Called with cgroup_mutex held, before any other
	 * hook of this policy sees @memcg.
	 */
	void (*handle_cgroup_online)(struct mem_cgroup *memcg);

	/**
	 * @handle_cgroup_offline: @memcg leaves this policy: its cgroup is
	 * removed, or the policy is detached or overridden by a policy
	 * attached below it. Called once for each @handle_cgroup_online,
	 * with cgroup_mutex held. When the policy is detached or overridden,
	 * it is called after the other hooks of this policy are done with
	 * @memcg. When the cgroup is removed, the memcg may live on while it
	 * holds charges: the other hooks can see it until the policy in
	 * effect for it changes, which then stops silently.
	 */
	void (*handle_cgroup_offline)(struct mem_cgroup *memcg);
};

#ifdef CONFIG_MEMCG_BPF
void __memcg_bpf_charged(struct mem_cgroup *memcg, unsigned int nr_pages);
void __memcg_bpf_uncharged(struct mem_cgroup *memcg, unsigned int nr_pages);
void memcg_bpf_online(struct mem_cgroup *memcg);
void memcg_bpf_offline(struct mem_cgroup *memcg);

static inline void memcg_bpf_charged(struct mem_cgroup *memcg,
				     unsigned int nr_pages)
{
	if (memcg_bpf_ops_enabled())
		__memcg_bpf_charged(memcg, nr_pages);
}

static inline void memcg_bpf_uncharged(struct mem_cgroup *memcg,
				       unsigned int nr_pages)
{
	if (memcg_bpf_ops_enabled())
		__memcg_bpf_uncharged(memcg, nr_pages);
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
				     unsigned int nr_pages)
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

static inline unsigned long memcg_bpf_take_delay(void)
{
	return 0;
}
#endif /* CONFIG_MEMCG_BPF */

#endif /* __MM_MEMCONTROL_BPF_H */
