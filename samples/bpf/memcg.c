// SPDX-License-Identifier: GPL-2.0
/*
 * memcg_bpf_ops sample: memory priority between cgroups, and
 * asynchronous reclaim. memcg.bpf.c holds the policies.
 *
 *   ./memcg --low_path=/sys/fs/cgroup/low --high_path=/sys/fs/cgroup/high \
 *           --threshold=1 --use_below_min
 *
 * protects "high" as memory.min would while it takes more than one page
 * fault per second; --delay_ms=N also delays the tasks charging "low" by
 * N ms meanwhile. With --reclaim_path=/sys/fs/cgroup/batch
 * --reclaim_trigger=768M --reclaim_target=512M, a charge that finds
 * "batch" above 768 MiB makes a BPF work item reclaim it to 512 MiB.
 *
 * Statistics are printed every second; Ctrl-C detaches and exits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "memcg.skel.h"

#define UNSET	(~0ULL)

struct cg {
	const char *path;
	char *real;	/* realpath() */
	int fd;
	__u64 id;
};

static struct cg high = { .fd = -1 }, low = { .fd = -1 }, rcg = { .fd = -1 };
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static const char usage_text[] =
	"Usage: %s [--high_path=PATH [--threshold=N] [--use_below_low] [--use_below_min]\n"
	"          [--low_path=PATH [--delay_ms=N]]]\n"
	"          [--reclaim_path=PATH --reclaim_trigger=SIZE --reclaim_target=SIZE]\n"
	"\n"
	"  --high_path=PATH       high priority cgroup, active while its subtree takes\n"
	"                         more than --threshold page faults per second\n"
	"  --threshold=N          default 0\n"
	"  --use_below_low        while high is active, reclaim treats it as protected\n"
	"                         by memory.low\n"
	"  --use_below_min        the same with memory.min: it can OOM high's siblings\n"
	"  --low_path=PATH        low priority cgroup\n"
	"  --delay_ms=N           while high is active, a task charging low sleeps N ms\n"
	"                         (the kernel caps each sleep at 2 s)\n"
	"  --reclaim_path=PATH    cgroup to reclaim from in the background\n"
	"  --reclaim_trigger=SIZE when a charge finds its usage above SIZE ...\n"
	"  --reclaim_target=SIZE  ... reclaim it down to SIZE (bytes, or K, M, G)\n"
	"  -h, --help             this help\n"
	"\n"
	"Dashes work in place of the underscores. A policy covers its cgroup's\n"
	"descendants too; a cgroup has one policy, so the PATHs of the policies\n"
	"must not be the same or nested.\n";

static void print_usage(FILE *f, const char *prog)
{
	fprintf(f, usage_text, prog);
}

/* A decimal number; with @suffix, K, M or G may follow it. */
static int parse_num(const char *s, bool suffix, __u64 *val)
{
	unsigned int shift = 0;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*val = strtoull(s, &end, 10);
	if (suffix && *end && !end[1]) {
		switch (*end++ | 0x20) {	/* lower case */
		case 'k':
			shift = 10;
			break;
		case 'm':
			shift = 20;
			break;
		case 'g':
			shift = 30;
			break;
		default:
			return -1;
		}
	}
	if (errno || *end || *val > (~0ULL >> shift))
		return -1;
	*val <<= shift;
	return 0;
}

/* Open a cgroup v2 directory; its id is its file handle. */
static int open_cgroup(struct cg *cg, const char *opt)
{
	struct {
		struct file_handle fh;
		__u64 id;
	} h = { .fh.handle_bytes = sizeof(__u64) };
	struct statfs sfs;
	int mnt_id;

	cg->fd = open(cg->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg->fd < 0) {
		fprintf(stderr, "--%s=%s: %s\n", opt, cg->path, strerror(errno));
		return -1;
	}
	if (fstatfs(cg->fd, &sfs) || sfs.f_type != CGROUP2_SUPER_MAGIC ||
	    name_to_handle_at(cg->fd, "", &h.fh, &mnt_id, AT_EMPTY_PATH)) {
		fprintf(stderr, "--%s=%s: not a cgroup v2 directory\n", opt, cg->path);
		return -1;
	}
	memcpy(&cg->id, h.fh.f_handle, sizeof(cg->id));
	cg->real = realpath(cg->path, NULL);
	return cg->real ? 0 : -1;
}

