// SPDX-License-Identifier: GPL-2.0
/*
 * BPF side of the demo's policy loader (policy.c), v1's
 * samples/bpf/memcg.bpf.c.
 *
 * Memory priority: a tracepoint program counts the page faults of a
 * high priority cgroup's subtree, per second. While they exceed a
 * threshold, the high cgroup is "active", and
 *  - charges of a low priority cgroup delay the charging task
 *    (memcg_charged returns a delay),
 *  - the high cgroup is protected from reclaim (below_low and/or
 *    below_min answer true); while it is idle they answer false, so that
 *    an idle high cgroup does not keep memory its siblings need.
 *
 * Asynchronous reclaim: when a charge finds a cgroup's usage above a
 * trigger, memcg_charged queues a bpf_wq whose callback reclaims from the
 * cgroup with bpf_try_to_free_mem_cgroup_pages() until its usage is at a
 * target, before the cgroup meets memory.max. Optionally, when charges
 * outrun the reclaim work, usage climbs from the trigger towards
 * memory.max and memcg_charged delays the charging tasks more the closer
 * it gets, so that the workload waits for the reclaim instead of
 * reclaiming itself at the limit.
 *
 * A cgroup has at most one policy of its own, so there is a struct_ops
 * map for each role and each combination of roles the loader can give
 * a cgroup; it creates and attaches only those the options ask for.
 */
#define BPF_NO_KFUNC_PROTOTYPES
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char _license[] SEC("license") = "GPL";

#define NSEC_PER_SEC	1000000000ULL

/* Deepest cgroup level below the one searched for in ancestors_css() */
#define MAX_CGROUP_DEPTH	32

/* Pages reclaimed per bpf_try_to_free_mem_cgroup_pages() call, at most */
#define RECLAIM_BATCH_BYTES	(8ULL << 20)

/* No reclaim for this long after a pass that reclaimed nothing */
#define RECLAIM_BACKOFF_NS	NSEC_PER_SEC

extern struct cgroup *
bpf_cgroup_from_id(u64 cgid) __weak __ksym;
extern void bpf_cgroup_release(struct cgroup *cgrp) __weak __ksym;
extern struct mem_cgroup *
bpf_get_mem_cgroup(struct cgroup_subsys_state *css) __weak __ksym;
extern void bpf_put_mem_cgroup(struct mem_cgroup *memcg) __weak __ksym;
extern unsigned long bpf_mem_cgroup_usage(struct mem_cgroup *memcg) __weak __ksym;
extern long bpf_try_to_free_mem_cgroup_pages(struct mem_cgroup *memcg,
					     unsigned long nr_pages,
					     gfp_t gfp_mask,
					     unsigned int reclaim_options,
					     int swappiness) __weak __ksym;
extern int bpf_wq_init(struct bpf_wq *wq, void *p__const_map, unsigned int flags) __weak __ksym;
extern int bpf_wq_set_callback(struct bpf_wq *wq,
			       int (callback_fn)(void *map, int *key, void *value),
			       unsigned int flags) __weak __ksym;
extern int bpf_wq_start(struct bpf_wq *wq, unsigned int flags) __weak __ksym;

/* Configuration: set by the loader between open and load */
__u64 high_cgid;
__u64 fault_threshold;		/* page faults per second */
__u32 low_delay_ms;
__u64 reclaim_cgid;
__u64 reclaim_trigger_pages;
__u64 reclaim_target_pages;
__u32 reclaim_delay_ms;		/* delay at memory.max, 0: none */
__u64 page_size;

/*
 * Page faults of the high subtree in the two most recent seconds of
 * bpf_ktime_get_ns(): fault_cnt[i] counts those of second fault_sec[i],
 * i = second & 1.
 */
__u64 fault_sec[2];
__u64 fault_cnt[2];

