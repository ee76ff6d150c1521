// SPDX-License-Identifier: GPL-2.0
/* memcg_bpf_ops: programs read struct mem_cgroup, never write it */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "bpf_misc.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops/below_low")
__failure __msg("only read is supported")
bool BPF_PROG(write_memcg, struct mem_cgroup *memcg, unsigned long elow,
	      unsigned long usage)
{
	memcg->oom_group = true;
	return false;
}

SEC(".struct_ops.link")
struct memcg_bpf_ops write_ops = {
	.below_low = (void *)write_memcg,
};
