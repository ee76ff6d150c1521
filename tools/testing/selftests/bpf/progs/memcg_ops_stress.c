// SPDX-License-Identifier: GPL-2.0
/*
 * Policies for the memcg_ops_stress test. The three policies share their
 * hooks but for online and offline, which tell them apart by a tag: for
 * each memcg, they record which policies it is under, and check that it
 * comes online for a policy only when not under it yet and goes offline
 * only when under it. Every hook counts its calls.
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char _license[] SEC("license") = "GPL";

/* The tags of the policies each memcg is under, by cgroup id */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u32);
} under SEC(".maps");

__u64 nr_online;
__u64 nr_offline;
__u64 nr_charge_calls;
__u64 nr_charged;	/* pages */
__u64 nr_delayed;
__u64 nr_uncharge_calls;
__u64 nr_below;
__u64 errors;

static __u64 memcg_cgid(struct mem_cgroup *memcg)
{
	return memcg->css.cgroup->kn->id;
}

/*
 * The online and offline hooks of all policies run under cgroup_mutex:
 * they do not race with each other.
 */
static void on_online(struct mem_cgroup *memcg, __u32 tag)
{
	__u64 cgid = memcg_cgid(memcg);
	__u32 none = 0, *tags;

	__sync_fetch_and_add(&nr_online, 1);
	bpf_map_update_elem(&under, &cgid, &none, BPF_NOEXIST);
	tags = bpf_map_lookup_elem(&under, &cgid);
	if (!tags || (*tags & tag)) {
		__sync_fetch_and_add(&errors, 1);
		return;
	}
	*tags |= tag;
}

static void on_offline(struct mem_cgroup *memcg, __u32 tag)
{
	__u64 cgid = memcg_cgid(memcg);
	__u32 *tags;

	__sync_fetch_and_add(&nr_offline, 1);
	tags = bpf_map_lookup_elem(&under, &cgid);
	if (!tags || !(*tags & tag)) {
		__sync_fetch_and_add(&errors, 1);
		return;
	}
	*tags &= ~tag;
	if (!*tags)
		bpf_map_delete_elem(&under, &cgid);
}

#define TAG_A	1
#define TAG_B	2
#define TAG_C	4

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
void BPF_PROG(online_c, struct mem_cgroup *memcg)
{
	on_online(memcg, TAG_C);
}

SEC("struct_ops/handle_cgroup_offline")
void BPF_PROG(offline_c, struct mem_cgroup *memcg)
{
	on_offline(memcg, TAG_C);
}

/* One charge batch in 32 delays its task by 1 ms */
SEC("struct_ops/memcg_charged")
unsigned int BPF_PROG(stress_charged, struct mem_cgroup *memcg,
		      unsigned int nr_pages)
{
	__u64 calls = __sync_fetch_and_add(&nr_charge_calls, 1);

	__sync_fetch_and_add(&nr_charged, nr_pages);
	if (calls % 32)
		return 0;
	__sync_fetch_and_add(&nr_delayed, 1);
	return 1;
}

SEC("struct_ops/memcg_uncharged")
void BPF_PROG(stress_uncharged, struct mem_cgroup *memcg, unsigned int nr_pages)
{
	__sync_fetch_and_add(&nr_uncharge_calls, 1);
}

/* The kernel's own answers */
SEC("struct_ops/below_low")
bool BPF_PROG(stress_below_low, struct mem_cgroup *memcg, unsigned long elow,
	      unsigned long usage)
{
	__sync_fetch_and_add(&nr_below, 1);
	return elow >= usage;
}

SEC("struct_ops/below_min")
bool BPF_PROG(stress_below_min, struct mem_cgroup *memcg, unsigned long emin,
	      unsigned long usage)
{
	__sync_fetch_and_add(&nr_below, 1);
	return emin >= usage;
}

SEC(".struct_ops.link")
struct memcg_bpf_ops stress_a = {
	.memcg_charged = (void *)stress_charged,
	.memcg_uncharged = (void *)stress_uncharged,
	.below_low = (void *)stress_below_low,
	.below_min = (void *)stress_below_min,
	.handle_cgroup_online = (void *)online_a,
	.handle_cgroup_offline = (void *)offline_a,
};

SEC(".struct_ops.link")
struct memcg_bpf_ops stress_b = {
	.memcg_charged = (void *)stress_charged,
	.memcg_uncharged = (void *)stress_uncharged,
	.below_low = (void *)stress_below_low,
	.below_min = (void *)stress_below_min,
	.handle_cgroup_online = (void *)online_b,
	.handle_cgroup_offline = (void *)offline_b,
};

SEC(".struct_ops.link")
struct memcg_bpf_ops stress_c = {
	.memcg_charged = (void *)stress_charged,
	.memcg_uncharged = (void *)stress_uncharged,
	.below_low = (void *)stress_below_low,
	.below_min = (void *)stress_below_min,
	.handle_cgroup_online = (void *)online_c,
	.handle_cgroup_offline = (void *)offline_c,
};