/* Statistics, read by the loader */
__u64 nr_faults;		/* page faults of the high subtree */
__u64 nr_protected;		/* below_low/below_min answered true */
__u64 nr_delays;		/* charges of the low subtree given a delay */
__u64 nr_reclaim_kicks;		/* reclaim work queued by a charge */
__u64 nr_reclaim_runs;		/* bpf_try_to_free_mem_cgroup_pages() calls */
__u64 nr_reclaimed_pages;
__u64 nr_reclaim_errors;
__u64 nr_reclaim_delays;	/* charges of the reclaim subtree delayed */
__u64 nr_reclaim_work_ns;	/* time in the reclaim work (a kworker's CPU) */
long reclaim_last_error;

/* The reclaim work is queued or running: charges need not queue it. */
__u32 reclaim_queued;
/* After a pass without progress, no reclaim before this time. */
__u64 reclaim_idle_until_ns;

struct reclaim_work {
	struct bpf_wq wq;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, struct reclaim_work);
} reclaim_work_map SEC(".maps");

/*
 * The css of the memcg of cgroup @cgid if that is @memcg or one of its
 * ancestors, else NULL. The pointers walked are read-only: good for
 * reading fields, not for kfuncs that want a trusted pointer.
 */
static __always_inline struct cgroup_subsys_state *
ancestors_css(struct mem_cgroup *memcg, __u64 cgid)
{
	struct cgroup_subsys_state *css = &memcg->css;
	int i;

	for (i = 0; i <= MAX_CGROUP_DEPTH; i++) {
		if (!css)
			break;
		if (css->cgroup->kn->id == cgid)
			return css;
		css = css->parent;
	}
	return NULL;
}

/* A page fault is charged to the memcg of the faulting mm's owner. */
SEC("tp_btf/count_memcg_events")
int BPF_PROG(count_high_faults, struct mem_cgroup *memcg, int item,
	     unsigned long val)
{
	__u64 sec;
	__u32 i;

	if (item != (int)bpf_core_enum_value(enum vm_event_item, PGFAULT) ||
	    !ancestors_css(memcg, high_cgid))
		return 0;

	__sync_fetch_and_add(&nr_faults, val);
	sec = bpf_ktime_get_ns() / NSEC_PER_SEC;
	i = sec & 1;
	/*
	 * The first fault of a second restarts the slot, which counted the
	 * second before the last one. Faults racing with the restart may be
	 * lost or counted in the wrong second, which an activity estimate
	 * can afford.
	 */
	if (fault_sec[i] != sec) {
		fault_cnt[i] = 0;
		barrier();
		fault_sec[i] = sec;
	}
	__sync_fetch_and_add(&fault_cnt[i], val);
	return 0;
}

/* More faults than the threshold in the last second, or in this one. */
static bool high_active(void)
{
	__u64 sec = bpf_ktime_get_ns() / NSEC_PER_SEC;
	__u32 cur = sec & 1, prev = cur ^ 1;

	if (fault_sec[prev] == sec - 1 && fault_cnt[prev] > fault_threshold)
		return true;
	return fault_sec[cur] == sec && fault_cnt[cur] > fault_threshold;
}

/*
 * Protection of the high subtree, granted while it is active. The kernel
 * asks only where memory.low/memory.min do not protect it already: what
 * they give stays, whatever the answer.
 */
#define MAX_GRANTS	64
__u64 grant_ns[MAX_GRANTS];	/* when a grant followed a refusal (or none) */
__u32 nr_grants;
__u32 granting;			/* the last answer was a grant */

static __always_inline bool high_protected(void)
{
	__u32 i;

	if (!high_active()) {
		granting = 0;
		return false;
	}
	if (!granting) {
		granting = 1;
		i = nr_grants;
		if (i < MAX_GRANTS) {
			grant_ns[i] = bpf_ktime_get_ns();
			nr_grants = i + 1;
		}
	}
	__sync_fetch_and_add(&nr_protected, 1);
	return true;
}

SEC("struct_ops/below_low")
bool BPF_PROG(high_below_low, struct mem_cgroup *memcg, unsigned long elow,
	      unsigned long usage)
{
	return high_protected();
}

