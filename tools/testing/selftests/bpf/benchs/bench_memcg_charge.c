// SPDX-License-Identifier: GPL-2.0
/*
 * The memory controller's charge path: page faults of fresh anonymous
 * memory in a cgroup, then MADV_DONTNEED, so that every page is charged
 * and uncharged. memcg-charge runs without a policy (on any kernel),
 * memcg-charge-bpf with a memcg_bpf_ops whose hooks do nothing attached
 * to the cgroup. Hits are pages, counted as they are touched, and are
 * reported in pages per second: under emulation a few ten thousand pages
 * a second are typical, and the common M/s report would round away the
 * differences looked for.
 */
#include <sys/mman.h>
#include "bench.h"
#include "cgroup_helpers.h"
#include "memcg_charge_bench.skel.h"

#define REGION		(16UL << 20)
#define CG		"/bench_memcg_charge"

static struct ctx {
	struct memcg_charge_bench *skel;
	struct bpf_link *link;
	struct counter hits;
	long page_size;
	char *region;
	int cg_fd;
} ctx;

/* Also the validation of the control path benchmarks, bench_memcg_ctl.c */
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

static void *producer(void *input)
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

static void measure(struct bench_res *res)
{
	res->hits = atomic_swap(&ctx.hits.value, 0);
}

static void report_progress(int iter, struct bench_res *res, long delta_ns)
{
	printf("Iter %3d (%7.3lfus): pages %10.1lf/s\n", iter,
	       (delta_ns - 1000000000) / 1000.0,
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

static void report_final(struct bench_res res[], int res_cnt)
{
	struct basic_stats st;

	memcg_bench_hits_stats(res, res_cnt, &st);
	printf("Summary: pages %10.1lf \u00B1 %8.1lf/s\n", st.mean, st.stddev);
}

static void setup_cgroup(void)
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

static void setup_base(void)
{
	setup_cgroup();
}

static void setup_bpf(void)
{
	LIBBPF_OPTS(bpf_struct_ops_opts, opts);

	setup_cgroup();
	setup_libbpf();
	ctx.skel = memcg_charge_bench__open_and_load();
	if (!ctx.skel) {
		fprintf(stderr, "failed to load memcg_charge_bench\n");
		exit(1);
	}
	opts.cgroup_fd = ctx.cg_fd;
	ctx.link = bpf_map__attach_struct_ops_opts(ctx.skel->maps.bench_ops, &opts);
	if (!ctx.link) {
		fprintf(stderr, "failed to attach memcg_bpf_ops: %d\n", -errno);
		exit(1);
	}
}

const struct bench bench_memcg_charge = {
	.name = "memcg-charge",
	.validate = memcg_bench_validate,
	.setup = setup_base,
	.producer_thread = producer,
	.measure = measure,
	.report_progress = report_progress,
	.report_final = report_final,
};

const struct bench bench_memcg_charge_bpf = {
	.name = "memcg-charge-bpf",
	.validate = memcg_bench_validate,
	.setup = setup_bpf,
	.producer_thread = producer,
	.measure = measure,
	.report_progress = report_progress,
	.report_final = report_final,
};
