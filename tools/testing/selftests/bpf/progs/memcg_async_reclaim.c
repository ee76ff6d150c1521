// SPDX-License-Identifier: GPL-2.0
/*
 * Asynchronous reclaim: memcg_charged notices that a cgroup nears its
 * limit and queues a bpf_wq, whose sleepable callback reclaims with
 * bpf_try_to_free_mem_cgroup_pages() until usage is back at the target.
 * If the workload outruns the reclaim all the same, charges above a
 * second watermark are delayed, more as usage nears the limit, the way
 * memory.high throttles.
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "bpf_experimental.h"

char _license[] SEC("license") = "GPL";

struct elem {
	struct bpf_wq wq;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, int);
	__type(value, struct elem);
} works SEC(".maps");

/* Set by the test before load */
const volatile __u32 page_size;

/*
 * Read by the test: the GFP bits and reclaim options the kfunc takes, from
 * vmlinux.h, i.e. from the BTF of the kernel the selftests are built
 * against (the one they test), rather than copied from mm's headers: mm
 * renumbers its GFP bits now and then.
 */
__u32 gfp_io = 1U << ___GFP_IO_BIT;
__u32 gfp_fs = 1U << ___GFP_FS_BIT;
__u32 gfp_direct_reclaim = 1U << ___GFP_DIRECT_RECLAIM_BIT;
__u32 gfp_kswapd_reclaim = 1U << ___GFP_KSWAPD_RECLAIM_BIT;
__u32 gfp_nofail = 1U << ___GFP_NOFAIL_BIT;
__u32 gfp_highmem = 1U << ___GFP_HIGHMEM_BIT;
__u32 gfp_nowarn = 1U << ___GFP_NOWARN_BIT;
__u32 reclaim_may_swap = BPF_MEMCG_RECLAIM_MAY_SWAP;
__u32 reclaim_proactive = BPF_MEMCG_RECLAIM_PROACTIVE;

/* Written by the test */
__u64 cgid;		/* the cgroup to keep below its limit */
__u64 trigger;		/* bytes: start reclaiming above this usage */
__u64 target;		/* bytes: reclaim down to this usage */
__u64 throttle_above;	/* bytes: delay charges above this usage */
__u64 limit;		/* bytes: the cgroup's memory.max */
__u32 max_delay_ms;	/* delay at the limit, 0 for no throttling */

/* Written by the programs */
__u32 queued;		/* a reclaim work is queued or running */
__u64 nr_queued;	/* bpf_wq_start() calls */
__u64 nr_runs;		/* callback runs */
__u64 nr_reclaimed;	/* pages, summed returns of the kfunc */
__u64 nr_throttled;	/* charges delayed */
__u64 nr_errors;
long last_error;
__u64 max_call_ns;	/* the longest kfunc call, in the bpf_wq callback */
__u64 max_call_pages;	/* pages it was asked for */

/* Reclaim from the cgroup until its usage is at the target. */
static int reclaim_cb(void *map, int *key, void *value)
{
	struct mem_cgroup *memcg;
	struct cgroup *cgrp;
	__u64 usage;
	long ret = 0;

	__sync_fetch_and_add(&nr_runs, 1);
	cgrp = bpf_cgroup_from_id(cgid);
	if (!cgrp)
		goto done;
	memcg = bpf_get_mem_cgroup(&cgrp->self);
	bpf_cgroup_release(cgrp);
	if (!memcg)
		goto done;

	usage = bpf_mem_cgroup_usage(memcg);
	if (usage > target) {
		__u64 nr_pages = (usage - target) / page_size;
		__u64 t = bpf_ktime_get_ns();

		ret = bpf_try_to_free_mem_cgroup_pages(memcg, nr_pages, 0,
						       BPF_MEMCG_RECLAIM_MAY_SWAP |
						       BPF_MEMCG_RECLAIM_PROACTIVE,
						       -1);
		t = bpf_ktime_get_ns() - t;
		if (t > max_call_ns) {
			max_call_ns = t;
			max_call_pages = nr_pages;
		}
		if (ret < 0) {
			__sync_fetch_and_add(&nr_errors, 1);
			last_error = ret;
		} else {
			__sync_fetch_and_add(&nr_reclaimed, ret);
		}
	}
	usage = bpf_mem_cgroup_usage(memcg);
	bpf_put_mem_cgroup(memcg);

	/* Still above the target and making progress: once more. */
	if (usage > target && ret > 0) {
		struct elem *e = value;

		if (!bpf_wq_start(&e->wq, 0)) {
			__sync_fetch_and_add(&nr_queued, 1);
			return 0;
		}
	}
done:
	queued = 0;
	return 0;
}

