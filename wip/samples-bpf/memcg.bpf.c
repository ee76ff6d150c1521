// SPDX-License-Identifier: GPL-2.0
/*
 * memcg_bpf_ops sample, BPF side. See memcg.c for the loader.
 *
 * A tracepoint counts the page faults of a high priority cgroup per second.
 * While that count is above a threshold, the high cgroup is "active":
 * - the charges of a low priority cgroup get a delay (memcg_charged),
 * - the high cgroup is protected from reclaim (below_low and/or below_min).
 * Independently, a cgroup can get asynchronous reclaim: when its usage goes
 * above a trigger, a bpf_wq callback reclaims from it until its usage is
 * back at or below a target.
 *
 * Only one memcg_bpf_ops can be attached per cgroup, so there is one
 * struct_ops map per role and per combination of roles; the loader creates
 * and attaches only those its options ask for.
 */
#define BPF_NO_KFUNC_PROTOTYPES
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char _license[] SEC("license") = "GPL";

#define NSEC_PER_SEC		1000000000ULL
#define EBUSY			16

/* Reclaim in chunks of this many bytes per bpf_try_to_free_mem_cgroup_pages() */
#define RECLAIM_CHUNK		(2ULL << 20)
/* After a reclaim pass without progress, do not retry for this long */
#define RECLAIM_BACKOFF_NS	NSEC_PER_SEC

/* include/linux/swap.h, not in BTF: bits 1 and 2 */
#define MEMCG_RECLAIM_MAY_SWAP		0x2U
#define MEMCG_RECLAIM_PROACTIVE		0x4U

/*
 * GFP_KERNEL (__GFP_RECLAIM | __GFP_IO | __GFP_FS, 0xcc0 on current kernels),
 * from the ___GFP_*_BIT enum of include/linux/gfp_types.h found in BTF.
 */
#define RECLAIM_GFP	((1U << ___GFP_IO_BIT) | (1U << ___GFP_FS_BIT) |	\
			 (1U << ___GFP_DIRECT_RECLAIM_BIT) |		\
			 (1U << ___GFP_KSWAPD_RECLAIM_BIT))

extern int bpf_wq_init(struct bpf_wq *wq, void *p__map,
		       unsigned int flags) __weak __ksym;
extern int bpf_wq_set_callback(struct bpf_wq *wq,
			       int (*callback_fn)(void *, int *, void *),
			       unsigned int flags) __weak __ksym;
extern int bpf_wq_start(struct bpf_wq *wq, unsigned int flags) __weak __ksym;
extern struct cgroup *
bpf_cgroup_from_id(__u64 cgid) __weak __ksym;
extern void bpf_cgroup_release(struct cgroup *cgrp) __weak __ksym;
extern struct mem_cgroup *
bpf_get_mem_cgroup(struct cgroup_subsys_state *css) __weak __ksym;
extern void bpf_put_mem_cgroup(struct mem_cgroup *memcg) __weak __ksym;
extern unsigned long bpf_mem_cgroup_usage(struct mem_cgroup *memcg) __weak __ksym;
extern long
bpf_try_to_free_mem_cgroup_pages(struct mem_cgroup *memcg,
				 unsigned long nr_pages,
				 unsigned int gfp_mask,
				 unsigned int reclaim_options,
				 int swappiness) __weak __ksym;

/* Configuration, written by the loader between open and load */
__u64 high_cgid;
__u64 fault_threshold;		/* faults per second */
__u32 low_delay_ms;
__u64 reclaim_cgid;
__u64 reclaim_trigger;		/* bytes */
__u64 reclaim_target;		/* bytes */
__u64 page_size;

/*
 * Page faults of the high cgroup in the last two seconds of
 * bpf_ktime_get_ns() (CLOCK_MONOTONIC): fault_cnt[s & 1] counts the faults
 * of second s = fault_sec[s & 1].
 */
__u64 fault_sec[2];
__u64 fault_cnt[2];

/* Statistics, read by the loader */
__u64 nr_protected;		/* below_low/below_min protected high */
__u64 nr_delays;		/* charges of low given low_delay_ms */
__u64 nr_reclaim_kicks;		/* bpf_wq started by a charge */
__u64 nr_reclaim_runs;		/* bpf_try_to_free_mem_cgroup_pages() calls */
__u64 nr_reclaimed_pages;
__u64 nr_reclaim_errors;

