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
#include <limits.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <test_progs.h>
#include "cgroup_helpers.h"
#include "testing_helpers.h"
#include "cap_helpers.h"
#include "memcg_async_reclaim.skel.h"

#define MB		(1024 * 1024)
#define CG		"/memcg_async"
#define CG_MAX		(32 * MB)
#define FILE_SIZE	(64 * MB)
#define STOP_MS		60000	/* a reclaim work ends (one kfunc call) */

/*
 * In a child in CG: write FILE_SIZE into a memfd (shmem, which reclaim
 * swaps out), map it and read it all. Returns the child's exit status.
 */
static int run_workload(void)
{
	static char buf[MB];
	int status, fd;
	pid_t pid, ret;
	size_t off;
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
	/* Whatever happens, no workload outlives its run */
	while ((ret = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	if (ret != pid) {
		printf("%s: waitpid: %s\n", __func__, strerror(errno));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	if (WIFSIGNALED(status))
		printf("%s: killed by signal %d\n", __func__, WTERMSIG(status));
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
	int i;

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
	/*
	 * The callback queues itself again while the cgroup is above the
	 * target, link or not: with no cgroup to look up it stops, and the
	 * next subtests find the cgroup to themselves.
	 */
	skel->bss->cgid = 0;
	for (i = 0; i < STOP_MS && READ_ONCE(skel->bss->queued); i++)
		usleep(1000);
	ASSERT_EQ(READ_ONCE(skel->bss->queued), 0, "reclaim work stopped");

	printf("%s: memory.events max +%lld in %.0f ms without policy\n",
	       __func__, base, base_ns / 1e6);
	printf("%s: memory.events max +%lld in %.0f ms with it\n",
	       __func__, with, with_ns / 1e6);
	printf("%s: %llu works queued, %llu runs, %llu pages reclaimed, %llu charges delayed\n",
	       __func__, (unsigned long long)skel->bss->nr_queued,
	       (unsigned long long)skel->bss->nr_runs,
	       (unsigned long long)skel->bss->nr_reclaimed,
	       (unsigned long long)skel->bss->nr_throttled);
	/* How long the callback held rcu_read_lock_trace() in one call */
	printf("%s: longest kfunc call %.1f ms, for %llu pages\n", __func__,
	       skel->bss->max_call_ns / 1e6, (unsigned long long)skel->bss->max_call_pages);
	/*
	 * A relative bound, not 0: on a loaded machine the kworker may fall
	 * behind the workload now and then.
	 */
	ASSERT_LE(with * 10, base, "with policy, memory.max met 10x less often at most");
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

/*
 * The GFP bits and reclaim options the kfunc takes, as the kernel defines
 * them: read from the BPF object (which has them from vmlinux.h)
 * once it is loaded, by read_flags(). Not constants: the tables that use
 * them are built at run time.
 */
static struct {
	__u32 io, fs, direct_reclaim, kswapd_reclaim, nofail, highmem, nowarn;
	__u32 may_swap, proactive;
} kflags;

#define GFP_IO		kflags.io
#define GFP_FS		kflags.fs
#define GFP_DIRECT	kflags.direct_reclaim
#define GFP_KERNEL	(GFP_DIRECT | kflags.kswapd_reclaim | GFP_IO | GFP_FS)
#define GFP_NOWAIT	(kflags.kswapd_reclaim | kflags.nowarn)
#define GFP_NOFAIL	kflags.nofail
#define GFP_HIGHMEM	kflags.highmem
#define MAY_SWAP	kflags.may_swap
#define PROACTIVE	kflags.proactive

static void read_flags(const struct memcg_async_reclaim *skel)
{
	kflags.io = skel->data->gfp_io;
	kflags.fs = skel->data->gfp_fs;
	kflags.direct_reclaim = skel->data->gfp_direct_reclaim;
	kflags.kswapd_reclaim = skel->data->gfp_kswapd_reclaim;
	kflags.nofail = skel->data->gfp_nofail;
	kflags.highmem = skel->data->gfp_highmem;
	kflags.nowarn = skel->data->gfp_nowarn;
	kflags.may_swap = skel->data->reclaim_may_swap;
	kflags.proactive = skel->data->reclaim_proactive;
}

/* Every argument of the kfunc is checked. */
static void test_kfunc_args(struct memcg_async_reclaim *skel)
{
	const struct kfunc_case cases[] = {
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

/*
 * In a child in CG: hold @size of shmem (a memfd) until the write end of
 * the @stop pipe is closed; @ready_fd gets a byte once it is charged.
 * Returns the pid.
 */
static pid_t hold_shmem(size_t size, int ready_fd, int stop[2])
{
	/* Small: the child's anonymous memory is a few pages */
	static char buf[64 * 1024];
	size_t off;
	pid_t pid;
	char c;
	int fd;

	pid = fork();
	if (pid)
		return pid;
	/* Only the parent's write end keeps the pipe open */
	close(stop[1]);
	/*
	 * Anonymous memory in 4 kB pages: a transparent huge page faulted
	 * in for the buffer would be 512 pages the kfunc may swap out even
	 * with GFP_NOFS.
	 */
	if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) || join_parent_cgroup(CG))
		_exit(1);
	fd = memfd_create("memcg_hold", 0);
	if (fd < 0)
		_exit(2);
	memset(buf, 0x5a, sizeof(buf));
	for (off = 0; off < size; off += sizeof(buf))
		if (write(fd, buf, sizeof(buf)) != sizeof(buf))
			_exit(3);
	if (write(ready_fd, "r", 1) != 1)
		_exit(4);
	/* Until the parent closes its end */
	while (read(stop[0], &c, 1) > 0)
		;
	_exit(0);
}

/*
 * The kfunc on a cgroup that holds memory, 16 MB of shmem (so swap is
 * needed). Where it may swap, it reclaims about as much as asked,
 * memory.current and memory.swap.current move by as much, and memory.stat
 * counts it as direct reclaim, or with BPF_MEMCG_RECLAIM_PROACTIVE as
 * proactive reclaim, as the kernel-doc says. Where it may not, nothing is
 * swapped out: without BPF_MEMCG_RECLAIM_MAY_SWAP, with GFP_NOIO, with
 * swappiness 0 (proactive); GFP_NOFS writes no shmem to swap, only the
 * few anonymous pages of the holder can go. Those cases come first, while
 * all of the shmem is resident.
 */
static void test_kfunc_reclaim(struct memcg_async_reclaim *skel, int cg)
{
	const __u32 nofs = GFP_KERNEL & ~GFP_FS, noio = GFP_KERNEL & ~(GFP_FS | GFP_IO);
	const struct {
		const char *name;
		__u32 gfp;
		__u32 options;
		int swappiness;
		long long max_swapped;	/* pages; -1: it swaps what it reclaims */
	} cases[] = {
		{ "without MAY_SWAP", 0, 0, -1, 0 },
		{ "GFP_NOIO", noio, MAY_SWAP, -1, 0 },
		{ "proactive, swappiness 0", 0, MAY_SWAP | PROACTIVE, 0, 0 },
		{ "GFP_NOFS", nofs, MAY_SWAP, -1, 128 },
		{ "limit reclaim", 0, MAY_SWAP, -1, -1 },
		{ "limit reclaim, GFP_KERNEL", GFP_KERNEL, MAY_SWAP, -1, -1 },
		{ "proactive reclaim", 0, MAY_SWAP | PROACTIVE, -1, -1 },
		{ "proactive reclaim, swappiness 200", 0, MAY_SWAP | PROACTIVE, 200, -1 },
	};
	LIBBPF_OPTS(bpf_test_run_opts, topts);
	const __u64 nr_pages = 512, page_size = sysconf(_SC_PAGESIZE);
	long long cur0, cur1, swap0, swap1, direct0, direct1, pro0, pro1, swapped;
	int ready[2], stop[2], i;
	pid_t pid = -1;
	char c;

	if (!ASSERT_OK(pipe(ready), "pipe"))
		return;
	if (!ASSERT_OK(pipe(stop), "pipe"))
		goto close_ready;
	pid = hold_shmem(16 * MB, ready[1], stop);
	/* The read below ends if the child exits early */
	close(ready[1]);
	ready[1] = -1;
	if (!ASSERT_GT(pid, 0, "fork") ||
	    !ASSERT_EQ(read(ready[0], &c, 1), 1, "shmem charged"))
		goto out;

	skel->bss->cgid = get_cgroup_id(CG);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		skel->bss->arg_nr_pages = nr_pages;
		skel->bss->arg_gfp = cases[i].gfp;
		skel->bss->arg_options = cases[i].options;
		skel->bss->arg_swappiness = cases[i].swappiness;
		skel->bss->arg_root = false;
		skel->bss->result = -12345;
		cur0 = read_cgroup_value(cg, "memory.current", NULL);
		swap0 = read_cgroup_value(cg, "memory.swap.current", NULL);
		direct0 = read_cgroup_value(cg, "memory.stat", "pgsteal_direct");
		pro0 = read_cgroup_value(cg, "memory.stat", "pgsteal_proactive");
		if (!ASSERT_OK(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.try_reclaim),
						      &topts), cases[i].name) ||
		    !ASSERT_EQ(topts.retval, 0, cases[i].name))
			break;
		cur1 = read_cgroup_value(cg, "memory.current", NULL);
		swap1 = read_cgroup_value(cg, "memory.swap.current", NULL);
		if (!ASSERT_GE(swap0, 0, "memory.swap.current") ||
		    !ASSERT_GE(swap1, 0, "memory.swap.current"))
			break;
		direct1 = read_cgroup_value(cg, "memory.stat", "pgsteal_direct");
		pro1 = read_cgroup_value(cg, "memory.stat", "pgsteal_proactive");
		swapped = (swap1 - swap0) / (long long)page_size;
		printf("%s: %s: %ld pages reclaimed, %lld swapped out, memory.current -%lld kB, ",
		       __func__, cases[i].name, skel->bss->result, swapped, (cur0 - cur1) / 1024);
		printf("pgsteal_direct +%lld, pgsteal_proactive +%lld\n",
		       direct1 - direct0, pro1 - pro0);
		if (cases[i].max_swapped >= 0) {
			ASSERT_GE(skel->bss->result, 0, cases[i].name);
			ASSERT_LE(swapped, cases[i].max_swapped, cases[i].name);
			continue;
		}
		/* At least what was asked, at most a reclaim batch more */
		ASSERT_GE(skel->bss->result, nr_pages, "reclaimed as much as asked");
		ASSERT_LE(skel->bss->result, 2 * nr_pages, "not much more");
		ASSERT_GE(cur0 - cur1, (long long)(nr_pages * page_size / 2), "memory.current");
		ASSERT_GE(swapped, (long long)nr_pages / 2, "memory.swap.current");
		if (cases[i].options & PROACTIVE) {
			ASSERT_GE(pro1 - pro0, (long long)nr_pages / 2, "pgsteal_proactive");
			ASSERT_EQ(direct1 - direct0, 0, "pgsteal_direct");
		} else {
			ASSERT_GE(direct1 - direct0, (long long)nr_pages / 2, "pgsteal_direct");
			ASSERT_EQ(pro1 - pro0, 0, "pgsteal_proactive");
		}
	}
out:
	close(stop[1]);
	/* Reaped, or swapoff would find its shmem charged to a full CG */
	while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	close(stop[0]);
close_ready:
	close(ready[0]);
	if (ready[1] >= 0)
		close(ready[1]);
}

/* The results a call of the kfunc may have, as bits */
#define RES_OK		1	/* >= 0: the pages reclaimed */
#define RES_EINVAL	2
#define RES_E2BIG	4

#define FUZZ_CALLS	300	/* random calls, after the boundary ones */
#define FUZZ_SEED	0x6d656d6367ULL	/* "memcg" */
#define FUZZ_SECS	20	/* at most, for the random calls */
#define ROOT_MAX_PAGES	32	/* the most a call asks of the root memcg */

struct kfunc_call {
	__u64 nr_pages;
	__u32 gfp;
	__u32 options;
	int swappiness;
	bool root;
};

struct fuzz {
	__u64 seed;
	__u64 state;
	__u64 ram;		/* totalram_pages() */
	int calls;
	int mismatches;
	int results[3];		/* calls that returned >= 0, -EINVAL, -E2BIG */
	__u64 reclaimed;
};

/* xorshift64*: the same calls for the same seed, on every machine */
static __u64 fuzz_rand(struct fuzz *f)
{
	f->state ^= f->state >> 12;
	f->state ^= f->state << 25;
	f->state ^= f->state >> 27;
	return f->state * 0x2545f4914f6cdd1dULL;
}

static bool gfp_valid(__u32 gfp)
{
	return !gfp || gfp == GFP_KERNEL || gfp == (GFP_KERNEL & ~GFP_FS) ||
	       gfp == (GFP_KERNEL & ~(GFP_FS | GFP_IO));
}

/*
 * The results the kfunc's documentation gives for @c: -EINVAL for 0 pages
 * or for a value it does not list for an argument, -E2BIG for more pages
 * than the RAM has, else the number of pages reclaimed. It does not say
 * which error wins when there are more pages than RAM and another argument
 * is invalid: either is right then.
 */
static int expected(const struct kfunc_call *c, __u64 ram)
{
	bool invalid = !gfp_valid(c->gfp) ||
		       (c->options & ~(MAY_SWAP | PROACTIVE)) ||
		       (c->swappiness != -1 &&
			(c->swappiness < 0 || c->swappiness > 200 ||
			 !(c->options & PROACTIVE)));

	if (!c->nr_pages)
		return RES_EINVAL;
	if (c->nr_pages > ram)
		return invalid ? RES_E2BIG | RES_EINVAL : RES_E2BIG;
	return invalid ? RES_EINVAL : RES_OK;
}

/* Call the kfunc with @c and compare with what the documentation says. */
static void fuzz_call(struct memcg_async_reclaim *skel, struct fuzz *f,
		      const struct kfunc_call *c)
{
	LIBBPF_OPTS(bpf_test_run_opts, topts);
	int want = expected(c, f->ram), got;
	long ret;

	skel->bss->arg_nr_pages = c->nr_pages;
	skel->bss->arg_gfp = c->gfp;
	skel->bss->arg_options = c->options;
	skel->bss->arg_swappiness = c->swappiness;
	skel->bss->arg_root = c->root;
	skel->bss->result = -12345;
	f->calls++;
	if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.try_reclaim), &topts) ||
	    topts.retval) {
		ret = -12345;
		got = 0;
	} else {
		ret = skel->bss->result;
		got = ret >= 0 ? RES_OK : ret == -EINVAL ? RES_EINVAL :
		      ret == -E2BIG ? RES_E2BIG : 0;
	}
	if (got == RES_OK) {
		f->results[0]++;
		f->reclaimed += ret;
	} else if (got) {
		f->results[got == RES_EINVAL ? 1 : 2]++;
	}
	if (got & want)
		return;
	if (f->mismatches++ < 10)
		fprintf(stderr,
			"seed %llu call %d: nr_pages %llu gfp %#x options %#x swappiness %d%s: %ld, expected%s%s%s\n",
			(unsigned long long)f->seed, f->calls,
			(unsigned long long)c->nr_pages, c->gfp, c->options,
			c->swappiness, c->root ? " root" : "", ret,
			want & RES_OK ? " >= 0" : "", want & RES_EINVAL ? " -EINVAL" : "",
			want & RES_E2BIG ? " -E2BIG" : "");
}

