// SPDX-License-Identifier: GPL-2.0
/*
 * Policies (struct memcg_bpf_ops) for the memcg_ops tests. Each records
 * what it sees per cgroup id in the stats map; the test reads it.
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "memcg_ops.h"

char _license[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MEMCG_OPS_MAX_CGROUPS);
	__type(key, __u64);
	__type(value, struct memcg_ops_stat);
} stats SEC(".maps");

/* Written by the test */
__u64 low_cgid;
__u64 high_cgid;
__u64 protect_cgid;
__u32 delay_ms;
__u64 active_window_ns;
__u64 delay_cgid;	/* policy_delay: delay this cgroup only, 0 for all */
__u32 delay_tgid;	/* policy_delay: delay this process only, 0 for all */

/* Written by the policies */
__u64 high_last_charge_ns;
__u64 errors;

static __u64 memcg_cgid(struct mem_cgroup *memcg)
{
	return memcg->css.cgroup->kn->id;
}

static struct memcg_ops_stat *stat_of(struct mem_cgroup *memcg)
{
	__u64 cgid = memcg_cgid(memcg);

	return bpf_map_lookup_elem(&stats, &cgid);
}

/*
 * A memcg comes under policy @tag (a bit): it must not be under it yet.
 * The online hook of the policy a memcg moves to runs before the offline
 * hook of the one it leaves.
 */
static void on_online(struct mem_cgroup *memcg, __u32 tag)
{
	struct memcg_ops_stat zero = {}, *st;
	__u64 cgid = memcg_cgid(memcg);

	bpf_map_update_elem(&stats, &cgid, &zero, BPF_NOEXIST);
	st = bpf_map_lookup_elem(&stats, &cgid);
	if (!st) {
		__sync_fetch_and_add(&errors, 1);
		return;
	}
	if (st->policy & tag)
		__sync_fetch_and_add(&errors, 1);
	/* The new policy's online hook comes before the old one's offline */
	if (st->policy & ~tag)
		__sync_fetch_and_add(&st->moved, 1);
	st->policy |= tag;
	__sync_fetch_and_add(&st->online, 1);
}

/* A memcg leaves policy @tag: it must be under it. */
static void on_offline(struct mem_cgroup *memcg, __u32 tag)
{
	struct memcg_ops_stat *st = stat_of(memcg);

	if (!st) {
		__sync_fetch_and_add(&errors, 1);
		return;
	}
	if (!(st->policy & tag))
		__sync_fetch_and_add(&errors, 1);
	st->policy &= ~tag;
	__sync_fetch_and_add(&st->offline, 1);
}

SEC("struct_ops/handle_cgroup_online")
void BPF_PROG(online_a, struct mem_cgroup *memcg)
{
	on_online(memcg, TAG_A);
}

SEC("struct_ops/handle_cgroup_offline")
void BPF_PROG(offline_a, struct mem_cgroup *memcg)
{
	on_offline(memcg, TAG_A);
}

SEC("struct_ops/handle_cgroup_online")
void BPF_PROG(online_b, struct mem_cgroup *memcg)
{
	on_online(memcg, TAG_B);
}

SEC("struct_ops/handle_cgroup_offline")
void BPF_PROG(offline_b, struct mem_cgroup *memcg)
{
	on_offline(memcg, TAG_B);
}

SEC("struct_ops/handle_cgroup_online")
void BPF_PROG(online_throttle, struct mem_cgroup *memcg)
{
	on_online(memcg, TAG_THROTTLE);
}

SEC("struct_ops/handle_cgroup_offline")
void BPF_PROG(offline_throttle, struct mem_cgroup *memcg)
{
	on_offline(memcg, TAG_THROTTLE);
}

SEC("struct_ops/handle_cgroup_online")
void BPF_PROG(online_delay, struct mem_cgroup *memcg)
{
	on_online(memcg, TAG_DELAY);
}

SEC("struct_ops/handle_cgroup_offline")
void BPF_PROG(offline_delay, struct mem_cgroup *memcg)
{
	on_offline(memcg, TAG_DELAY);
}

SEC("struct_ops/handle_cgroup_online")
void BPF_PROG(online_protect, struct mem_cgroup *memcg)
{
	on_online(memcg, TAG_PROTECT);
}

SEC("struct_ops/handle_cgroup_offline")
void BPF_PROG(offline_protect, struct mem_cgroup *memcg)
{
	on_offline(memcg, TAG_PROTECT);
}

/*
 * Throttle the low cgroup while the high one is active, i.e. charged
 * within the last active_window_ns.
 */
SEC("struct_ops/memcg_charged")
unsigned int BPF_PROG(throttle_charged, struct mem_cgroup *memcg,
		      unsigned int nr_pages)
{
	struct memcg_ops_stat *st = stat_of(memcg);
	__u64 cgid = memcg_cgid(memcg);
	__u64 now = bpf_ktime_get_ns();
	__u64 last;

	if (st) {
		__sync_fetch_and_add(&st->charged, nr_pages);
		__sync_fetch_and_add(&st->balance, nr_pages);
		if (!(st->policy & TAG_THROTTLE))
			__sync_fetch_and_add(&st->stray, 1);
	}

	if (cgid == high_cgid) {
		high_last_charge_ns = now;
		return 0;
	}
	last = high_last_charge_ns;
	if (cgid != low_cgid || !last || now - last > active_window_ns)
		return 0;
	if (st)
		__sync_fetch_and_add(&st->delayed, 1);
	return delay_ms;
}

