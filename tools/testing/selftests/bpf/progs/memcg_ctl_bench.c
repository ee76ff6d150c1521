// SPDX-License-Identifier: GPL-2.0
/*
 * A memcg_bpf_ops whose online and offline hooks do nothing: what attaching
 * and detaching a policy costs, the calls of the hooks included.
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char _license[] SEC("license") = "GPL";

SEC("struct_ops/handle_cgroup_online")
void BPF_PROG(ctl_online, struct mem_cgroup *memcg)
{
}

SEC("struct_ops/handle_cgroup_offline")
void BPF_PROG(ctl_offline, struct mem_cgroup *memcg)
{
}

SEC(".struct_ops.link")
struct memcg_bpf_ops ctl_ops = {
	.handle_cgroup_online = (void *)ctl_online,
	.handle_cgroup_offline = (void *)ctl_offline,
};
