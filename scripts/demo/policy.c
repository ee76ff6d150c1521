// SPDX-License-Identifier: GPL-2.0
/*
 * The demo's policy loader (make demo), with policy.bpf.c: v1's
 * samples/bpf/memcg, kept in the workbench with what the experiments need
 * and a sample does not (per-second statistics, a policy for each
 * combination of roles, reclaim backpressure and backoff, --duration).
 * The series' samples/bpf/memcg is the minimal loader. Built by
 * scripts/build-selftests.sh with the skeleton name "memcg".
 *
 * As root, with the memory controller enabled for the cgroups:
 *
 *   ./policy --high_path /sys/fs/cgroup/high --low_path /sys/fs/cgroup/low \
 *	     --threshold 1000 --delay_ms 50 --use_below_low
 *
 * While the tasks of "high" (and of its descendants) take more than 1000
 * page faults per second, charges of "low" delay the charging task by
 * 50 ms, and reclaim treats "high" as protected by memory.low.
 *
 *   ./policy --reclaim_path /sys/fs/cgroup/batch \
 *	     --reclaim_trigger 768M --reclaim_target 512M
 *
 * When a charge takes "batch" above 768 MiB, a BPF workqueue reclaims
 * from it until it is back at 512 MiB. With --reclaim_delay_ms 500 as
 * well, charges that find it above 768 MiB delay the charging task, up
 * to 500 ms as usage reaches memory.max: backpressure for workloads that
 * allocate faster than the background reclaim frees.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "memcg.skel.h"

/* MEMCG_BPF_MAX_DELAY_MS of mm/memcontrol-bpf.h: longer delays are cut */
#define MAX_DELAY_MS	2000

#define NSEC_PER_SEC	1000000000ULL

struct cg {
	const char *opt;	/* the option that named it, for messages */
	const char *path;
	int fd;
	__u64 id;
};

/* A struct_ops map and the cgroup it is attached to */
struct policy {
	struct bpf_map *map;
	struct cg *cg;
	struct bpf_link *link;
};

static struct cg high = { .opt = "--high_path", .fd = -1 };
static struct cg low = { .opt = "--low_path", .fd = -1 };
static struct cg rcg = { .opt = "--reclaim_path", .fd = -1 };

static bool verbose;

/*
 * --update_every: the high policy's link is switched between its map and
 * the other protection map (below_low <-> below_min) with BPF_LINK_UPDATE
 * every update_every seconds (make soak).
 */
static __u64 update_every;
static struct policy *updated;
static struct bpf_map *update_maps[2];
static unsigned long nr_updates, nr_update_errors;

enum {
	OPT_HIGH_PATH = 256,
	OPT_LOW_PATH,
	OPT_THRESHOLD,
	OPT_DELAY_MS,
	OPT_USE_BELOW_LOW,
	OPT_USE_BELOW_MIN,
	OPT_RECLAIM_PATH,
	OPT_RECLAIM_TRIGGER,
	OPT_RECLAIM_TARGET,
	OPT_RECLAIM_DELAY_MS,
	OPT_ALLOW_OVERRIDE,
	OPT_DURATION,
	OPT_VERBOSE,
	OPT_UPDATE_EVERY,
};

