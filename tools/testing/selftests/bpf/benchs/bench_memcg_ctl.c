// SPDX-License-Identifier: GPL-2.0
/*
 * The control path of memcg_bpf_ops: what attaching and detaching a policy
 * costs, and what it costs the rest of the machine.
 *
 * memcg-attach: the producer attaches a policy to a cgroup that has
 * --descendants children (each with its memcg), and detaches it, in a
 * loop. Each attach and detach calls the policy's online or offline hook
 * for every memcg of the subtree, under cgroup_mutex. Hits are
 * attach+detach cycles; the final report gives the mean time of an attach
 * and of a detach.
 *
 * memcg-cgroup-churn: the producer creates and removes a cgroup, with the
 * memory controller, in a loop; hits are mkdir+rmdir pairs. With
 * --attach-loop, a thread attaches and detaches a policy to another cgroup
 * with --descendants children meanwhile, as an orchestrator would, so
 * that the two rates, with and without it, show how much policy changes
 * slow down cgroup creation and removal elsewhere on the machine: both
 * take cgroup_mutex. --busy-loop runs a thread that only spins instead:
 * it tells the cost of sharing the CPUs from the cost of the lock.
 *
 * Both remove the cgroups they created when they exit.
 */
#include <argp.h>
#include <pthread.h>
#include <sys/stat.h>
#include "bench.h"
#include "cgroup_helpers.h"
#include "testing_helpers.h"
#include "memcg_ctl_bench.skel.h"

#define CG_POLICY	"/bench_memcg_ctl"
#define CG_CHURN	"/bench_memcg_churn"
#define MAX_ITER	1024

static struct {
	unsigned int descendants;
	bool attach_loop;
	bool busy_loop;
} args = {
	.descendants = 100,
};

enum {
	ARG_DESCENDANTS = 12000,
	ARG_ATTACH_LOOP = 12001,
	ARG_BUSY_LOOP = 12002,
};

