// SPDX-License-Identifier: GPL-2.0
/* memcg_bpf_ops: the hooks are called where sleeping is not allowed */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "bpf_misc.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops.s/memcg_charged")
__failure __msg("attach to unsupported member memcg_charged of struct memcg_bpf_ops")
unsigned int BPF_PROG(sleepable_hook, struct mem_cgroup *memcg, unsigned int nr_pages)
{
	return 0;
}

SEC(".struct_ops.link")
struct memcg_bpf_ops sleepable_ops = {
	.memcg_charged = (void *)sleepable_hook,
};
