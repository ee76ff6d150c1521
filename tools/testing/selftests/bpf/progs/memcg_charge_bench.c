// SPDX-License-Identifier: GPL-2.0
/*
 * memcg_bpf_ops for the charge and reclaim benchmarks. Each hook counts
 * its calls (the benchmark divides what the policy costs by them). The
 * "bench" policy does nothing else and returns 0; the "policy" one does
 * what a real policy does on every call: a hash map lookup of the memcg's
 * state, counters, a clock read, a decision.
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char _license[] SEC("license") = "GPL";

enum { CHARGED, UNCHARGED, BELOW_LOW, BELOW_MIN, NR_HOOKS };

/* Calls of each hook, read and reset by the benchmark */
__u64 calls[NR_HOOKS];

static __always_inline void count(int hook)
{
	__sync_fetch_and_add(&calls[hook], 1);
}

SEC("struct_ops/memcg_charged")
unsigned int BPF_PROG(bench_charged, struct mem_cgroup *memcg, unsigned int nr_pages)
{
	count(CHARGED);
	return 0;
}

SEC("struct_ops/memcg_uncharged")
void BPF_PROG(bench_uncharged, struct mem_cgroup *memcg, unsigned int nr_pages)
{
	count(UNCHARGED);
}

SEC("struct_ops/below_low")
bool BPF_PROG(bench_below_low, struct mem_cgroup *memcg, unsigned long elow,
	      unsigned long usage)
{
	count(BELOW_LOW);
	return false;
}

SEC("struct_ops/below_min")
bool BPF_PROG(bench_below_min, struct mem_cgroup *memcg, unsigned long emin,
	      unsigned long usage)
{
	count(BELOW_MIN);
	return false;
}

SEC(".struct_ops.link")
struct memcg_bpf_ops bench_ops = {
	.memcg_charged = (void *)bench_charged,
	.memcg_uncharged = (void *)bench_uncharged,
	.below_low = (void *)bench_below_low,
	.below_min = (void *)bench_below_min,
};

/*
 * A policy's work per call: its state for the memcg, from a hash map by
 * cgroup id, then counters and a decision from the time of the last
 * charge of the protected cgroup (none here: it is not set, so charges
 * are never delayed and nothing is protected).
 */
struct memcg_state {
	__u64 charged;
	__u64 uncharged;
	__u64 last_charge_ns;
	__u64 asked;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u64);
	__type(value, struct memcg_state);
} states SEC(".maps");

__u64 protected_cgid;		/* 0: none */
__u64 active_window_ns = 1000000000;
__u64 protected_last_ns;

static struct memcg_state *state_of(struct mem_cgroup *memcg)
{
	__u64 id = memcg->css.cgroup->kn->id;
	struct memcg_state *s, zero = {};

	s = bpf_map_lookup_elem(&states, &id);
	if (s)
		return s;
	bpf_map_update_elem(&states, &id, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&states, &id);
}

static bool protected_active(__u64 now)
{
	return protected_cgid && now - protected_last_ns < active_window_ns;
}

SEC("struct_ops/memcg_charged")
unsigned int BPF_PROG(policy_charged, struct mem_cgroup *memcg, unsigned int nr_pages)
{
	struct memcg_state *s = state_of(memcg);
	__u64 now = bpf_ktime_get_ns();

	count(CHARGED);
	if (!s)
		return 0;
	__sync_fetch_and_add(&s->charged, nr_pages);
	s->last_charge_ns = now;
	if (memcg->css.cgroup->kn->id == protected_cgid) {
		protected_last_ns = now;
		return 0;
	}
	return protected_active(now) ? 10 : 0;
}

SEC("struct_ops/memcg_uncharged")
void BPF_PROG(policy_uncharged, struct mem_cgroup *memcg, unsigned int nr_pages)
{
	struct memcg_state *s = state_of(memcg);

	count(UNCHARGED);
	if (s)
		__sync_fetch_and_add(&s->uncharged, nr_pages);
}

static bool policy_protects(struct mem_cgroup *memcg)
{
	struct memcg_state *s = state_of(memcg);

	if (!s)
		return false;
	__sync_fetch_and_add(&s->asked, 1);
	return memcg->css.cgroup->kn->id == protected_cgid &&
	       protected_active(bpf_ktime_get_ns());
}

SEC("struct_ops/below_low")
bool BPF_PROG(policy_below_low, struct mem_cgroup *memcg, unsigned long elow,
	      unsigned long usage)
{
	count(BELOW_LOW);
	return policy_protects(memcg);
}

SEC("struct_ops/below_min")
bool BPF_PROG(policy_below_min, struct mem_cgroup *memcg, unsigned long emin,
	      unsigned long usage)
{
	count(BELOW_MIN);
	return policy_protects(memcg);
}

SEC(".struct_ops.link")
struct memcg_bpf_ops policy_ops = {
	.memcg_charged = (void *)policy_charged,
	.memcg_uncharged = (void *)policy_uncharged,
	.below_low = (void *)policy_below_low,
	.below_min = (void *)policy_below_min,
};