static const struct argp_option opts[] = {
	{ "descendants", ARG_DESCENDANTS, "N", 0,
	  "Children of the cgroup the policy is attached to (default 100)" },
	{ "attach-loop", ARG_ATTACH_LOOP, NULL, 0,
	  "memcg-cgroup-churn: attach and detach a policy meanwhile" },
	{ "busy-loop", ARG_BUSY_LOOP, NULL, 0,
	  "memcg-cgroup-churn: spin on a CPU meanwhile (a control)" },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	char *end;

	switch (key) {
	case ARG_DESCENDANTS:
		errno = 0;
		args.descendants = strtoul(arg, &end, 10);
		if (errno || *end || args.descendants > 10000) {
			fprintf(stderr, "--descendants: 0 to 10000\n");
			argp_usage(state);
		}
		break;
	case ARG_ATTACH_LOOP:
		args.attach_loop = true;
		break;
	case ARG_BUSY_LOOP:
		args.busy_loop = true;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp bench_memcg_ctl_argp = {
	.options = opts,
	.parser = parse_arg,
};

static struct ctx {
	struct memcg_ctl_bench *skel;
	struct counter hits;
	/* ns spent in attach and in detach by the producer, per iteration */
	long attach_ns, detach_ns;
	long iter_attach_ns[MAX_ITER], iter_detach_ns[MAX_ITER];
	int nr_iter;
	int policy_fd;
	pthread_t loop_thread;
	unsigned long loop_cycles;
	/* set at exit: the loops stop, then the cgroups are removed */
	bool stopping;
	int running;
} ctx;

/* Stop the loops, then remove every cgroup of the work dir. */
static void cleanup(void)
{
	int i;

	__atomic_store_n(&ctx.stopping, true, __ATOMIC_RELAXED);
	/* a loop ends its round: at most an attach and a detach, a mkdir and an rmdir */
	for (i = 0; i < 10000 && __atomic_load_n(&ctx.running, __ATOMIC_ACQUIRE); i++)
		sched_yield();
	cleanup_cgroup_environment();
}

static void loop_start(void)
{
	__atomic_add_fetch(&ctx.running, 1, __ATOMIC_RELEASE);
}

static void *loop_end(void)
{
	__atomic_sub_fetch(&ctx.running, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* The policy's cgroup and its children, all with a memcg; the policy */
static void setup_policy(void)
{
	char path[64];
	unsigned int i;
	int fd;

	if (setup_cgroup_environment()) {
		fprintf(stderr, "failed to set up cgroups\n");
		exit(1);
	}
	atexit(cleanup);
	ctx.policy_fd = create_and_get_cgroup(CG_POLICY);
	if (ctx.policy_fd < 0 || enable_controllers(CG_POLICY, "memory")) {
		fprintf(stderr, "failed to create %s with memory enabled\n", CG_POLICY);
		exit(1);
	}
	for (i = 0; i < args.descendants; i++) {
		snprintf(path, sizeof(path), CG_POLICY "/c%u", i);
		fd = create_and_get_cgroup(path);
		if (fd < 0) {
			fprintf(stderr, "failed to create %s\n", path);
			exit(1);
		}
		close(fd);
	}

	setup_libbpf();
	ctx.skel = memcg_ctl_bench__open_and_load();
	if (!ctx.skel) {
		fprintf(stderr, "failed to load memcg_ctl_bench\n");
		exit(1);
	}
}

static struct bpf_link *attach_policy(void)
{
	LIBBPF_OPTS(bpf_struct_ops_opts, opts, .cgroup_fd = ctx.policy_fd);
	struct bpf_link *link;

	link = bpf_map__attach_struct_ops_opts(ctx.skel->maps.ctl_ops, &opts);
	if (!link) {
		fprintf(stderr, "failed to attach memcg_bpf_ops: %d\n", -errno);
		exit(1);
	}
	return link;
}

static void detach_policy(struct bpf_link *link)
{
	if (bpf_link__destroy(link)) {
		fprintf(stderr, "failed to detach memcg_bpf_ops: %d\n", -errno);
		exit(1);
	}
}

static void *attach_producer(void *input)
{
	struct bpf_link *link;
	__u64 t0, t1, t2;

	loop_start();
	while (!__atomic_load_n(&ctx.stopping, __ATOMIC_RELAXED)) {
		t0 = get_time_ns();
		link = attach_policy();
		t1 = get_time_ns();
		detach_policy(link);
		t2 = get_time_ns();
		atomic_add(&ctx.attach_ns, t1 - t0);
		atomic_add(&ctx.detach_ns, t2 - t1);
		atomic_inc(&ctx.hits.value);
	}
	return loop_end();
}

static void attach_measure(struct bench_res *res)
{
	res->hits = atomic_swap(&ctx.hits.value, 0);
	if (ctx.nr_iter < MAX_ITER) {
		ctx.iter_attach_ns[ctx.nr_iter] = atomic_swap(&ctx.attach_ns, 0);
		ctx.iter_detach_ns[ctx.nr_iter] = atomic_swap(&ctx.detach_ns, 0);
		ctx.nr_iter++;
	}
}

static void attach_report_progress(int iter, struct bench_res *res, long delta_ns)
{
	printf("Iter %3d (%7.3lfus): attach+detach %8.1lf/s\n", iter,
	       (delta_ns - 1000000000) / 1000.0, res->hits * 1000000000.0 / delta_ns);
}

static void attach_report_final(struct bench_res res[], int res_cnt)
{
	long cycles = 0, attach_ns = 0, detach_ns = 0;
	int i, first = ctx.nr_iter - res_cnt;

	/* res[] holds the iterations after the warmup, the last ones */
	for (i = 0; i < res_cnt; i++) {
		cycles += res[i].hits;
		attach_ns += ctx.iter_attach_ns[first + i];
		detach_ns += ctx.iter_detach_ns[first + i];
	}
	if (!cycles || first < 0) {
		printf("Summary: no attach+detach cycle measured\n");
		return;
	}
	/* an iteration is a second */
	printf("Summary: descendants %u attach+detach %.1lf/s attach %.1lf us detach %.1lf us\n",
	       args.descendants, cycles / (double)res_cnt,
	       attach_ns / 1000.0 / cycles, detach_ns / 1000.0 / cycles);
}

static void *churn_attach_thread(void *input)
{
	loop_start();
	while (!__atomic_load_n(&ctx.stopping, __ATOMIC_RELAXED)) {
		detach_policy(attach_policy());
		__atomic_add_fetch(&ctx.loop_cycles, 1, __ATOMIC_RELAXED);
	}
	return loop_end();
}

static void *churn_busy_thread(void *input)
{
	loop_start();
	while (!__atomic_load_n(&ctx.stopping, __ATOMIC_RELAXED))
		__atomic_add_fetch(&ctx.loop_cycles, 1, __ATOMIC_RELAXED);
	return loop_end();
}

static void churn_setup(void)
{
	/* setup_cgroup_environment() enables the controllers in the work
	 * dir: CG_CHURN gets a memcg like the policy's cgroup, beside it.
	 */
	setup_policy();
	if (args.attach_loop && args.busy_loop) {
		fprintf(stderr, "--attach-loop or --busy-loop, not both\n");
		exit(1);
	}
	if ((args.attach_loop || args.busy_loop) &&
	    pthread_create(&ctx.loop_thread, NULL,
			   args.attach_loop ? churn_attach_thread : churn_busy_thread, NULL)) {
		fprintf(stderr, "failed to start the loop thread\n");
		exit(1);
	}
}

static void *churn_producer(void *input)
{
	int fd;

	loop_start();
	while (!__atomic_load_n(&ctx.stopping, __ATOMIC_RELAXED)) {
		fd = create_and_get_cgroup(CG_CHURN);
		if (fd < 0) {
			fprintf(stderr, "failed to create %s\n", CG_CHURN);
			exit(1);
		}
		close(fd);
		remove_cgroup(CG_CHURN);
		atomic_inc(&ctx.hits.value);
	}
	return loop_end();
}

static void churn_measure(struct bench_res *res)
{
	res->hits = atomic_swap(&ctx.hits.value, 0);
}

static void churn_report_progress(int iter, struct bench_res *res, long delta_ns)
{
	printf("Iter %3d (%7.3lfus): mkdir+rmdir %8.1lf/s\n", iter,
	       (delta_ns - 1000000000) / 1000.0, res->hits * 1000000000.0 / delta_ns);
}

static void churn_report_final(struct bench_res res[], int res_cnt)
{
	struct basic_stats st;

	memcg_bench_hits_stats(res, res_cnt, &st);
	printf("Summary: mkdir+rmdir %.1lf \u00B1 %.1lf/s\n", st.mean, st.stddev);
	if (args.attach_loop)
		printf("attach loop: %lu attach+detach of a policy over %u descendants\n",
		       __atomic_load_n(&ctx.loop_cycles, __ATOMIC_RELAXED), args.descendants);
	else if (args.busy_loop)
		printf("busy loop: %lu increments\n",
		       __atomic_load_n(&ctx.loop_cycles, __ATOMIC_RELAXED));
}

const struct bench bench_memcg_attach = {
	.name = "memcg-attach",
	.argp = &bench_memcg_ctl_argp,
	.validate = memcg_bench_validate,
	.setup = setup_policy,
	.producer_thread = attach_producer,
	.measure = attach_measure,
	.report_progress = attach_report_progress,
	.report_final = attach_report_final,
};

const struct bench bench_memcg_cgroup_churn = {
	.name = "memcg-cgroup-churn",
	.argp = &bench_memcg_ctl_argp,
	.validate = memcg_bench_validate,
	.setup = churn_setup,
	.producer_thread = churn_producer,
	.measure = churn_measure,
	.report_progress = churn_report_progress,
	.report_final = churn_report_final,
};
