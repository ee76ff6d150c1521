// SPDX-License-Identifier: GPL-2.0
/* memcg_bpf_ops: a map with a member the kernel's type does not have */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char _license[] SEC("license") = "GPL";

/* The kernel's struct memcg_bpf_ops, as libbpf matches it, plus a hook */
struct memcg_bpf_ops___bad {
	unsigned int (*memcg_charged)(struct mem_cgroup *memcg, unsigned int nr_pages);
	void (*no_such_hook)(struct mem_cgroup *memcg);
};

SEC("struct_ops/no_such_hook")
void BPF_PROG(no_such_hook, struct mem_cgroup *memcg)
{
}

SEC(".struct_ops.link")
struct memcg_bpf_ops___bad bad_member_ops = {
	.no_such_hook = (void *)no_such_hook,
};
