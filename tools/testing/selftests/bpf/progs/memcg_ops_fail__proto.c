// SPDX-License-Identifier: GPL-2.0
/* memcg_bpf_ops: a hook has the arguments of its member, no more */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "bpf_misc.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops/handle_cgroup_online")
__failure __msg("invalid bpf_context access off=8 size=8")
void BPF_PROG(wrong_proto, struct mem_cgroup *memcg, unsigned long extra)
{
	bpf_printk("%lu", extra);
}

SEC(".struct_ops.link")
struct memcg_bpf_ops proto_ops = {
	.handle_cgroup_online = (void *)wrong_proto,
};
