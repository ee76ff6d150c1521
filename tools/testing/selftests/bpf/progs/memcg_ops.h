/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by progs/memcg_ops.c and prog_tests/memcg_ops.c */
#ifndef __MEMCG_OPS_H
#define __MEMCG_OPS_H

#define MEMCG_OPS_MAX_CGROUPS	256

/* The policies of progs/memcg_ops.c, as bits of memcg_ops_stat.policy */
#define TAG_A		1
#define TAG_B		2
#define TAG_THROTTLE	4
#define TAG_PROTECT	8
#define TAG_DELAY	16

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
	__u64 prot;		/* elow or emin of the last below_* call */
	__u64 usage;		/* usage of the last below_* call */
	__s64 balance;		/* pages charged minus uncharged, so far */
	__u32 underflow;	/* times the balance dropped below zero */
	__u32 stray;		/* charge hooks while not under the policy */
	__u32 moved;		/* online hooks called while under another policy */
};

#endif /* __MEMCG_OPS_H */