/*
 * Fuzz the arguments of bpf_try_to_free_mem_cgroup_pages(): first each
 * boundary value of each argument, the others valid, then random calls
 * that mix boundary, valid and arbitrary values of all arguments, on the
 * test cgroup or the root memcg. The seed is FUZZ_SEED unless
 * MEMCG_OPS_FUZZ_SEED=<seed> gives another one; it is printed. Only
 * boundary calls on the test cgroup, which holds little memory, ask for
 * many pages: the calls stay short.
 */
static void test_kfunc_fuzz(struct memcg_async_reclaim *skel)
{
	const char *env = getenv("MEMCG_OPS_FUZZ_SEED");
	struct fuzz f = {};
	struct kfunc_call c, base = {
		.nr_pages = 16, .options = PROACTIVE, .swappiness = -1,
	};
	__u64 nr_bounds[] = {
		0, 1, 2, 31, 32, 33, 64, 0 /* ram - 1 */, 0 /* ram */,
		0 /* ram + 1 */, 1ULL << 32, 1ULL << 40, LONG_MAX, ULLONG_MAX,
	};
	const __u32 gfp_bounds[] = {
		0, GFP_KERNEL, GFP_KERNEL & ~GFP_FS, GFP_KERNEL & ~(GFP_FS | GFP_IO),
		GFP_NOWAIT, GFP_KERNEL | GFP_NOFAIL, GFP_KERNEL | GFP_HIGHMEM,
		GFP_IO | GFP_FS, GFP_DIRECT, 1, 1u << 31, UINT_MAX,
	};
	const __u32 option_bounds[] = {
		0, MAY_SWAP, PROACTIVE, MAY_SWAP | PROACTIVE, 1, 1u << 3,
		1u << 31, UINT_MAX,
	};
	static const int swappiness_bounds[] = {
		INT_MIN, -2, -1, 0, 1, 60, 199, 200, 201, INT_MAX,
	};
	__u64 start, r;
	int i;

	/* sysinfo()'s totalram: totalram_pages(), in bytes */
	f.ram = sysconf(_SC_PHYS_PAGES);
	if (!ASSERT_GT(f.ram, 0, "_SC_PHYS_PAGES"))
		return;
	nr_bounds[7] = f.ram - 1;
	nr_bounds[8] = f.ram;
	nr_bounds[9] = f.ram + 1;
	/* A fixed seed: every run makes the same calls, in the same order */
	f.seed = env ? strtoull(env, NULL, 0) : FUZZ_SEED;
	f.state = f.seed ? f.seed : 1;
	skel->bss->cgid = get_cgroup_id(CG);

	/* Each boundary value of each argument, the others valid */
	for (i = 0; i < ARRAY_SIZE(nr_bounds); i++) {
		c = base;
		c.nr_pages = nr_bounds[i];
		fuzz_call(skel, &f, &c);
	}
	for (i = 0; i < ARRAY_SIZE(gfp_bounds); i++) {
		c = base;
		c.gfp = gfp_bounds[i];
		fuzz_call(skel, &f, &c);
	}
	for (i = 0; i < ARRAY_SIZE(option_bounds); i++) {
		c = base;
		c.options = option_bounds[i];
		fuzz_call(skel, &f, &c);
	}
	/* With and without BPF_MEMCG_RECLAIM_PROACTIVE */
	for (i = 0; i < 2 * ARRAY_SIZE(swappiness_bounds); i++) {
		c = base;
		c.swappiness = swappiness_bounds[i / 2];
		c.options = i & 1 ? MAY_SWAP : PROACTIVE;
		fuzz_call(skel, &f, &c);
	}

	/*
	 * Random calls: each argument a boundary value one time in four, a
	 * valid value one time in two, anything else one time in four.
	 */
	start = get_time_ns();
	for (i = 0; i < FUZZ_CALLS && get_time_ns() - start < FUZZ_SECS * 1000000000ULL; i++) {
		r = fuzz_rand(&f);
		c.nr_pages = r % 4 == 0 ? nr_bounds[fuzz_rand(&f) % ARRAY_SIZE(nr_bounds)] :
			     r % 4 == 3 ? fuzz_rand(&f) >> (fuzz_rand(&f) % 64) :
			     1 + fuzz_rand(&f) % 64;
		r >>= 2;
		c.gfp = r % 4 == 0 ? gfp_bounds[fuzz_rand(&f) % ARRAY_SIZE(gfp_bounds)] :
			r % 4 == 3 ? (__u32)fuzz_rand(&f) :
			gfp_bounds[fuzz_rand(&f) % 4];
		r >>= 2;
		c.options = r % 4 == 0 ? option_bounds[fuzz_rand(&f) % ARRAY_SIZE(option_bounds)] :
			    r % 4 == 3 ? 1u << (fuzz_rand(&f) % 32) :
			    option_bounds[fuzz_rand(&f) % 4];
		r >>= 2;
		c.swappiness = r % 4 == 0 ?
			       swappiness_bounds[fuzz_rand(&f) % ARRAY_SIZE(swappiness_bounds)] :
			       r % 4 == 3 ? (int)fuzz_rand(&f) :
			       (int)(fuzz_rand(&f) % 202) - 1;
		r >>= 2;
		/* The root memcg one time in eight, for a few pages */
		c.root = r % 8 == 0;
		if (c.root && c.nr_pages > ROOT_MAX_PAGES && c.nr_pages <= f.ram)
			c.nr_pages = 1 + c.nr_pages % ROOT_MAX_PAGES;
		fuzz_call(skel, &f, &c);
	}
	printf("%s: seed %llu: %d calls, %d >= 0 (%llu pages reclaimed), %d -EINVAL, %d -E2BIG\n",
	       __func__, (unsigned long long)f.seed, f.calls, f.results[0],
	       (unsigned long long)f.reclaimed, f.results[1], f.results[2]);
	ASSERT_EQ(f.mismatches, 0, "results as documented");
	ASSERT_GT(f.results[0], 0, "valid calls");
}

