// SPDX-License-Identifier: GPL-2.0
/* struct_ops links targeting a cgroup, with bpf_testmod_cgroup_st_ops */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "../test_kmods/bpf_testmod.h"
#include "../test_kmods/bpf_testmod_kfunc.h"

char _license[] SEC("license") = "GPL";

SEC("struct_ops")
int BPF_PROG(cgroup_test_1, struct st_ops_args *args)
{
	return 0;
}

SEC("struct_ops")
int BPF_PROG(cgroup_test_1b, struct st_ops_args *args)
{
	return 1;
}

SEC("struct_ops")
int BPF_PROG(multi_test_1, struct st_ops_args *args)
{
	return 0;
}

/* A type with cgroup support */
SEC(".struct_ops.link")
struct bpf_testmod_cgroup_st_ops cgroup_ops = {
	.test_1 = (void *)cgroup_test_1,
};

/* The same type, to update a link with */
SEC(".struct_ops.link")
struct bpf_testmod_cgroup_st_ops cgroup_ops2 = {
	.test_1 = (void *)cgroup_test_1b,
};

/* A type without cgroup support */
SEC(".struct_ops.link")
struct bpf_testmod_multi_st_ops multi_ops = {
	.test_1 = (void *)multi_test_1,
};

/* What the testmod recorded, filled by read_info() */
__u64 info[__CGROUP_ST_OPS_INFO_MAX];

SEC("syscall")
int read_info(void *ctx)
{
	__u32 i;

	for (i = 0; i < __CGROUP_ST_OPS_INFO_MAX; i++)
		info[i] = bpf_kfunc_cgroup_st_ops_info(i);
	return 0;
}
