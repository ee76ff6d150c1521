// SPDX-License-Identifier: GPL-2.0
/* memcg_bpf_ops whose hooks do nothing: the cost of calling them */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char _license[] SEC("license") = "GPL";

SEC("struct_ops/memcg_charged")
unsigned int BPF_PROG(bench_charged, struct mem_cgroup *memcg, unsigned int nr_pages)
{
	return 0;
}

SEC("struct_ops/memcg_uncharged")
void BPF_PROG(bench_uncharged, struct mem_cgroup *memcg, unsigned int nr_pages)
{
}

SEC("struct_ops/below_low")
bool BPF_PROG(bench_below_low, struct mem_cgroup *memcg, unsigned long elow,
	      unsigned long usage)
{
	return false;
}

SEC("struct_ops/below_min")
bool BPF_PROG(bench_below_min, struct mem_cgroup *memcg, unsigned long emin,
	      unsigned long usage)
{
	return false;
}

SEC(".struct_ops.link")
struct memcg_bpf_ops bench_ops = {
	.memcg_charged = (void *)bench_charged,
	.memcg_uncharged = (void *)bench_uncharged,
	.below_low = (void *)bench_below_low,
	.below_min = (void *)bench_below_min,
};