/* Load @skel without CAP_SYS_ADMIN: CAP_BPF and CAP_PERFMON are kept. */
static int load_without_sys_admin(struct memcg_async_reclaim *skel)
{
	__u64 caps;
	int err;

	if (!ASSERT_OK(cap_disable_effective(1ULL << CAP_SYS_ADMIN, &caps),
		       "drop CAP_SYS_ADMIN"))
		return -EPERM;
	err = memcg_async_reclaim__load(skel);
	cap_enable_effective(caps, NULL);
	return err;
}

#define KFUNC_NOT_ALLOWED \
	"calling kernel function bpf_try_to_free_mem_cgroup_pages is not allowed"

/*
 * Open the skeleton to load only the programs @progs names (a string of
 * 's' try_reclaim, 'i' init_work, 'p' the async_reclaim_self policy), the
 * policy map only with 'p'. @log gets the verifier log of @logged.
 */
static struct memcg_async_reclaim *open_only(const char *progs, char *log, size_t len)
{
	struct memcg_async_reclaim *skel;
	struct bpf_program *p, *logged = NULL;

	skel = memcg_async_reclaim__open();
	if (!ASSERT_OK_PTR(skel, "open"))
		return NULL;
	bpf_object__for_each_program(p, skel->obj)
		bpf_program__set_autoload(p, false);
	bpf_map__set_autocreate(skel->maps.async_reclaim, false);
	bpf_map__set_autocreate(skel->maps.async_reclaim_self, !!strchr(progs, 'p'));
	if (strchr(progs, 's')) {
		bpf_program__set_autoload(skel->progs.try_reclaim, true);
		logged = skel->progs.try_reclaim;
	}
	if (strchr(progs, 'i')) {
		bpf_program__set_autoload(skel->progs.init_work, true);
		logged = skel->progs.init_work;
	}
	if (strchr(progs, 'p')) {
		bpf_program__set_autoload(skel->progs.reclaim_charged, true);
		bpf_program__set_autoload(skel->progs.init_work_online, true);
	}
	if (logged && log) {
		bpf_program__set_log_buf(logged, log, len);
		bpf_program__set_log_level(logged, 1);
	}
	return skel;
}

