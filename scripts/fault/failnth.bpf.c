// SPDX-License-Identifier: GPL-2.0
/*
 * The policies that failnth.c attaches, updates and detaches while the
 * kernel fails one allocation after the other: they count, per cgroup,
 * the online and offline calls each policy gets, so that the loader can
 * tell, after each injected failure, which policy governs which cgroup.
 * Their maps are preallocated: the hooks allocate nothing themselves.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char _license[] SEC("license") = "GPL";

#define MAX_CGROUPS	1024

/* Per cgroup id: calls of each policy's hooks (0: policy a, 1: policy b) */
struct count {
	__u32 online[2];
	__u32 offline[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_CGROUPS);
	__type(key, __u64);
	__type(value, struct count);
} counts SEC(".maps");

__u32 errors;		/* a count could not be kept */

/* Set by the loader for the kfunc's calls */
__u64 reclaim_cgid;
__u64 reclaim_pages;
long reclaim_result;

static void count(struct mem_cgroup *memcg, int policy, bool online)
{
	__u64 id = memcg->css.cgroup->kn->id;
	struct count zero = {}, *c;

	c = bpf_map_lookup_elem(&counts, &id);
	if (!c) {
		bpf_map_update_elem(&counts, &id, &zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&counts, &id);
		if (!c) {
			__sync_fetch_and_add(&errors, 1);
			return;
		}
	}
	if (online)
		__sync_fetch_and_add(&c->online[policy], 1);
	else
		__sync_fetch_and_add(&c->offline[policy], 1);
}

SEC("struct_ops/handle_cgroup_online")
void BPF_PROG(online_a, struct mem_cgroup *memcg)
{
	count(memcg, 0, true);
}

SEC("struct_ops/handle_cgroup_offline")
void BPF_PROG(offline_a, struct mem_cgroup *memcg)
{
	count(memcg, 0, false);
}

SEC("struct_ops/handle_cgroup_online")
void BPF_PROG(online_b, struct mem_cgroup *memcg)
{
	count(memcg, 1, true);
}

SEC("struct_ops/handle_cgroup_offline")
void BPF_PROG(offline_b, struct mem_cgroup *memcg)
{
	count(memcg, 1, false);
}

SEC("struct_ops/memcg_charged")
unsigned int BPF_PROG(charged, struct mem_cgroup *memcg, unsigned int nr_pages)
{
	return 0;
}

SEC(".struct_ops.link")
struct memcg_bpf_ops policy_a = {
	.handle_cgroup_online = (void *)online_a,
	.handle_cgroup_offline = (void *)offline_a,
	.memcg_charged = (void *)charged,
};

SEC(".struct_ops.link")
struct memcg_bpf_ops policy_b = {
	.handle_cgroup_online = (void *)online_b,
	.handle_cgroup_offline = (void *)offline_b,
	.memcg_charged = (void *)charged,
};

/* A fresh copy of policy a, registered once by the "register" operation */
SEC(".struct_ops.link")
struct memcg_bpf_ops policy_c = {
	.handle_cgroup_online = (void *)online_a,
	.handle_cgroup_offline = (void *)offline_a,
};

/* The kfunc, on cgroup reclaim_cgid */
SEC("syscall")
int reclaim(void *ctx)
{
	struct mem_cgroup *memcg;
	struct cgroup *cgrp;

	cgrp = bpf_cgroup_from_id(reclaim_cgid);
	if (!cgrp)
		return 1;
	memcg = bpf_get_mem_cgroup(&cgrp->self);
	bpf_cgroup_release(cgrp);
	if (!memcg)
		return 2;
	reclaim_result = bpf_try_to_free_mem_cgroup_pages(memcg, reclaim_pages, 0, 0, -1);
	bpf_put_mem_cgroup(memcg);
	return 0;
}