SEC("struct_ops/below_min")
bool BPF_PROG(high_below_min, struct mem_cgroup *memcg, unsigned long emin,
	      unsigned long usage)
{
	return high_protected();
}

/* The delay for a charge of the low subtree */
static __always_inline unsigned int low_delay(void)
{
	if (!high_active())
		return 0;
	__sync_fetch_and_add(&nr_delays, 1);
	return low_delay_ms;
}

SEC("struct_ops/memcg_charged")
unsigned int BPF_PROG(low_charged, struct mem_cgroup *memcg,
		      unsigned int nr_pages)
{
	return low_delay();
}

/*
 * The bpf_wq callback, which may sleep: reclaim a batch from the reclaim
 * cgroup, and queue itself again while its usage is above the target and
 * reclaim makes progress.
 */
static int reclaim_work_fn(void *map, int *key, void *value)
{
	struct reclaim_work *work = value;
	__u64 usage, nr_pages, batch, t0 = bpf_ktime_get_ns();
	struct mem_cgroup *memcg;
	struct cgroup *cgrp;
	long ret = 0;

	cgrp = bpf_cgroup_from_id(reclaim_cgid);
	if (!cgrp)
		goto stop;
	memcg = bpf_get_mem_cgroup(&cgrp->self);
	bpf_cgroup_release(cgrp);
	if (!memcg)
		goto stop;

	usage = bpf_mem_cgroup_usage(memcg) / page_size;
	if (usage > reclaim_target_pages) {
		batch = RECLAIM_BATCH_BYTES / page_size;
		nr_pages = usage - reclaim_target_pages;
		if (nr_pages > batch)
			nr_pages = batch;
		/* 0: GFP_KERNEL; -1: the cgroup's own swappiness */
		ret = bpf_try_to_free_mem_cgroup_pages(memcg, nr_pages, 0,
						       BPF_MEMCG_RECLAIM_MAY_SWAP |
						       BPF_MEMCG_RECLAIM_PROACTIVE,
						       -1);
		__sync_fetch_and_add(&nr_reclaim_runs, 1);
		if (ret < 0) {
			__sync_fetch_and_add(&nr_reclaim_errors, 1);
			reclaim_last_error = ret;
		} else {
			__sync_fetch_and_add(&nr_reclaimed_pages, ret);
		}
		usage = bpf_mem_cgroup_usage(memcg) / page_size;
	}
	bpf_put_mem_cgroup(memcg);

	if (usage <= reclaim_target_pages)
		goto stop;
	if (ret <= 0) {
		/* Nothing more to get for now: let charges retry later. */
		reclaim_idle_until_ns = bpf_ktime_get_ns() + RECLAIM_BACKOFF_NS;
		goto stop;
	}
	if (!bpf_wq_start(&work->wq, 0))
		goto out;
	__sync_fetch_and_add(&nr_reclaim_errors, 1);
stop:
	reclaim_queued = 0;
out:
	__sync_fetch_and_add(&nr_reclaim_work_ns, bpf_ktime_get_ns() - t0);
	return 0;
}

/* Run once by the loader, before attaching: set up the reclaim work. */
SEC("syscall")
int init_reclaim_work(void *ctx)
{
	struct reclaim_work *work;
	int key = 0;

	work = bpf_map_lookup_elem(&reclaim_work_map, &key);
	if (!work)
		return 1;
	if (bpf_wq_init(&work->wq, &reclaim_work_map, 0))
		return 2;
	if (bpf_wq_set_callback(&work->wq, reclaim_work_fn, 0))
		return 3;
	return 0;
}

/*
 * Backpressure for a charge that finds the reclaim cgroup at @usage pages,
 * above the trigger: reclaim_delay_ms scaled by how far usage has gone
 * from the trigger towards memory.max (none without a memory.max).
 */