/* Is @a @b, or is one of them inside the other? */
static bool nested(const struct cg *a, const struct cg *b)
{
	size_t la = strlen(a->real), lb = strlen(b->real);
	size_t n = la < lb ? la : lb;

	return !strncmp(a->real, b->real, n) &&
	       (la == lb || (la < lb ? b->real : a->real)[n] == '/');
}

static struct bpf_link *attach_policy(struct bpf_map *map, struct cg *cg)
{
	/* The flag says that cgroup_fd is a cgroup, even if it is fd 0 */
	LIBBPF_OPTS(bpf_struct_ops_opts, opts, .cgroup_fd = cg->fd,
		    .flags = BPF_F_CGROUP_FD);
	struct bpf_link *link;
	const char *why = "";

	if (stop)
		return NULL;
	link = bpf_map__attach_struct_ops_opts(map, &opts);
	if (link)
		return link;
	switch (errno) {
	case EBUSY:
		why = " (it has a policy already)";
		break;
	case EPERM:
		why = " (root needed, or an ancestor's policy forbids overrides)";
		break;
	case ENODEV:
		why = " (the memory controller is not enabled for it)";
		break;
	case EBADF:
		why = " (not a cgroup v2 directory)";
		break;
	}
	fprintf(stderr, "%s: cannot attach %s: %s%s\n", cg->path,
		bpf_map__name(map), strerror(errno), why);
	return NULL;
}