/*
 * Who may call the reclaim kfunc, which reclaims any memcg, the root's
 * included. Without CAP_SYS_ADMIN (CAP_BPF and CAP_PERFMON kept), the
 * verifier refuses it to a syscall program, directly or in the bpf_wq
 * callback it sets up, with its message and -EACCES, and accepts it in
 * the bpf_wq callback of a memcg_bpf_ops policy, which only CAP_SYS_ADMIN
 * can attach. With CAP_SYS_ADMIN, the syscall programs load (the skeleton
 * of the other subtests; test_kfunc_args runs try_reclaim).
 */
static void test_kfunc_caps(void)
{
	static const char *const refused[] = { "s", "i" };
	struct memcg_async_reclaim *skel;
	static char log[65536];
	int i, err;

	for (i = 0; i < ARRAY_SIZE(refused); i++) {
		log[0] = 0;
		skel = open_only(refused[i], log, sizeof(log));
		if (!skel)
			return;
		err = load_without_sys_admin(skel);
		ASSERT_EQ(err, -EACCES, "syscall program without CAP_SYS_ADMIN");
		ASSERT_HAS_SUBSTR(log, KFUNC_NOT_ALLOWED, "verifier log");
		memcg_async_reclaim__destroy(skel);
	}

	skel = open_only("p", NULL, 0);
	if (!skel)
		return;
	ASSERT_OK(load_without_sys_admin(skel), "policy without CAP_SYS_ADMIN");
	memcg_async_reclaim__destroy(skel);
}

