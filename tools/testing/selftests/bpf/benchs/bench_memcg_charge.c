// SPDX-License-Identifier: GPL-2.0
/*
 * What memcg_bpf_ops hooks cost where they are called.
 *
 * memcg-charge*: the memory controller's charge path. Page faults of fresh
 * anonymous memory in a cgroup, then MADV_DONTNEED, so that every page is
 * charged and uncharged. Hits are pages, counted as they are touched, and
 * are reported in pages per second: under emulation a few ten thousand
 * pages a second are typical, and the common M/s report would round away
 * the differences looked for.
 *
 * memcg-reclaim*: the protection hooks, which reclaim calls for every memcg
 * it looks at. A parent with RECLAIM_CHILDREN children, each holding 1 MB
 * of locked (unevictable) memory, and writes of "1M" to the parent's
 * memory.reclaim: every write walks the children many times and reclaims
 * nothing, so the run is steady. Hits are writes.
 *
 * Without a suffix: no policy (runs on any kernel); -bpf: hooks that only
 * count their calls and return 0; -policy: hooks that do what a policy
 * does on every call (a hash map lookup, counters, a clock read). The
 * hooks' calls per hit are printed after the summary, so that a caller
 * can turn the difference between two cases into a cost per call.
 */
#include <fcntl.h>
#include <sys/mman.h>
#include "bench.h"
#include "cgroup_helpers.h"
#include "memcg_charge_bench.skel.h"

#define REGION			(16UL << 20)
#define CG			"/bench_memcg_charge"
#define CG_RECLAIM		"/bench_memcg_reclaim"
#define RECLAIM_CHILDREN	8
#define CHILD_MEMORY		(1024 * 1024UL)
#define MAX_ITERS		1024

/* As in progs/memcg_charge_bench.c */
enum { CHARGED, UNCHARGED, BELOW_LOW, BELOW_MIN, NR_HOOKS };

static const char *const hook_names[NR_HOOKS] = {
	"memcg_charged", "memcg_uncharged", "below_low", "below_min",
};

static struct ctx {
	struct memcg_charge_bench *skel;
	struct bpf_link *link;
	struct counter hits;
	long page_size;
	char *region;
	int cg_fd;
	int reclaim_fd;		/* the reclaim benchmarks' memory.reclaim */
	const char *unit;	/* what a hit is */
	/* Hook calls in each interval measured, since the start */
	__u64 calls[MAX_ITERS][NR_HOOKS];
	int iters;
} ctx = { .unit = "pages" };

/* Shared by the memcg benchmarks */
void memcg_bench_validate(void)
{
	if (env.producer_cnt != 1) {
		fprintf(stderr, "benchmark doesn't support multi-producer!\n");
		exit(1);
	}
	if (env.consumer_cnt != 0) {
		fprintf(stderr, "benchmark doesn't support consumer!\n");
		exit(1);
	}
}

static void *charge_producer(void *input)
{
	unsigned long off;

	while (true) {
		for (off = 0; off < REGION; off += ctx.page_size) {
			ctx.region[off] = 1;
			atomic_inc(&ctx.hits.value);
		}
		if (madvise(ctx.region, REGION, MADV_DONTNEED)) {
			fprintf(stderr, "madvise failed: %d\n", -errno);
			exit(1);
		}
	}
	return NULL;
}

static void *reclaim_producer(void *input)
{
	while (true) {
		/* EAGAIN: nothing could be reclaimed, as planned */
		if (pwrite(ctx.reclaim_fd, "1M", 2, 0) < 0 && errno != EAGAIN) {
			fprintf(stderr, "memory.reclaim: %d\n", -errno);
			exit(1);
		}
		atomic_inc(&ctx.hits.value);
	}
	return NULL;
}

static void measure(struct bench_res *res)
{
	int i;

	res->hits = atomic_swap(&ctx.hits.value, 0);
	if (!ctx.skel || ctx.iters >= MAX_ITERS)
		return;
	for (i = 0; i < NR_HOOKS; i++)
		ctx.calls[ctx.iters][i] = __atomic_exchange_n(&ctx.skel->bss->calls[i], 0,
							      __ATOMIC_RELAXED);
	ctx.iters++;
}

static void report_progress(int iter, struct bench_res *res, long delta_ns)
{
	printf("Iter %3d (%7.3lfus): %s %10.1lf/s\n", iter,
	       (delta_ns - 1000000000) / 1000.0, ctx.unit,
	       res->hits * 1000000000.0 / delta_ns);
}

/* Mean and standard deviation of the hits per iteration (per second) */
void memcg_bench_hits_stats(struct bench_res res[], int res_cnt, struct basic_stats *st)
{
	double var = 0.0;
	int i;

	st->mean = 0.0;
	for (i = 0; i < res_cnt; i++)
		st->mean += res[i].hits / (double)res_cnt;
	for (i = 0; res_cnt > 1 && i < res_cnt; i++)
		var += (res[i].hits - st->mean) * (res[i].hits - st->mean) / (res_cnt - 1.0);
	st->stddev = sqrt(var);
}

/*
 * The summary, and with a policy the calls of each hook per hit over the
 * iterations summarised (the last @res_cnt measured)
 */