static const struct option options[] = {
	{ "high_path",		required_argument,	NULL, OPT_HIGH_PATH },
	{ "low_path",		required_argument,	NULL, OPT_LOW_PATH },
	{ "threshold",		required_argument,	NULL, OPT_THRESHOLD },
	{ "delay_ms",		required_argument,	NULL, OPT_DELAY_MS },
	{ "use_below_low",	no_argument,		NULL, OPT_USE_BELOW_LOW },
	{ "use_below_min",	no_argument,		NULL, OPT_USE_BELOW_MIN },
	{ "reclaim_path",	required_argument,	NULL, OPT_RECLAIM_PATH },
	{ "reclaim_trigger",	required_argument,	NULL, OPT_RECLAIM_TRIGGER },
	{ "reclaim_target",	required_argument,	NULL, OPT_RECLAIM_TARGET },
	{ "reclaim_delay_ms",	required_argument,	NULL, OPT_RECLAIM_DELAY_MS },
	{ "allow_override",	no_argument,		NULL, OPT_ALLOW_OVERRIDE },
	{ "duration",		required_argument,	NULL, OPT_DURATION },
	{ "verbose",		no_argument,		NULL, OPT_VERBOSE },
	{ "update_every",	required_argument,	NULL, OPT_UPDATE_EVERY },
	{ "help",		no_argument,		NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void print_help(FILE *out, const char *prog)
{
	fprintf(out,
		"Usage: %s [OPTIONS]\n"
		"\n"
		"BPF memory policies (memcg_bpf_ops) for cgroup v2 cgroups.\n"
		"\n"
		"Memory priority:\n"
		"  --high_path PATH        high priority cgroup; it is active while its\n"
		"                          subtree takes more page faults per second than\n"
		"                          --threshold (alone: only show its fault rate)\n"
		"  --threshold N           page faults per second (default 0)\n"
		"  --low_path PATH         low priority cgroup, needs --delay_ms\n"
		"  --delay_ms N            while high is active, delay the tasks charging\n"
		"                          memory to low by N ms (1-%d)\n"
		"  --use_below_low         while high is active, reclaim treats it as\n"
		"                          protected by memory.low; while idle, only its\n"
		"                          own memory.low protects it\n"
		"  --use_below_min         the same with memory.min\n"
		"\n"
		"Asynchronous reclaim:\n"
		"  --reclaim_path PATH     cgroup to reclaim from in the background\n"
		"  --reclaim_trigger SIZE  start when a charge finds usage above SIZE\n"
		"  --reclaim_target SIZE   reclaim until usage is at most SIZE\n"
		"                          (SIZE: bytes, or with a K, M or G suffix)\n"
		"  --reclaim_delay_ms N    above the trigger, delay the charging tasks,\n"
		"                          from 0 up to N ms as usage nears memory.max\n"
		"                          (1-%d; default: no delay)\n"
		"\n"
		"Other options:\n"
		"  --allow_override        attach with BPF_F_ALLOW_OVERRIDE, so that a\n"
		"                          descendant can have a policy of its own (needed\n"
		"                          when one of the cgroups contains another)\n"
		"  --duration N            exit after N seconds (default: at SIGINT or\n"
		"                          SIGTERM)\n"
		"  --verbose               show libbpf's debug messages\n"
		"  --update_every N        every N seconds, replace high's policy by the\n"
		"                          other protection hook's (below_low <-> below_min)\n"
		"                          through BPF_LINK_UPDATE; needs exactly one of\n"
		"                          --use_below_low and --use_below_min\n"
		"  -h, --help              show this help\n"
		"\n"
		"A policy applies to its cgroup and to the descendants that have none\n"
		"of their own. Statistics are printed every second; the policies are\n"
		"detached when the program exits.\n",
		prog, MAX_DELAY_MS, MAX_DELAY_MS);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list args)
{
	if (level == LIBBPF_DEBUG && !verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

/* A decimal number; with @suffix, K, M or G may follow. */
static int parse_number(const char *s, bool suffix, __u64 *val)
{
	unsigned long long v, mult = 1;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	if (suffix && *end) {
		switch (*end++) {
		case 'k':
		case 'K':
			mult = 1ULL << 10;
			break;
		case 'm':
		case 'M':
			mult = 1ULL << 20;
			break;
		case 'g':
		case 'G':
			mult = 1ULL << 30;
			break;
		default:
			return -EINVAL;
		}
	}
	if (*end || v > ULLONG_MAX / mult)
		return -EINVAL;
	*val = v * mult;
	return 0;
}

/* Read a cgroup file of one line into @buf. */
static int read_cgroup_file(int cgfd, const char *name, char *buf, size_t size)
{
	ssize_t len;
	int fd;

	fd = openat(cgfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = read(fd, buf, size - 1);
	if (len < 0)
		len = -errno;
	close(fd);
	if (len < 0)
		return len;
	buf[len] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* "memory" in cgroup.controllers: the parent gives it the controller. */
static int has_memory_controller(int cgfd)
{
	char buf[512], *tok, *save;
	int err;

	err = read_cgroup_file(cgfd, "cgroup.controllers", buf, sizeof(buf));
	if (err)
		return err;
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		if (!strcmp(tok, "memory"))
			return 1;
	return 0;
}

/* The id of a cgroup v2 cgroup is its file handle. */
static int get_cgroup_id(int fd, __u64 *id)
{
	struct file_handle *fh;
	int mnt_id, err = 0;

	fh = malloc(sizeof(*fh) + sizeof(*id));
	if (!fh)
		return -ENOMEM;
	fh->handle_bytes = sizeof(*id);
	if (name_to_handle_at(fd, "", fh, &mnt_id, AT_EMPTY_PATH))
		err = -errno;
	else if (fh->handle_bytes != sizeof(*id))
		err = -EOVERFLOW;
	else
		memcpy(id, fh->f_handle, sizeof(*id));
	free(fh);
	return err;
}

/* Is @path, relative to @dirfd, in a cgroup v2 file system? */
static bool is_cgroup2(int dirfd, const char *path)
{
	struct statfs sfs;
	bool ret;
	int fd;

	fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ret = !fstatfs(fd, &sfs) && sfs.f_type == CGROUP2_SUPER_MAGIC;
	close(fd);
	return ret;
}

/* Open a cgroup v2 directory that has the memory controller. */
static int open_cgroup(struct cg *cg)
{
	int err;

	cg->fd = open(cg->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg->fd < 0) {
		fprintf(stderr, "%s %s: cannot open: %s\n", cg->opt, cg->path,
			strerror(errno));
		return -1;
	}
	if (!is_cgroup2(cg->fd, ".")) {
		fprintf(stderr, "%s %s: not a cgroup v2 directory\n", cg->opt,
			cg->path);
		return -1;
	}
	err = get_cgroup_id(cg->fd, &cg->id);
	if (err) {
		fprintf(stderr, "%s %s: cannot get the cgroup id: %s\n", cg->opt,
			cg->path, strerror(-err));
		return -1;
	}
	err = has_memory_controller(cg->fd);
	if (err < 0) {
		fprintf(stderr, "%s %s: cannot read cgroup.controllers: %s\n",
			cg->opt, cg->path, strerror(-err));
		return -1;
	}
	if (!err) {
		fprintf(stderr, "%s %s: the memory controller is not enabled for this cgroup\n",
			cg->opt, cg->path);
		if (!is_cgroup2(cg->fd, ".."))
			fprintf(stderr, "(this is the root: memory is disabled or on cgroup v1)\n");
		else
			fprintf(stderr,
				"(enable it in the parent: echo +memory > %s/../cgroup.subtree_control)\n",
				cg->path);
		return -1;
	}
	return 0;
}

static void close_cgroup(struct cg *cg)
{
	if (cg->fd >= 0)
		close(cg->fd);
	cg->fd = -1;
}

/* Are memcg_bpf_ops (and, for @reclaim, the reclaim kfunc) there? */
static int check_kernel(bool reclaim)
{
	struct btf *btf;
	int err = 0;

	btf = btf__load_vmlinux_btf();
	if (!btf) {
		fprintf(stderr,
			"cannot read the kernel's BTF (/sys/kernel/btf/vmlinux): %s\n"
			"this sample needs a kernel built with CONFIG_DEBUG_INFO_BTF=y\n",
			strerror(errno));
		return -1;
	}
	if (btf__find_by_name_kind(btf, "memcg_bpf_ops", BTF_KIND_STRUCT) < 0 ||
	    btf__find_by_name_kind(btf, "bpf_struct_ops_memcg_bpf_ops",
				   BTF_KIND_STRUCT) < 0) {
		fprintf(stderr,
			"this kernel does not support memcg_bpf_ops (no struct memcg_bpf_ops\n"
			"in its BTF): it needs the memcg_bpf_ops patches and CONFIG_MEMCG_BPF=y\n");
		err = -1;
	} else if (reclaim &&
		   (btf__find_by_name_kind(btf, "bpf_try_to_free_mem_cgroup_pages",
					   BTF_KIND_FUNC) < 0 ||
		    btf__find_by_name_kind(btf, "bpf_wq_set_callback",
					   BTF_KIND_FUNC) < 0)) {
		fprintf(stderr,
			"this kernel lacks the bpf_try_to_free_mem_cgroup_pages() or\n"
			"bpf_wq_set_callback() kfunc that --reclaim_path needs\n");
		err = -1;
	}
	btf__free(btf);
	return err;
}

static void explain_attach_error(int err)
{
	const char *why;

	switch (err) {
	case ENODEV:
		why = "the memory controller is not enabled for this cgroup";
		break;
	case EBUSY:
		why = "the cgroup has a memcg_bpf_ops policy already";
		break;
	case EBADF:
		why = "not a cgroup v2 directory";
		break;
	case ENOENT:
		why = "the cgroup is being removed";
		break;
	case EOPNOTSUPP:
		why = "this kernel cannot attach struct_ops to a cgroup (CONFIG_CGROUP_BPF?)";
		break;
	case EINVAL:
		why = "the kernel or libbpf rejected the attach flags or the map";
		break;
	case EPERM:
		why = "this needs root (CAP_SYS_ADMIN), or the nearest ancestor with a\n"
		      "policy attached it without --allow_override";
		break;
	default:
		return;
	}
	fprintf(stderr, "%s\n", why);
}

static int attach_policy(struct policy *p, __u32 flags)
{
	LIBBPF_OPTS(bpf_struct_ops_opts, opts,
		    .cgroup_fd = p->cg->fd,
		    .flags = flags);
	int err;

	p->link = bpf_map__attach_struct_ops_opts(p->map, &opts);
	if (p->link)
		return 0;
	err = errno;
	fprintf(stderr, "%s %s: cannot attach %s: %s\n", p->cg->opt,
		p->cg->path, bpf_map__name(p->map), strerror(err));
	explain_attach_error(err);
	return -1;
}

/* Set up the bpf_wq of the reclaim work: run the init program once. */
static int setup_reclaim_work(struct memcg *skel)
{
	LIBBPF_OPTS(bpf_test_run_opts, topts);
	int err;

	err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.init_reclaim_work),
				     &topts);
	if (err) {
		fprintf(stderr, "cannot run the reclaim work's init program: %s\n",
			strerror(errno));
		return -1;
	}
	if (topts.retval) {
		fprintf(stderr, "the reclaim work's init program failed at step %u\n",
			topts.retval);
		return -1;
	}
	return 0;
}

static __u64 now_ns(void)
{
	struct timespec ts;

	/* The clock of bpf_ktime_get_ns() */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/* high_active() of policy.bpf.c, as the policies see it now */
static bool high_active(const struct memcg__bss *bss, __u64 threshold)
{
	__u64 sec = now_ns() / NSEC_PER_SEC;
	unsigned int cur = sec & 1, prev = cur ^ 1;

	if (bss->fault_sec[prev] == sec - 1 && bss->fault_cnt[prev] > threshold)
		return true;
	return bss->fault_sec[cur] == sec && bss->fault_cnt[cur] > threshold;
}

/* The counters of policy.bpf.c, sampled */
struct counters {
	__u64 faults;
	__u64 protected;
	__u64 delays;
	__u64 kicks;
	__u64 runs;
	__u64 reclaimed;
	__u64 errors;
	__u64 rdelays;
	__u64 work_ns;
};

static void sample_counters(const struct memcg__bss *bss, struct counters *c)
{
	c->faults = bss->nr_faults;
	c->protected = bss->nr_protected;
	c->delays = bss->nr_delays;
	c->kicks = bss->nr_reclaim_kicks;
	c->runs = bss->nr_reclaim_runs;
	c->reclaimed = bss->nr_reclaimed_pages;
	c->errors = bss->nr_reclaim_errors;
	c->rdelays = bss->nr_reclaim_delays;
	c->work_ns = bss->nr_reclaim_work_ns;
}

/* ", name total (+change since the last line)" */
static void print_count(const char *name, __u64 cur, __u64 prev)
{
	printf(", %s %llu (+%llu)", name, (unsigned long long)cur,
	       (unsigned long long)(cur - prev));
}

static void print_stats(const struct memcg__bss *bss, const struct counters *cur,
			const struct counters *prev, bool active, bool protect)
{
	char tbuf[16], buf[32];
	struct tm tm;
	time_t t;

	t = time(NULL);
	localtime_r(&t, &tm);
	strftime(tbuf, sizeof(tbuf), "%H:%M:%S", &tm);
	printf("%s", tbuf);

	if (high.path) {
		printf(" | high: %llu faults/s, %s",
		       (unsigned long long)(cur->faults - prev->faults),
		       active ? "active" : "idle");
		if (protect)
			print_count("protected", cur->protected, prev->protected);
	}
	if (low.path) {
		printf(" | low");
		print_count("delays", cur->delays, prev->delays);
	}
	if (rcg.path) {
		if (read_cgroup_file(rcg.fd, "memory.current", buf, sizeof(buf)))
			printf(" | reclaim: usage ? MiB");
		else
			printf(" | reclaim: usage %llu MiB",
			       strtoull(buf, NULL, 10) >> 20);
		print_count("runs", cur->runs, prev->runs);
		print_count("pages", cur->reclaimed, prev->reclaimed);
		print_count("errors", cur->errors, prev->errors);
		if (bss->reclaim_delay_ms)
			print_count("delays", cur->rdelays, prev->rdelays);
		if (cur->errors)
			printf(" (last %ld)", bss->reclaim_last_error);
	}
	printf("\n");
	fflush(stdout);
}

static void print_summary(const struct memcg__bss *bss, const struct counters *c,
			  __u64 secs, __u64 active_secs, long page_size)
{
	printf("summary: %llu s", (unsigned long long)secs);
	if (high.path)
		printf(" | high: %llu faults, active %llu s, protected %llu",
		       (unsigned long long)c->faults,
		       (unsigned long long)active_secs,
		       (unsigned long long)c->protected);
	if (low.path)
		printf(" | low: delays %llu", (unsigned long long)c->delays);
	if (update_every)
		printf(" | updates %lu, failed %lu", nr_updates, nr_update_errors);
	if (rcg.path) {
		printf(" | reclaim: kicks %llu, runs %llu, pages %llu (%llu MiB), errors %llu",
		       (unsigned long long)c->kicks, (unsigned long long)c->runs,
		       (unsigned long long)c->reclaimed,
		       (unsigned long long)(c->reclaimed * page_size >> 20),
		       (unsigned long long)c->errors);
		printf(", delays %llu, work %llu ms", (unsigned long long)c->rdelays,
		       (unsigned long long)(c->work_ns / 1000000));
	}
	printf("\n");
	if (high.path) {
		__u32 k, n = bss->nr_grants;

		/* CLOCK_MONOTONIC, as bpf_ktime_get_ns(): for the demo's timing */
		printf("grants_ns:");
		for (k = 0; k < n && k < sizeof(bss->grant_ns) / sizeof(bss->grant_ns[0]); k++)
			printf(" %llu", (unsigned long long)bss->grant_ns[k]);
		printf("\n");
	}
	fflush(stdout);
}

/* Warn when memory.max comes before the trigger. */
static void check_trigger(__u64 trigger)
{
	char buf[32];

	if (read_cgroup_file(rcg.fd, "memory.max", buf, sizeof(buf)) ||
	    !strcmp(buf, "max"))
		return;
	if (trigger >= strtoull(buf, NULL, 10))
		fprintf(stderr,
			"warning: --reclaim_trigger is not below memory.max (%s) of %s\n",
			buf, rcg.path);
}

/*
 * Wait until CLOCK_MONOTONIC reaches @when. Return 1 if SIGINT or SIGTERM
 * came first, 0 else.
 */
static int wait_until(__u64 when, const sigset_t *sigs)
{
	struct timespec ts;
	__u64 now;
	int sig;

	while ((now = now_ns()) < when) {
		ts.tv_sec = (when - now) / NSEC_PER_SEC;
		ts.tv_nsec = (when - now) % NSEC_PER_SEC;
		sig = sigtimedwait(sigs, NULL, &ts);
		if (sig == SIGINT || sig == SIGTERM)
			return 1;
		if (sig < 0 && errno != EAGAIN && errno != EINTR) {
			fprintf(stderr, "sigtimedwait: %s\n", strerror(errno));
			return 1;
		}
	}
	return 0;
}

/* Switch high's link to the other protection map: BPF_LINK_UPDATE. */
static void update_policy(void)
{
	struct bpf_map *map = update_maps[updated->map == update_maps[0]];

	if (bpf_link_update(bpf_link__fd(updated->link), bpf_map__fd(map), NULL)) {
		nr_update_errors++;
		fprintf(stderr, "update failed: %s to %s: %s\n",
			updated->cg->path, bpf_map__name(map), strerror(errno));
		return;
	}
	updated->map = map;
	nr_updates++;
	printf("updated %s to %s\n", updated->cg->path, bpf_map__name(map));
}

/*
 * Print statistics every second until SIGINT or SIGTERM, or for @duration
 * seconds if not 0. Count in @secs the seconds run, in @active_secs those
 * at the end of which the high cgroup was active.
 */
static void run(const struct memcg *skel, __u64 duration, __u64 threshold,
		bool protect, const sigset_t *sigs, __u64 *secs, __u64 *active_secs)
{
	__u64 start = now_ns(), end = start + duration * NSEC_PER_SEC, tick;
	struct counters prev, cur;
	bool active, last;

	sample_counters(skel->bss, &prev);
	for (tick = 1; ; tick++) {
		last = duration && tick >= duration;
		if (wait_until(last ? end : start + tick * NSEC_PER_SEC, sigs))
			break;
		active = high.path && high_active(skel->bss, threshold);
		*active_secs += active;
		sample_counters(skel->bss, &cur);
		print_stats(skel->bss, &cur, &prev, active, protect);
		prev = cur;
		if (update_every && !(tick % update_every))
			update_policy();
		if (last)
			break;
	}
	*secs = (now_ns() - start + NSEC_PER_SEC / 2) / NSEC_PER_SEC;
}

static int bad_value(const char *prog, const char *opt, const char *val)
{
	fprintf(stderr, "%s: invalid value '%s' for --%s\n", prog, val, opt);
	print_help(stderr, prog);
	return 2;
}

static int bad_usage(const char *prog, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	print_help(stderr, prog);
	return 2;
}

static void add_policy(struct policy *policies, int *n, struct bpf_map *map,
		       struct cg *cg)
{
	policies[*n].map = map;
	policies[*n].cg = cg;
	(*n)++;
}

int main(int argc, char **argv)
{
	__u64 threshold = 0, delay_ms = 0, trigger = 0, target = 0, rdelay_ms = 0;
	__u64 duration = 0, secs = 0, active_secs = 0;
	bool have_threshold = false, have_trigger = false, have_target = false;
	bool below_low = false, below_min = false;
	long page_size = sysconf(_SC_PAGESIZE);
	struct policy policies[3] = {};
	struct memcg *skel = NULL;
	int opt, i, n = 0, ret = 1;
	struct counters total;
	struct bpf_map *map;
	__u32 flags = 0;
	sigset_t sigs;

	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case OPT_HIGH_PATH:
			high.path = optarg;
			break;
		case OPT_LOW_PATH:
			low.path = optarg;
			break;
		case OPT_THRESHOLD:
			if (parse_number(optarg, false, &threshold))
				return bad_value(argv[0], "threshold", optarg);
			have_threshold = true;
			break;
		case OPT_DELAY_MS:
			if (parse_number(optarg, false, &delay_ms) || !delay_ms ||
			    delay_ms > MAX_DELAY_MS)
				return bad_value(argv[0], "delay_ms", optarg);
			break;
		case OPT_USE_BELOW_LOW:
			below_low = true;
			break;
		case OPT_USE_BELOW_MIN:
			below_min = true;
			break;
		case OPT_RECLAIM_PATH:
			rcg.path = optarg;
			break;
		case OPT_RECLAIM_TRIGGER:
			if (parse_number(optarg, true, &trigger) || !trigger)
				return bad_value(argv[0], "reclaim_trigger", optarg);
			have_trigger = true;
			break;
		case OPT_RECLAIM_TARGET:
			if (parse_number(optarg, true, &target))
				return bad_value(argv[0], "reclaim_target", optarg);
			have_target = true;
			break;
		case OPT_RECLAIM_DELAY_MS:
			if (parse_number(optarg, false, &rdelay_ms) || !rdelay_ms ||
			    rdelay_ms > MAX_DELAY_MS)
				return bad_value(argv[0], "reclaim_delay_ms", optarg);
			break;
		case OPT_ALLOW_OVERRIDE:
			flags = BPF_F_ALLOW_OVERRIDE;
			break;
		case OPT_DURATION:
			if (parse_number(optarg, false, &duration) || !duration ||
			    duration > INT_MAX)
				return bad_value(argv[0], "duration", optarg);
			break;
		case OPT_VERBOSE:
			verbose = true;
			break;
		case OPT_UPDATE_EVERY:
			if (parse_number(optarg, false, &update_every) || !update_every ||
			    update_every > INT_MAX)
				return bad_value(argv[0], "update_every", optarg);
			break;
		case 'h':
			print_help(stdout, argv[0]);
			return 0;
		default:
			/* getopt_long() has said what is wrong */
			print_help(stderr, argv[0]);
			return 2;
		}
	}

	if (optind < argc)
		return bad_usage(argv[0], "unexpected argument '%s'", argv[optind]);
	if (!high.path && (low.path || have_threshold || below_low || below_min))
		return bad_usage(argv[0],
				 "--low_path, --threshold, --use_below_low and --use_below_min need --high_path");
	if (!high.path && !rcg.path)
		return bad_usage(argv[0], "--high_path or --reclaim_path is needed");
	if (!low.path != !delay_ms)
		return bad_usage(argv[0], "--low_path and --delay_ms go together");
	if (!rcg.path && rdelay_ms)
		return bad_usage(argv[0], "--reclaim_delay_ms needs --reclaim_path");
	if (!rcg.path != !have_trigger || !rcg.path != !have_target)
		return bad_usage(argv[0],
				 "--reclaim_path, --reclaim_trigger and --reclaim_target go together");
	if (rcg.path && target >= trigger)
		return bad_usage(argv[0], "--reclaim_target must be below --reclaim_trigger");
	if (update_every && below_low == below_min)
		return bad_usage(argv[0],
				 "--update_every needs one of --use_below_low and --use_below_min");

	libbpf_set_print(libbpf_print);

	/*
	 * SIGINT and SIGTERM are taken by sigtimedwait() while statistics
	 * are printed, and the policies are then detached; blocked from here
	 * on, they do not interrupt the setup halfway.
	 */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, NULL);

	/* --high_path alone only counts faults: no memcg_bpf_ops needed */
	if ((below_low || below_min || low.path || rcg.path) &&
	    check_kernel(!!rcg.path))
		goto out;

	if (high.path && open_cgroup(&high))
		goto out;
	if (low.path && open_cgroup(&low))
		goto out;
	if (rcg.path && open_cgroup(&rcg))
		goto out;
	if (low.path && low.id == high.id) {
		ret = bad_usage(argv[0], "--high_path and --low_path are the same cgroup");
		goto out;
	}
	if (rcg.path && high.path && rcg.id == high.id) {
		ret = bad_usage(argv[0], "--high_path and --reclaim_path are the same cgroup");
		goto out;
	}

	skel = memcg__open();
	if (!skel) {
		fprintf(stderr, "cannot open the BPF object: %s\n", strerror(errno));
		goto out;
	}

	/* The policies to attach: one per cgroup, for all its roles */
	if (below_low && below_min)
		add_policy(policies, &n, skel->maps.high_low_min_ops, &high);
	else if (below_low)
		add_policy(policies, &n, skel->maps.high_low_ops, &high);
	else if (below_min)
		add_policy(policies, &n, skel->maps.high_min_ops, &high);
	if (update_every) {
		updated = &policies[0];
		update_maps[0] = policies[0].map;
		update_maps[1] = below_low ? skel->maps.high_min_ops :
					     skel->maps.high_low_ops;
	}
	if (low.path && rcg.path && low.id == rcg.id) {
		add_policy(policies, &n, skel->maps.low_reclaim_ops, &low);
	} else {
		if (low.path)
			add_policy(policies, &n, skel->maps.low_ops, &low);
		if (rcg.path)
			add_policy(policies, &n, skel->maps.reclaim_ops, &rcg);
	}

	/*
	 * Create only the struct_ops maps to attach; libbpf then loads only
	 * the struct_ops programs that these maps use.
	 */
	bpf_object__for_each_map(map, skel->obj) {
		bool used = false;

		if (bpf_map__type(map) != BPF_MAP_TYPE_STRUCT_OPS)
			continue;
		for (i = 0; i < n; i++)
			used |= policies[i].map == map;
		used |= update_every && map == update_maps[1];
		bpf_map__set_autocreate(map, used);
	}
	bpf_program__set_autoload(skel->progs.count_high_faults, !!high.path);
	bpf_program__set_autoload(skel->progs.init_reclaim_work, !!rcg.path);

	skel->bss->high_cgid = high.id;
	skel->bss->fault_threshold = threshold;
	skel->bss->low_delay_ms = delay_ms;
	skel->bss->reclaim_cgid = rcg.id;
	skel->bss->reclaim_trigger_pages = trigger / page_size;
	skel->bss->reclaim_target_pages = target / page_size;
	skel->bss->reclaim_delay_ms = rdelay_ms;
	skel->bss->page_size = page_size;

	if (memcg__load(skel)) {
		fprintf(stderr, "cannot load the BPF programs: %s%s\n", strerror(errno),
			errno == EPERM ? " (this needs root)" : "");
		goto out;
	}

	if (rcg.path) {
		if (setup_reclaim_work(skel))
			goto out;
		check_trigger(trigger);
	}

	if (high.path) {
		skel->links.count_high_faults =
			bpf_program__attach(skel->progs.count_high_faults);
		if (!skel->links.count_high_faults) {
			fprintf(stderr, "cannot attach to the count_memcg_events tracepoint: %s\n",
				strerror(errno));
			goto out;
		}
	}

	/*
	 * A struct_ops map is registered (made ready for BPF_LINK_UPDATE) by
	 * its first attach: attach the other protection map once, then
	 * detach it.
	 */
	if (update_every) {
		struct policy other = { .map = update_maps[1], .cg = &high };

		if (attach_policy(&other, flags))
			goto out;
		bpf_link__destroy(other.link);
	}
	for (i = 0; i < n; i++) {
		if (attach_policy(&policies[i], flags))
			goto out;
		printf("attached %s to %s\n", bpf_map__name(policies[i].map),
		       policies[i].cg->path);
	}

	if (duration)
		printf("Running for %llu s, Ctrl-C to stop.\n",
		       (unsigned long long)duration);
	else
		printf("Running, Ctrl-C to stop.\n");
	fflush(stdout);

	run(skel, duration, threshold, below_low || below_min, &sigs, &secs,
	    &active_secs);
	ret = 0;

out:
	for (i = 0; i < n; i++) {
		if (policies[i].link && bpf_link__destroy(policies[i].link))
			fprintf(stderr, "cannot detach %s\n",
				bpf_map__name(policies[i].map));
	}
	if (!ret) {
		if (n)
			printf("detached\n");
		sample_counters(skel->bss, &total);
		print_summary(skel->bss, &total, secs, active_secs, page_size);
	}
	memcg__destroy(skel);
	close_cgroup(&rcg);
	close_cgroup(&low);
	close_cgroup(&high);
	return ret;
}
