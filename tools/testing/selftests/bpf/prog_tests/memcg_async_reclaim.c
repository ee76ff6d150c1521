// SPDX-License-Identifier: GPL-2.0
/*
 * Asynchronous reclaim from a bpf_wq with bpf_try_to_free_mem_cgroup_pages():
 * a workload that writes and maps a file twice the size of its cgroup's
 * memory.max meets the limit (memory.events "max") without a policy, and
 * not with one that reclaims in the background from half the limit, and
 * delays charges above half of it, more as usage nears the limit, in case
 * the workload outruns the reclaim (on an emulated machine, or with KASAN,
 * the kworker that reclaims gets as little CPU as the workload).
 */
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <test_progs.h>
#include "cgroup_helpers.h"
#include "testing_helpers.h"
#include "memcg_async_reclaim.skel.h"

#define MB		(1024 * 1024)
#define CG		"/memcg_async"
#define CG_MAX		(32 * MB)
#define FILE_SIZE	(64 * MB)

/*
 * In a child in CG: write FILE_SIZE into a memfd (shmem, which reclaim
 * swaps out), map it and read it all. Returns the child's exit status.
 */
static int run_workload(void)
{
	static char buf[MB];
	int status, fd;
	size_t off;
	pid_t pid;
	char *p;

	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		unsigned long sum = 0;

		if (join_parent_cgroup(CG))
			_exit(1);
		fd = memfd_create("memcg_async", 0);
		if (fd < 0)
			_exit(2);
		memset(buf, 0x5a, sizeof(buf));
		for (off = 0; off < FILE_SIZE; off += MB)
			if (write(fd, buf, MB) != MB)
				_exit(3);
		p = mmap(NULL, FILE_SIZE, PROT_READ, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			_exit(4);
		for (off = 0; off < FILE_SIZE; off += 4096)
			sum += p[off];
		/* What was written is read back, and the sum is used */
		_exit(sum == 0x5aUL * (FILE_SIZE / 4096) ? 0 : 5);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* memory.events "max" raised by one workload run, -1 on error */
static long long max_events(int cg)
{
	long long before, after;
	int ret;

	before = read_cgroup_value(cg, "memory.events", "max");
	ret = run_workload();
	if (!ASSERT_EQ(ret, 0, "workload"))
		return -1;
	after = read_cgroup_value(cg, "memory.events", "max");
	if (!ASSERT_GE(before, 0, "memory.events") || !ASSERT_GE(after, 0, "memory.events"))
		return -1;
	return after - before;
}

static void test_async_reclaim(struct memcg_async_reclaim *skel, int cg)
{
	LIBBPF_OPTS(bpf_struct_ops_opts, opts, .cgroup_fd = cg);
	LIBBPF_OPTS(bpf_test_run_opts, topts);
	long long base, with, steal_before, steal_after;
	struct bpf_link *link;
	__u64 start, base_ns, with_ns;

	start = get_time_ns();
	base = max_events(cg);
	base_ns = get_time_ns() - start;
	if (!ASSERT_GT(base, 0, "without policy, memory.max is met"))
		return;

	skel->bss->cgid = get_cgroup_id(CG);
	skel->bss->trigger = CG_MAX / 2;
	skel->bss->target = CG_MAX / 4;
	skel->bss->throttle_above = CG_MAX / 2;
	skel->bss->limit = CG_MAX;
	skel->bss->max_delay_ms = 1000;
	if (!ASSERT_OK(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.init_work), &topts),
		       "init_work") ||
	    !ASSERT_EQ(topts.retval, 0, "init_work retval"))
		return;
	link = bpf_map__attach_struct_ops_opts(skel->maps.async_reclaim, &opts);
	if (!ASSERT_OK_PTR(link, "attach"))
		return;

	steal_before = read_cgroup_value(cg, "memory.stat", "pgsteal_proactive");
	start = get_time_ns();
	with = max_events(cg);
	with_ns = get_time_ns() - start;
	steal_after = read_cgroup_value(cg, "memory.stat", "pgsteal_proactive");
	bpf_link__destroy(link);

	printf("%s: memory.events max +%lld in %.0f ms without policy\n",
	       __func__, base, base_ns / 1e6);
	printf("%s: memory.events max +%lld in %.0f ms with it\n",
	       __func__, with, with_ns / 1e6);
	printf("%s: %llu works queued, %llu runs, %llu pages reclaimed, %llu charges delayed\n",
	       __func__, (unsigned long long)skel->bss->nr_queued,
	       (unsigned long long)skel->bss->nr_runs,
	       (unsigned long long)skel->bss->nr_reclaimed,
	       (unsigned long long)skel->bss->nr_throttled);
	ASSERT_EQ(with, 0, "with policy, memory.max is not met");
	ASSERT_GT(skel->bss->nr_runs, 0, "reclaim work ran");
	ASSERT_GT(skel->bss->nr_reclaimed, 0, "pages reclaimed");
	ASSERT_EQ(skel->bss->nr_errors, 0, "no kfunc or wq errors");
	/* The reclaim is the cgroup's, as proactive reclaim */
	ASSERT_GT(steal_after, steal_before, "memory.stat pgsteal_proactive");
}