static void report_final(struct bench_res res[], int res_cnt)
{
	double hits = 0, calls[NR_HOOKS] = {};
	struct basic_stats st;
	int i, h, first;

	memcg_bench_hits_stats(res, res_cnt, &st);
	printf("Summary: %s %10.1lf \u00B1 %8.1lf/s\n", ctx.unit, st.mean, st.stddev);
	if (!ctx.skel)
		return;
	first = ctx.iters - res_cnt;
	for (i = 0; i < res_cnt; i++) {
		hits += res[i].hits;
		for (h = 0; first >= 0 && h < NR_HOOKS; h++)
			calls[h] += ctx.calls[first + i][h];
	}
	printf("Calls per hit:");
	for (h = 0; h < NR_HOOKS; h++)
		printf(" %s %.4lf", hook_names[h], hits ? calls[h] / hits : 0.0);
	printf("\n");
}

static void setup_charge(void)
{
	ctx.page_size = sysconf(_SC_PAGESIZE);
	if (setup_cgroup_environment()) {
		fprintf(stderr, "failed to set up cgroups\n");
		exit(1);
	}
	ctx.cg_fd = create_and_get_cgroup(CG);
	if (ctx.cg_fd < 0 || join_cgroup(CG)) {
		fprintf(stderr, "failed to create or join %s\n", CG);
		exit(1);
	}
	ctx.region = mmap(NULL, REGION, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ctx.region == MAP_FAILED) {
		fprintf(stderr, "mmap failed: %d\n", -errno);
		exit(1);
	}
	/* One charge per page fault, no THP */
	madvise(ctx.region, REGION, MADV_NOHUGEPAGE);
}

/* The reclaim benchmarks' parent, its children and their memory */
static void setup_reclaim(void)
{
	char path[64], *p;
	int i;

	ctx.unit = "writes";
	if (setup_cgroup_environment()) {
		fprintf(stderr, "failed to set up cgroups\n");
		exit(1);
	}
	ctx.cg_fd = create_and_get_cgroup(CG_RECLAIM);
	if (ctx.cg_fd < 0 ||
	    write_cgroup_file(CG_RECLAIM, "cgroup.subtree_control", "+memory")) {
		fprintf(stderr, "failed to create %s\n", CG_RECLAIM);
		exit(1);
	}
	for (i = 0; i < RECLAIM_CHILDREN; i++) {
		snprintf(path, sizeof(path), CG_RECLAIM "/c%d", i);
		if (create_and_get_cgroup(path) < 0 || join_cgroup(path)) {
			fprintf(stderr, "failed to create or join %s\n", path);
			exit(1);
		}
		/* Charged to the child, and not reclaimable */
		p = mmap(NULL, CHILD_MEMORY, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED | MAP_POPULATE, -1, 0);
		if (p == MAP_FAILED) {
			fprintf(stderr, "mmap (locked) failed: %d\n", -errno);
			exit(1);
		}
	}
	if (join_root_cgroup()) {
		fprintf(stderr, "failed to leave %s\n", path);
		exit(1);
	}
	ctx.reclaim_fd = openat(ctx.cg_fd, "memory.reclaim", O_WRONLY);
	if (ctx.reclaim_fd < 0) {
		fprintf(stderr, "%s/memory.reclaim: %d\n", CG_RECLAIM, -errno);
		exit(1);
	}
}

static void attach_policy(struct bpf_map *(*map)(struct memcg_charge_bench *skel))
{
	LIBBPF_OPTS(bpf_struct_ops_opts, opts, .cgroup_fd = ctx.cg_fd);

	setup_libbpf();
	ctx.skel = memcg_charge_bench__open_and_load();
	if (!ctx.skel) {
		fprintf(stderr, "failed to load memcg_charge_bench\n");
		exit(1);
	}
	ctx.link = bpf_map__attach_struct_ops_opts(map(ctx.skel), &opts);
	if (!ctx.link) {
		fprintf(stderr, "failed to attach memcg_bpf_ops: %d\n", -errno);
		exit(1);
	}
}

static struct bpf_map *bench_map(struct memcg_charge_bench *skel)
{
	return skel->maps.bench_ops;
}

static struct bpf_map *policy_map(struct memcg_charge_bench *skel)
{
	return skel->maps.policy_ops;
}

static void setup_charge_bpf(void)
{
	setup_charge();
	attach_policy(bench_map);
}

static void setup_charge_policy(void)
{
	setup_charge();
	attach_policy(policy_map);
}

static void setup_reclaim_bpf(void)
{
	setup_reclaim();
	attach_policy(bench_map);
}

static void setup_reclaim_policy(void)
{
	setup_reclaim();
	attach_policy(policy_map);
}

#define MEMCG_BENCH(_name, _setup, _producer)		\
const struct bench bench_memcg_##_setup = {		\
	.name = _name,					\
	.validate = memcg_bench_validate,		\
	.setup = setup_##_setup,			\
	.producer_thread = _producer,			\
	.measure = measure,				\
	.report_progress = report_progress,		\
	.report_final = report_final,			\
}

MEMCG_BENCH("memcg-charge", charge, charge_producer);
MEMCG_BENCH("memcg-charge-bpf", charge_bpf, charge_producer);
MEMCG_BENCH("memcg-charge-policy", charge_policy, charge_producer);
MEMCG_BENCH("memcg-reclaim", reclaim, reclaim_producer);
MEMCG_BENCH("memcg-reclaim-bpf", reclaim_bpf, reclaim_producer);
MEMCG_BENCH("memcg-reclaim-policy", reclaim_policy, reclaim_producer);