static __always_inline unsigned int reclaim_delay(struct mem_cgroup *rmemcg,
						  __u64 usage)
{
	__u64 max = rmemcg->memory.max, delay;

	if (!reclaim_delay_ms || max <= reclaim_trigger_pages)
		return 0;
	if (usage >= max)
		delay = reclaim_delay_ms;
	else
		delay = reclaim_delay_ms * (usage - reclaim_trigger_pages) /
			(max - reclaim_trigger_pages);
	if (delay)
		__sync_fetch_and_add(&nr_reclaim_delays, 1);
	return delay;
}

/*
 * A charge of the reclaim subtree: queue the reclaim work if the reclaim
 * cgroup's usage (its page counter, which counts the whole subtree) is
 * above the trigger; returns the backpressure delay. No atomic exchange
 * for reclaim_queued: two charges that race here both queue the work,
 * and a queued work is queued once.
 */
static __always_inline unsigned int
reclaim_charged_check(struct mem_cgroup *memcg)
{
	struct cgroup_subsys_state *css;
	struct reclaim_work *work;
	bool busy = reclaim_queued || bpf_ktime_get_ns() < reclaim_idle_until_ns;
	struct mem_cgroup *rmemcg;
	unsigned int delay;
	__u64 usage;
	int key = 0;

	if (busy && !reclaim_delay_ms)
		return 0;
	css = ancestors_css(memcg, reclaim_cgid);
	if (!css)
		return 0;
	/* css is the first member of struct mem_cgroup */
	rmemcg = bpf_core_cast(css, struct mem_cgroup);
	usage = rmemcg->memory.usage.counter;
	if (usage <= reclaim_trigger_pages)
		return 0;
	delay = reclaim_delay(rmemcg, usage);
	if (busy)
		return delay;

	work = bpf_map_lookup_elem(&reclaim_work_map, &key);
	if (!work)
		return delay;
	reclaim_queued = 1;
	if (bpf_wq_start(&work->wq, 0)) {
		__sync_fetch_and_add(&nr_reclaim_errors, 1);
		reclaim_queued = 0;
		return delay;
	}
	__sync_fetch_and_add(&nr_reclaim_kicks, 1);
	return delay;
}

SEC("struct_ops/memcg_charged")
unsigned int BPF_PROG(reclaim_charged, struct mem_cgroup *memcg,
		      unsigned int nr_pages)
{
	return reclaim_charged_check(memcg);
}

/* The low cgroup is also the reclaim cgroup */
SEC("struct_ops/memcg_charged")
unsigned int BPF_PROG(low_reclaim_charged, struct mem_cgroup *memcg,
		      unsigned int nr_pages)
{
	unsigned int reclaim = reclaim_charged_check(memcg);
	unsigned int low = low_delay();

	return low > reclaim ? low : reclaim;
}

/* High cgroup: protection through below_low, below_min, or both */
SEC(".struct_ops.link")
struct memcg_bpf_ops high_low_ops = {
	.below_low = (void *)high_below_low,
};

SEC(".struct_ops.link")
struct memcg_bpf_ops high_min_ops = {
	.below_min = (void *)high_below_min,
};

SEC(".struct_ops.link")
struct memcg_bpf_ops high_low_min_ops = {
	.below_low = (void *)high_below_low,
	.below_min = (void *)high_below_min,
};

/* Low cgroup: delayed charges while the high cgroup is active */
SEC(".struct_ops.link")
struct memcg_bpf_ops low_ops = {
	.memcg_charged = (void *)low_charged,
};

/* Reclaim cgroup: asynchronous reclaim above the trigger */
SEC(".struct_ops.link")
struct memcg_bpf_ops reclaim_ops = {
	.memcg_charged = (void *)reclaim_charged,
};

/* A cgroup that is both the low and the reclaim cgroup */
SEC(".struct_ops.link")
struct memcg_bpf_ops low_reclaim_ops = {
	.memcg_charged = (void *)low_reclaim_charged,
};
