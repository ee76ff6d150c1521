/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by progs/memcg_ops.c and prog_tests/memcg_ops.c */
#ifndef __MEMCG_OPS_H
#define __MEMCG_OPS_H

#define MEMCG_OPS_MAX_CGROUPS	256

/* What the policies saw of one cgroup, by cgroup id */
struct memcg_ops_stat {
	__u64 charged;		/* pages, memcg_charged */
	__u64 uncharged;	/* pages, memcg_uncharged */
	__u32 online;		/* handle_cgroup_online calls */
	__u32 offline;		/* handle_cgroup_offline calls */
	__u32 policy;		/* tags of the policies it is under */
	__u32 delayed;		/* memcg_charged returned a delay */
	__u32 below_low;	/* below_low calls */
	__u32 below_min;	/* below_min calls */
};

#endif /* __MEMCG_OPS_H */