void serial_test_memcg_ops_async_reclaim(void)
{
	struct memcg_async_reclaim *skel = NULL;
	char swap_dev[32] = "", max[32];
	int cg = -1, swap_err;

	if (!ASSERT_OK(setup_cgroup_environment(), "setup_cgroup_environment"))
		return;
	/* Reclaim of shmem needs swap; the kfunc's argument checks do not */
	swap_err = swap_on(swap_dev, sizeof(swap_dev), 256ULL * MB);
	if (swap_err)
		printf("%s: no swap (zram: %s): skipping async_reclaim\n",
		       __func__, strerror(-swap_err));
	cg = create_and_get_cgroup(CG);
	if (!ASSERT_GE(cg, 0, "create cgroup"))
		goto out;
	snprintf(max, sizeof(max), "%d", CG_MAX);
	if (!ASSERT_OK(write_cgroup_file(CG, "memory.max", max), "memory.max"))
		goto out;
	skel = memcg_async_reclaim__open();
	if (!ASSERT_OK_PTR(skel, "open"))
		goto out;
	skel->rodata->page_size = sysconf(_SC_PAGESIZE);
	if (!ASSERT_OK(memcg_async_reclaim__load(skel), "load"))
		goto out;
	read_flags(skel);

	if (test__start_subtest("async_reclaim")) {
		if (swap_err)
			test__skip();
		else
			test_async_reclaim(skel, cg);
	}
	if (test__start_subtest("kfunc_args"))
		test_kfunc_args(skel);
	if (test__start_subtest("kfunc_reclaim")) {
		if (swap_err)
			test__skip();
		else
			test_kfunc_reclaim(skel, cg);
	}
	if (test__start_subtest("kfunc_fuzz"))
		test_kfunc_fuzz(skel);
	if (test__start_subtest("kfunc_caps"))
		test_kfunc_caps();
out:
	memcg_async_reclaim__destroy(skel);
	if (cg >= 0)
		close(cg);
	remove_cgroup(CG);
	ASSERT_OK(swap_off(swap_dev), "swap_off");
	cleanup_cgroup_environment();
}
