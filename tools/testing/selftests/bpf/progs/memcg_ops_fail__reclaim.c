// SPDX-License-Identifier: GPL-2.0
/* memcg_bpf_ops: bpf_try_to_free_mem_cgroup_pages() may sleep, not from a hook */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "bpf_misc.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops/memcg_uncharged")
__failure
__msg("program must be sleepable to call sleepable kfunc bpf_try_to_free_mem_cgroup_pages")
void BPF_PROG(reclaim_in_hook, struct mem_cgroup *memcg, unsigned int nr_pages)
{
	bpf_try_to_free_mem_cgroup_pages(memcg, nr_pages, 0, 0, -1);
}

SEC(".struct_ops.link")
struct memcg_bpf_ops reclaim_ops = {
	.memcg_uncharged = (void *)reclaim_in_hook,
};