SEC("struct_ops/memcg_uncharged")
void BPF_PROG(count_uncharged, struct mem_cgroup *memcg, unsigned int nr_pages)
{
	struct memcg_ops_stat *st = stat_of(memcg);
	__s64 left;

	if (!st)
		return;
	__sync_fetch_and_add(&st->uncharged, nr_pages);
	if (!(st->policy & TAG_THROTTLE))
		__sync_fetch_and_add(&st->stray, 1);
	left = __sync_fetch_and_add(&st->balance, -(__s64)nr_pages) - nr_pages;
	if (left < 0)
		__sync_fetch_and_add(&st->underflow, 1);
}

/*
 * Delay by delay_ms the charges of delay_cgid (any memcg if 0) made by
 * process delay_tgid (any if 0)
 */
SEC("struct_ops/memcg_charged")
unsigned int BPF_PROG(delay_charged, struct mem_cgroup *memcg,
		      unsigned int nr_pages)
{
	struct memcg_ops_stat *st = stat_of(memcg);

	if (!delay_ms || (delay_cgid && memcg_cgid(memcg) != delay_cgid) ||
	    (delay_tgid && bpf_get_current_pid_tgid() >> 32 != delay_tgid))
		return 0;
	if (st)
		__sync_fetch_and_add(&st->delayed, 1);
	return delay_ms;
}

/* Protect protect_cgid, whatever its memory.low/min, and count the calls */
SEC("struct_ops/below_low")
bool BPF_PROG(protect_below_low, struct mem_cgroup *memcg, unsigned long elow,
	      unsigned long usage)
{
	struct memcg_ops_stat *st = stat_of(memcg);

	if (st)
		__sync_fetch_and_add(&st->below_low, 1);
	return memcg_cgid(memcg) == protect_cgid;
}

SEC("struct_ops/below_min")
bool BPF_PROG(protect_below_min, struct mem_cgroup *memcg, unsigned long emin,
	      unsigned long usage)
{
	struct memcg_ops_stat *st = stat_of(memcg);

	if (st)
		__sync_fetch_and_add(&st->below_min, 1);
	return memcg_cgid(memcg) == protect_cgid;
}

/*
 * Never protect, and record what the kernel passes: the configured
 * protection must hold anyway.
 */
SEC("struct_ops/below_low")
bool BPF_PROG(deny_below_low, struct mem_cgroup *memcg, unsigned long elow,
	      unsigned long usage)
{
	struct memcg_ops_stat *st = stat_of(memcg);

	if (st) {
		__sync_fetch_and_add(&st->below_low, 1);
		st->prot = elow;
		st->usage = usage;
	}
	return false;
}

SEC("struct_ops/below_min")
bool BPF_PROG(deny_below_min, struct mem_cgroup *memcg, unsigned long emin,
	      unsigned long usage)
{
	struct memcg_ops_stat *st = stat_of(memcg);

	if (st) {
		__sync_fetch_and_add(&st->below_min, 1);
		st->prot = emin;
		st->usage = usage;
	}
	return false;
}

/* Two policies that only follow which memcgs they govern */
SEC(".struct_ops.link")
struct memcg_bpf_ops policy_a = {
	.handle_cgroup_online = (void *)online_a,
	.handle_cgroup_offline = (void *)offline_a,
};

SEC(".struct_ops.link")
struct memcg_bpf_ops policy_b = {
	.handle_cgroup_online = (void *)online_b,
	.handle_cgroup_offline = (void *)offline_b,
};

/* Charge throttling, and the charge/uncharge ledger */
SEC(".struct_ops.link")
struct memcg_bpf_ops policy_throttle = {
	.memcg_charged = (void *)throttle_charged,
	.memcg_uncharged = (void *)count_uncharged,
	.handle_cgroup_online = (void *)online_throttle,
	.handle_cgroup_offline = (void *)offline_throttle,
};

/* Protection from reclaim with below_low, with below_min */
SEC(".struct_ops.link")
struct memcg_bpf_ops policy_low = {
	.below_low = (void *)protect_below_low,
	.handle_cgroup_online = (void *)online_protect,
	.handle_cgroup_offline = (void *)offline_protect,
};

SEC(".struct_ops.link")
struct memcg_bpf_ops policy_min = {
	.below_min = (void *)protect_below_min,
	.handle_cgroup_online = (void *)online_protect,
	.handle_cgroup_offline = (void *)offline_protect,
};

/* A policy that never grants protection, with below_low, with below_min */
SEC(".struct_ops.link")
struct memcg_bpf_ops policy_deny_low = {
	.below_low = (void *)deny_below_low,
	.handle_cgroup_online = (void *)online_protect,
	.handle_cgroup_offline = (void *)offline_protect,
};

SEC(".struct_ops.link")
struct memcg_bpf_ops policy_deny_min = {
	.below_min = (void *)deny_below_min,
	.handle_cgroup_online = (void *)online_protect,
	.handle_cgroup_offline = (void *)offline_protect,
};

/* Delay the charges of delay_cgid (of every memcg if 0) by delay_ms */
SEC(".struct_ops.link")
struct memcg_bpf_ops policy_delay = {
	.memcg_charged = (void *)delay_charged,
	.handle_cgroup_online = (void *)online_delay,
	.handle_cgroup_offline = (void *)offline_delay,
};