/*
 * Usage of the reclaim cgroup in pages: kept up to date by the charge and
 * uncharge hooks, set from the real usage whenever it is read. Seeded by
 * the loader from memory.current before attaching.
 */
__s64 reclaim_usage_pages;
/* The bpf_wq is queued or running; no need to start it again. */
__u32 reclaim_queued;
/* No new reclaim before this time, after a pass without progress. */
__u64 reclaim_resume_ns;

struct reclaim_work {
	struct bpf_wq wq;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, struct reclaim_work);
} reclaim_works SEC(".maps");

static __always_inline __u64 memcg_cgid(struct mem_cgroup *memcg)
{
	return memcg->css.cgroup->kn->id;
}

SEC("tracepoint/memcg/count_memcg_events")
int count_high_faults(struct trace_event_raw_memcg_rstat_events *ctx)
{
	__u64 sec;
	__u32 slot;

	if (ctx->item != (int)bpf_core_enum_value(enum vm_event_item, PGFAULT) ||
	    ctx->id != high_cgid)
		return 0;

	sec = bpf_ktime_get_ns() / NSEC_PER_SEC;
	slot = sec & 1;
	/*
	 * First fault of a new second: restart its slot, the count before
	 * the second so that high_active() never takes an old count for a
	 * new one. Racing CPUs may lose a few faults here, which is fine for
	 * an activity estimate.
	 */
	if (fault_sec[slot] != sec) {
		fault_cnt[slot] = 0;
		barrier();
		fault_sec[slot] = sec;
	}
	__sync_fetch_and_add(&fault_cnt[slot], ctx->val);
	return 0;
}

/* Faults in the last complete second, or so far in this one, > threshold */
static bool high_active(void)
{
	__u64 sec = bpf_ktime_get_ns() / NSEC_PER_SEC;
	__u32 cur = sec & 1, prev = (sec - 1) & 1;

	if (fault_sec[prev] == sec - 1 && fault_cnt[prev] > fault_threshold)
		return true;
	return fault_sec[cur] == sec && fault_cnt[cur] > fault_threshold;
}

/*
 * The high cgroup (and its descendants) is protected from reclaim while
 * it is active. While it is idle it has no protection at all: this policy
 * replaces memory.low/memory.min rather than adding to them.
 */
static __always_inline bool high_protect(void)
{
	if (!high_active())
		return false;
	__sync_fetch_and_add(&nr_protected, 1);
	return true;
}

SEC("struct_ops/below_low")
bool BPF_PROG(high_below_low, struct mem_cgroup *memcg, unsigned long elow,
	      unsigned long usage)
{
	return high_protect();
}

SEC("struct_ops/below_min")
bool BPF_PROG(high_below_min, struct mem_cgroup *memcg, unsigned long emin,
	      unsigned long usage)
{
	return high_protect();
}

/* Delay the charging task of the low cgroup while high is active. */
static __always_inline unsigned int low_delay(void)
{
	if (!low_delay_ms || !high_active())
		return 0;
	__sync_fetch_and_add(&nr_delays, 1);
	return low_delay_ms;
}

SEC("struct_ops/memcg_charged")
unsigned int BPF_PROG(low_charged, struct mem_cgroup *memcg,
		      unsigned long nr_pages)
{
	return low_delay();
}

/*
 * bpf_wq callback, sleepable: reclaim one chunk from the reclaim cgroup,
 * and queue itself again while the usage is above the target.
 */
static int reclaim_work_fn(void *map, int *key, void *value)
{
	__u64 usage, excess, nr_pages, chunk = RECLAIM_CHUNK / page_size;
	struct mem_cgroup *memcg;
	struct reclaim_work *w;
	struct cgroup *cgrp;
	int zero = 0;
	long ret = 0;

	cgrp = bpf_cgroup_from_id(reclaim_cgid);
	if (!cgrp)
		goto stop;
	memcg = bpf_get_mem_cgroup(&cgrp->self);
	bpf_cgroup_release(cgrp);
	if (!memcg)
		goto stop;

	usage = bpf_mem_cgroup_usage(memcg);
	if (usage > reclaim_target) {
		excess = (usage - reclaim_target + page_size - 1) / page_size;
		nr_pages = excess < chunk ? excess : chunk;
		ret = bpf_try_to_free_mem_cgroup_pages(memcg, nr_pages,
						       RECLAIM_GFP,
						       MEMCG_RECLAIM_MAY_SWAP |
						       MEMCG_RECLAIM_PROACTIVE,
						       -1);
		__sync_fetch_and_add(&nr_reclaim_runs, 1);
		if (ret > 0)
			__sync_fetch_and_add(&nr_reclaimed_pages, ret);
		else if (ret < 0)
			__sync_fetch_and_add(&nr_reclaim_errors, 1);
		usage = bpf_mem_cgroup_usage(memcg);
	}
	reclaim_usage_pages = usage / page_size;
	bpf_put_mem_cgroup(memcg);

	if (usage <= reclaim_target)
		goto stop;
	if (ret <= 0) {
		/* No progress: back off instead of spinning. */
		reclaim_resume_ns = bpf_ktime_get_ns() + RECLAIM_BACKOFF_NS;
		goto stop;
	}

	w = bpf_map_lookup_elem(&reclaim_works, &zero);
	if (w && !bpf_wq_start(&w->wq, 0))
		return 0;
	__sync_fetch_and_add(&nr_reclaim_errors, 1);
stop:
	reclaim_queued = 0;
	return 0;
}