SEC("struct_ops/memcg_charged")
unsigned int BPF_PROG(reclaim_charged, struct mem_cgroup *memcg,
		      unsigned int nr_pages)
{
	__u64 usage, over, room;
	struct elem *e;
	int key = 0;

	if (memcg->css.cgroup->kn->id != cgid)
		return 0;
	usage = bpf_mem_cgroup_usage(memcg);
	if (usage <= trigger)
		return 0;

	if (!__sync_val_compare_and_swap(&queued, 0, 1)) {
		e = bpf_map_lookup_elem(&works, &key);
		if (e && !bpf_wq_start(&e->wq, 0)) {
			__sync_fetch_and_add(&nr_queued, 1);
		} else {
			__sync_fetch_and_add(&nr_errors, 1);
			queued = 0;
		}
	}
	if (!max_delay_ms || usage <= throttle_above || limit <= throttle_above)
		return 0;
	__sync_fetch_and_add(&nr_throttled, 1);
	over = usage - throttle_above;
	room = limit - throttle_above;
	if (over >= room)
		return max_delay_ms;
	return 1 + max_delay_ms * over / room;
}

SEC(".struct_ops.link")
struct memcg_bpf_ops async_reclaim = {
	.memcg_charged = (void *)reclaim_charged,
};

/*
 * The same policy, setting up the work itself when it first sees a memcg:
 * the callback is then verified as part of this memcg_bpf_ops program,
 * which may call the reclaim kfunc without CAP_SYS_ADMIN.
 */
SEC("struct_ops/handle_cgroup_online")
void BPF_PROG(init_work_online, struct mem_cgroup *memcg)
{
	struct elem *e;
	int key = 0;

	e = bpf_map_lookup_elem(&works, &key);
	if (!e)
		return;
	if (bpf_wq_init(&e->wq, &works, 0) ||
	    bpf_wq_set_callback(&e->wq, reclaim_cb, 0))
		__sync_fetch_and_add(&nr_errors, 1);
}

SEC(".struct_ops.link")
struct memcg_bpf_ops async_reclaim_self = {
	.memcg_charged = (void *)reclaim_charged,
	.handle_cgroup_online = (void *)init_work_online,
};

/* Run once by the test before attaching: set up the work. */
SEC("syscall")
int init_work(void *ctx)
{
	struct elem *e;
	int key = 0;

	e = bpf_map_lookup_elem(&works, &key);
	if (!e)
		return 1;
	if (bpf_wq_init(&e->wq, &works, 0))
		return 2;
	if (bpf_wq_set_callback(&e->wq, reclaim_cb, 0))
		return 3;
	return 0;
}

/* Arguments and result of try_reclaim */
__u64 arg_nr_pages;
__u32 arg_gfp;
__u32 arg_options;
int arg_swappiness;
bool arg_root;
long result;

/* Call the kfunc once with the arguments above, on cgid or the root memcg */
SEC("syscall")
int try_reclaim(void *ctx)
{
	struct mem_cgroup *memcg;
	struct cgroup *cgrp;

	if (arg_root) {
		memcg = bpf_get_root_mem_cgroup();
	} else {
		cgrp = bpf_cgroup_from_id(cgid);
		if (!cgrp)
			return 1;
		memcg = bpf_get_mem_cgroup(&cgrp->self);
		bpf_cgroup_release(cgrp);
	}
	if (!memcg)
		return 2;
	result = bpf_try_to_free_mem_cgroup_pages(memcg, arg_nr_pages, arg_gfp,
						  arg_options, arg_swappiness);
	bpf_put_mem_cgroup(memcg);
	return 0;
}