static void print_stats(struct memcg__bss *bss, __u64 *last_faults)
{
	printf("high: %llu faults/s, %llu protected | ",
	       bss->nr_faults - *last_faults, bss->nr_protected);
	printf("low: %llu delayed | reclaim: %llu calls, %llu pages\n",
	       bss->nr_delayed, bss->nr_reclaim_runs, bss->nr_reclaimed);
	fflush(stdout);
	*last_faults = bss->nr_faults;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "high_path", required_argument, NULL, 'H' },
		{ "threshold", required_argument, NULL, 't' },
		{ "use_below_low", no_argument, NULL, 'l' },
		{ "use_below_min", no_argument, NULL, 'm' },
		{ "low_path", required_argument, NULL, 'L' },
		{ "delay_ms", required_argument, NULL, 'd' },
		{ "reclaim_path", required_argument, NULL, 'R' },
		{ "reclaim_trigger", required_argument, NULL, 'T' },
		{ "reclaim_target", required_argument, NULL, 'G' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	__u64 threshold = 0, delay = 0, trigger = UNSET, target = UNSET, faults = 0;
	struct bpf_link *links[4] = {};
	bool below_low = false, below_min = false;
	struct sigaction sa = { .sa_handler = on_signal };
	struct memcg *skel = NULL;
	int opt, i, err = 1;
	char *p;

	/* Ctrl-C at any point detaches what is attached and exits 0 */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	/* --high-path is --high_path */
	for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
		for (p = argv[i] + 2; argv[i][0] == '-' && argv[i][1] == '-' &&
		     *p && *p != '='; p++)
			if (*p == '-')
				*p = '_';

	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'H':
			high.path = optarg;
			break;
		case 'L':
			low.path = optarg;
			break;
		case 'R':
			rcg.path = optarg;
			break;
		case 'l':
			below_low = true;
			break;
		case 'm':
			below_min = true;
			break;
		case 't':
		case 'd':
		case 'T':
		case 'G':
			if (!parse_num(optarg, opt == 'T' || opt == 'G',
				       opt == 't' ? &threshold : opt == 'd' ? &delay :
				       opt == 'T' ? &trigger : &target))
				break;
			fprintf(stderr, "%s: invalid number: %s\n", argv[0], optarg);
			return 2;
		case 'h':
			print_usage(stdout, argv[0]);
			return 0;
		default:
			print_usage(stderr, argv[0]);
			return 2;
		}
	}
	p = NULL;
	if (optind < argc)
		p = "unexpected argument";
	else if (!high.path && !rcg.path)
		p = "give --high_path, --reclaim_path or both";
	else if (!high.path && (low.path || threshold || below_low || below_min))
		p = "--low_path, --threshold and --use_below_* need --high_path";
	else if (delay && !low.path)
		p = "--delay_ms needs --low_path";
	else if (delay > 100000)
		p = "--delay_ms: at most 100000";
	else if (!rcg.path != (trigger == UNSET) || !rcg.path != (target == UNSET))
		p = "--reclaim_path, --reclaim_trigger and --reclaim_target go together";
	else if (rcg.path && target >= trigger)
		p = "--reclaim_target must be below --reclaim_trigger";
	if (p) {
		fprintf(stderr, "%s: %s (see --help)\n", argv[0], p);
		return 2;
	}

	err = 2;
	if ((high.path && open_cgroup(&high, "high_path")) ||
	    (low.path && open_cgroup(&low, "low_path")) ||
	    (rcg.path && open_cgroup(&rcg, "reclaim_path")))
		goto out;
	if (((below_low || below_min) && delay && nested(&high, &low)) ||
	    ((below_low || below_min) && rcg.path && nested(&high, &rcg)) ||
	    (delay && rcg.path && nested(&low, &rcg))) {
		fprintf(stderr, "%s: one policy per cgroup: PATHs must not be the same or nested\n",
			argv[0]);
		goto out;
	}
	if (low.path && !delay)
		printf("--low_path without --delay_ms: %s is left alone\n", low.path);
	err = 1;

	skel = memcg__open();
	if (!skel)
		goto out;
	skel->rodata->high_cgid = high.id;
	skel->rodata->threshold = threshold;
	skel->rodata->use_below_low = below_low;
	skel->rodata->use_below_min = below_min;
	skel->rodata->delay_ms = delay;
	skel->rodata->reclaim_cgid = rcg.id;
	skel->rodata->trigger_pages = trigger / getpagesize();
	skel->rodata->target_pages = target / getpagesize();
	skel->rodata->page_size = getpagesize();
	/* Only what the options ask for is loaded */
	bpf_program__set_autoload(skel->progs.count_faults, high.path);
	bpf_map__set_autocreate(skel->maps.high_ops, below_low || below_min);
	bpf_map__set_autocreate(skel->maps.low_ops, delay);
	bpf_map__set_autocreate(skel->maps.reclaim_ops, rcg.path);
	bpf_program__set_autoload(skel->progs.init_work, rcg.path);
	if (stop || memcg__load(skel)) {
		if (!stop)
			fprintf(stderr, "%s: cannot load the policies (%s): CONFIG_MEMCG_BPF=y?\n",
				argv[0], strerror(errno));
		goto out;
	}
	if (rcg.path) {
		LIBBPF_OPTS(bpf_test_run_opts, topts);

		if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.init_work),
					   &topts) || topts.retval) {
			fprintf(stderr, "%s: cannot set up the reclaim work\n", argv[0]);
			goto out;
		}
		links[0] = attach_policy(skel->maps.reclaim_ops, &rcg);
		if (!links[0])
			goto out;
	}
	if (high.path && !stop) {
		links[1] = bpf_program__attach(skel->progs.count_faults);
		if (!links[1])
			goto out;
	}
	if (below_low || below_min) {
		links[2] = attach_policy(skel->maps.high_ops, &high);
		if (!links[2])
			goto out;
	}
	if (delay) {
		links[3] = attach_policy(skel->maps.low_ops, &low);
		if (!links[3])
			goto out;
	}
	printf("Successfully attached!\n");
	while (!stop) {
		sleep(1);
		print_stats(skel->bss, &faults);
	}
out:
	for (i = 0; i < 4; i++)
		bpf_link__destroy(links[i]);
	memcg__destroy(skel);
	free(high.real);
	free(low.real);
	free(rcg.real);
	if (high.fd >= 0)
		close(high.fd);
	if (low.fd >= 0)
		close(low.fd);
	if (rcg.fd >= 0)
		close(rcg.fd);
	return stop ? 0 : err;
}