struct kfunc_case {
	const char *name;
	__u64 nr_pages;
	__u32 gfp;
	__u32 options;
	int swappiness;
	long result;	/* expected: an errno, or 0 for ">= 0" */
};

/* GFP_KERNEL and friends, from include/linux/gfp_types.h */
#define GFP_IO		0x40u
#define GFP_FS		0x80u
#define GFP_DIRECT	0x400u
#define GFP_KSWAPD	0x800u
#define GFP_KERNEL	(GFP_DIRECT | GFP_KSWAPD | GFP_IO | GFP_FS)
#define GFP_NOWAIT	GFP_KSWAPD
#define GFP_NOFAIL	0x8000u
#define GFP_HIGHMEM	0x02u
#define MAY_SWAP	2u
#define PROACTIVE	4u

/* Every argument of the kfunc is checked. */
static void test_kfunc_args(struct memcg_async_reclaim *skel)
{
	static const struct kfunc_case cases[] = {
		{ "one page", 1, 0, 0, -1, 0 },
		{ "GFP_KERNEL, proactive, swappiness 0", 16, GFP_KERNEL,
		  MAY_SWAP | PROACTIVE, 0, 0 },
		{ "GFP_NOFS", 16, GFP_KERNEL & ~GFP_FS, 0, -1, 0 },
		{ "GFP_NOIO", 16, GFP_KERNEL & ~(GFP_FS | GFP_IO), MAY_SWAP, -1, 0 },
		{ "swappiness 200", 16, 0, PROACTIVE, 200, 0 },
		{ "0 pages", 0, 0, 0, -1, -EINVAL },
		{ "more pages than RAM", 1ULL << 40, 0, 0, -1, -E2BIG },
		{ "GFP_NOWAIT", 16, GFP_NOWAIT, 0, -1, -EINVAL },
		{ "__GFP_NOFAIL", 16, GFP_KERNEL | GFP_NOFAIL, 0, -1, -EINVAL },
		{ "__GFP_HIGHMEM", 16, GFP_KERNEL | GFP_HIGHMEM, 0, -1, -EINVAL },
		{ "unknown option", 16, 0, 1u << 7, -1, -EINVAL },
		{ "swappiness 201", 16, 0, PROACTIVE, 201, -EINVAL },
		{ "swappiness -2", 16, 0, PROACTIVE, -2, -EINVAL },
		{ "swappiness without proactive", 16, 0, MAY_SWAP, 60, -EINVAL },
	};
	LIBBPF_OPTS(bpf_test_run_opts, topts);
	int i, prog = bpf_program__fd(skel->progs.try_reclaim);

	skel->bss->cgid = get_cgroup_id(CG);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct kfunc_case *c = &cases[i];

		skel->bss->arg_nr_pages = c->nr_pages;
		skel->bss->arg_gfp = c->gfp;
		skel->bss->arg_options = c->options;
		skel->bss->arg_swappiness = c->swappiness;
		skel->bss->result = -12345;
		if (!ASSERT_OK(bpf_prog_test_run_opts(prog, &topts), c->name) ||
		    !ASSERT_EQ(topts.retval, 0, c->name))
			continue;
		if (c->result)
			ASSERT_EQ(skel->bss->result, c->result, c->name);
		else
			ASSERT_GE(skel->bss->result, 0, c->name);
	}
}

void test_memcg_ops_async_reclaim(void)
{
	struct memcg_async_reclaim *skel = NULL;
	char swap_dev[32] = "", max[32];
	int cg = -1;

	if (!ASSERT_OK(setup_cgroup_environment(), "setup_cgroup_environment"))
		return;
	/* Reclaim of shmem needs swap */
	if (!ASSERT_OK(swap_on(swap_dev, sizeof(swap_dev), 256ULL * MB), "swap_on"))
		goto out;
	cg = create_and_get_cgroup(CG);
	if (!ASSERT_GE(cg, 0, "create cgroup"))
		goto out;
	snprintf(max, sizeof(max), "%d", CG_MAX);
	if (!ASSERT_OK(write_cgroup_file(CG, "memory.max", max), "memory.max"))
		goto out;
	skel = memcg_async_reclaim__open_and_load();
	if (!ASSERT_OK_PTR(skel, "open_and_load"))
		goto out;

	if (test__start_subtest("async_reclaim"))
		test_async_reclaim(skel, cg);
	if (test__start_subtest("kfunc_args"))
		test_kfunc_args(skel);
out:
	memcg_async_reclaim__destroy(skel);
	if (cg >= 0)
		close(cg);
	remove_cgroup(CG);
	swap_off(swap_dev);
	cleanup_cgroup_environment();
}
