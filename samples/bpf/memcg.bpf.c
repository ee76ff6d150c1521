// SPDX-License-Identifier: GPL-2.0
/*
 * BPF side of the memcg_bpf_ops sample; memcg.c is the loader.
 *
 * Priority: count the page faults of a high priority cgroup's subtree
 * per second. While more than a threshold were taken in the current or
 * the last second, the high cgroup is "active": reclaim treats it as
 * protected (below_low or below_min answers true) and, if asked, charges
 * of a low priority cgroup delay the charging task. While it is idle,
 * the hooks answer as if there were no policy.
 *
 * Asynchronous reclaim: a charge that finds a cgroup's usage above a
 * trigger queues a bpf_wq whose callback, which may sleep, reclaims from
 * the cgroup until its usage is down to a target.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char _license[] SEC("license") = "GPL";

#define NSEC_PER_SEC	1000000000ULL
#define MAX_DEPTH	32		/* levels searched by in_subtree() */
#define BATCH_PAGES	2048		/* pages asked for per run of the work */

/* Set by the loader before the programs are loaded */
const volatile __u64 high_cgid;
const volatile __u64 threshold;		/* page faults per second */
const volatile bool use_below_low;
const volatile bool use_below_min;
const volatile __u32 delay_ms;		/* for charges of the low cgroup */
const volatile __u64 reclaim_cgid;
const volatile __u64 trigger_pages;
const volatile __u64 target_pages;
const volatile __u64 page_size;

/* Faults of the high subtree in second fault_sec, and in the one before */
__u64 fault_sec, fault_cnt, prev_cnt;
__u32 reclaim_busy;			/* the reclaim work is queued */

/* Statistics, read by the loader */
__u64 nr_faults, nr_protected, nr_delayed, nr_reclaim_runs, nr_reclaimed;

struct work {
	struct bpf_wq wq;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, struct work);
} work_map SEC(".maps");

/* The css of @memcg or of its ancestor that is cgroup @cgid, or NULL */
static struct cgroup_subsys_state *in_subtree(struct mem_cgroup *memcg,
					      __u64 cgid)
{
	struct cgroup_subsys_state *css = &memcg->css;
	int i;

	for (i = 0; i < MAX_DEPTH && css; i++) {
		if (css->cgroup->kn->id == cgid)
			return css;
		css = css->parent;
	}
	return NULL;
}

/* A page fault is counted to the memcg of the faulting mm's owner. */
SEC("tp_btf/count_memcg_events")
int BPF_PROG(count_faults, struct mem_cgroup *memcg, int item,
	     unsigned long val)
{
	__u64 sec;

	if (item != (int)bpf_core_enum_value(enum vm_event_item, PGFAULT) ||
	    !in_subtree(memcg, high_cgid))
		return 0;
	/*
	 * Not atomic: when CPUs race at the turn of a second, a second's
	 * count can be lost, which a mere activity estimate can afford.
	 */
	sec = bpf_ktime_get_ns() / NSEC_PER_SEC;
	if (fault_sec != sec) {
		prev_cnt = fault_sec + 1 == sec ? fault_cnt : 0;
		fault_cnt = 0;
		fault_sec = sec;
	}
	__sync_fetch_and_add(&fault_cnt, val);
	__sync_fetch_and_add(&nr_faults, val);
	return 0;
}

static bool high_active(void)
{
	__u64 sec = bpf_ktime_get_ns() / NSEC_PER_SEC;

	if (fault_sec == sec)
		return fault_cnt > threshold || prev_cnt > threshold;
	return fault_sec + 1 == sec && fault_cnt > threshold;
}

/*
 * Asked only when memory.low (memory.min) does not protect the cgroup
 * already: a policy can add protection, never take it away.
 */
SEC("struct_ops/below_low")
bool BPF_PROG(high_below_low, struct mem_cgroup *memcg, unsigned long elow,
	      unsigned long usage)
{
	if (!use_below_low || !high_active())
		return false;
	__sync_fetch_and_add(&nr_protected, 1);
	return true;
}