/* Start the reclaim work unless it is queued already or backing off. */
static void reclaim_kick(void)
{
	struct reclaim_work *w;
	int zero = 0, err;

	if (reclaim_queued || bpf_ktime_get_ns() < reclaim_resume_ns)
		return;
	w = bpf_map_lookup_elem(&reclaim_works, &zero);
	if (!w)
		return;
	/* Racing CPUs may both get here: starting a queued wq is harmless. */
	reclaim_queued = 1;

	err = bpf_wq_init(&w->wq, &reclaim_works, 0);
	if (err && err != -EBUSY)	/* -EBUSY: initialized before */
		goto fail;
	if (bpf_wq_set_callback(&w->wq, reclaim_work_fn, 0))
		goto fail;
	if (bpf_wq_start(&w->wq, 0))
		goto fail;
	__sync_fetch_and_add(&nr_reclaim_kicks, 1);
	return;
fail:
	__sync_fetch_and_add(&nr_reclaim_errors, 1);
	reclaim_queued = 0;
}

static __always_inline void reclaim_charge(struct mem_cgroup *memcg,
					   unsigned long nr_pages)
{
	__s64 usage;

	/*
	 * The hook sees the charges of the whole subtree, each with the
	 * memcg charged. A charge of the reclaim cgroup itself gives the
	 * chance to read its real usage; otherwise add up.
	 */
	if (memcg_cgid(memcg) == reclaim_cgid) {
		usage = bpf_mem_cgroup_usage(memcg) / page_size;
		reclaim_usage_pages = usage;
	} else {
		__sync_fetch_and_add(&reclaim_usage_pages, nr_pages);
		usage = reclaim_usage_pages;
	}
	if (usage > 0 && usage * page_size > reclaim_trigger)
		reclaim_kick();
}

SEC("struct_ops/memcg_charged")
unsigned int BPF_PROG(reclaim_charged, struct mem_cgroup *memcg,
		      unsigned long nr_pages)
{
	reclaim_charge(memcg, nr_pages);
	return 0;
}

SEC("struct_ops/memcg_uncharged")
void BPF_PROG(reclaim_uncharged, struct mem_cgroup *memcg,
	      unsigned long nr_pages)
{
	__sync_fetch_and_add(&reclaim_usage_pages, -(__s64)nr_pages);
}

/* The low cgroup is also the reclaim cgroup: both policies. */
SEC("struct_ops/memcg_charged")
unsigned int BPF_PROG(low_reclaim_charged, struct mem_cgroup *memcg,
		      unsigned long nr_pages)
{
	reclaim_charge(memcg, nr_pages);
	return low_delay();
}

/* For the high cgroup: protection through memory.low, memory.min, or both */
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

/* For the low cgroup: delay its charges while high is active */
SEC(".struct_ops.link")
struct memcg_bpf_ops low_ops = {
	.memcg_charged = (void *)low_charged,
};

/* For the reclaim cgroup: asynchronous reclaim above the trigger */
SEC(".struct_ops.link")
struct memcg_bpf_ops reclaim_ops = {
	.memcg_charged = (void *)reclaim_charged,
	.memcg_uncharged = (void *)reclaim_uncharged,
};

/* For a cgroup that is both the low and the reclaim cgroup */
SEC(".struct_ops.link")
struct memcg_bpf_ops low_reclaim_ops = {
	.memcg_charged = (void *)low_reclaim_charged,
	.memcg_uncharged = (void *)reclaim_uncharged,
};