SEC("struct_ops/below_min")
bool BPF_PROG(high_below_min, struct mem_cgroup *memcg, unsigned long emin,
	      unsigned long usage)
{
	if (!use_below_min || !high_active())
		return false;
	__sync_fetch_and_add(&nr_protected, 1);
	return true;
}

/* Returns how long the charging task sleeps, in milliseconds */
SEC("struct_ops/memcg_charged")
unsigned int BPF_PROG(low_charged, struct mem_cgroup *memcg,
		      unsigned int nr_pages)
{
	if (!high_active())
		return 0;
	__sync_fetch_and_add(&nr_delayed, 1);
	return delay_ms;
}

/*
 * The bpf_wq callback: runs in a kworker and may sleep. It reclaims one
 * batch, then queues itself again while the cgroup is above the target
 * and reclaim makes progress: a long reclaim is many short calls.
 */
static int reclaim_fn(void *map, int *key, void *value)
{
	struct work *w = value;
	struct mem_cgroup *memcg;
	struct cgroup *cgrp;
	__u64 usage;
	long ret = 0;

	cgrp = bpf_cgroup_from_id(reclaim_cgid);
	if (!cgrp)
		goto done;
	memcg = bpf_get_mem_cgroup(&cgrp->self);
	bpf_cgroup_release(cgrp);
	if (!memcg)
		goto done;
	usage = bpf_mem_cgroup_usage(memcg) / page_size;
	if (usage > target_pages) {
		usage -= target_pages;
		if (usage > BATCH_PAGES)
			usage = BATCH_PAGES;
		/* 0: GFP_KERNEL; -1: the cgroup's swappiness */
		ret = bpf_try_to_free_mem_cgroup_pages(memcg, usage, 0,
						       BPF_MEMCG_RECLAIM_MAY_SWAP |
						       BPF_MEMCG_RECLAIM_PROACTIVE,
						       -1);
		__sync_fetch_and_add(&nr_reclaim_runs, 1);
		if (ret > 0)
			__sync_fetch_and_add(&nr_reclaimed, ret);
		usage = bpf_mem_cgroup_usage(memcg) / page_size;
	}
	bpf_put_mem_cgroup(memcg);
	if (ret > 0 && usage > target_pages && !bpf_wq_start(&w->wq, 0))
		return 0;
done:
	reclaim_busy = 0;
	return 0;
}

/* Run once by the loader: set up the work item */
SEC("syscall")
int init_work(void *ctx)
{
	struct work *w;
	int key = 0;

	w = bpf_map_lookup_elem(&work_map, &key);
	if (!w || bpf_wq_init(&w->wq, &work_map, 0))
		return 1;
	return bpf_wq_set_callback(&w->wq, reclaim_fn, 0);
}

SEC("struct_ops/memcg_charged")
unsigned int BPF_PROG(reclaim_charged, struct mem_cgroup *memcg,
		      unsigned int nr_pages)
{
	struct cgroup_subsys_state *css;
	struct mem_cgroup *rmemcg;
	struct work *w;
	int key = 0;

	css = in_subtree(memcg, reclaim_cgid);
	if (!css || reclaim_busy)
		return 0;
	/*
	 * The css found by walking parents is not a trusted pointer, which
	 * bpf_mem_cgroup_usage() wants: read the page counter instead (css
	 * is the first member of struct mem_cgroup).
	 */
	rmemcg = bpf_core_cast(css, struct mem_cgroup);
	if (rmemcg->memory.usage.counter <= trigger_pages)
		return 0;
	w = bpf_map_lookup_elem(&work_map, &key);
	if (!w)
		return 0;
	/* Two charges may both start it: a queued work is queued once. */
	reclaim_busy = 1;
	if (bpf_wq_start(&w->wq, 0))
		reclaim_busy = 0;
	return 0;
}

SEC(".struct_ops.link")
struct memcg_bpf_ops high_ops = {
	.below_low = (void *)high_below_low,
	.below_min = (void *)high_below_min,
};

SEC(".struct_ops.link")
struct memcg_bpf_ops low_ops = {
	.memcg_charged = (void *)low_charged,
};

SEC(".struct_ops.link")
struct memcg_bpf_ops reclaim_ops = {
	.memcg_charged = (void *)reclaim_charged,
};
