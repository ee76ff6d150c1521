// SPDX-License-Identifier: GPL-2.0
/*
 * memcg_bpf_ops sample: prioritize a cgroup's memory over another's, and
 * reclaim a cgroup asynchronously. See memcg.bpf.c for the BPF side.
 *
 * Example, as root, with the memory controller enabled for the cgroups:
 *
 *   ./memcg --high_path /sys/fs/cgroup/high --low_path /sys/fs/cgroup/low \
 *	     --threshold 100 --delay_ms 50 --use_below_low
 *
 * While the tasks of "high" take more than 100 page faults per second,
 * every charge of "low" delays the charging task by 50 ms, and "high" is
 * protected from reclaim as if it were below memory.low.
 *
 *   ./memcg --reclaim_path /sys/fs/cgroup/batch \
 *	     --reclaim_trigger 512M --reclaim_target 256M
 *
 * When "batch" uses more than 512 MiB, a BPF workqueue reclaims from it
 * until it is back at 256 MiB.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
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

/* The kernel caps memcg_charged delays at memory.high's maximum, 2 s */
#define MAX_DELAY_MS	2000

#define NSEC_PER_SEC	1000000000ULL

struct cg {
	const char *path;
	int fd;
	__u64 id;
};

/* A struct_ops map and the cgroup to attach it to */
struct attachment {
	struct bpf_map *map;
	struct cg *cg;
	struct bpf_link *link;
};

static struct cg high = { .fd = -1 };
static struct cg low = { .fd = -1 };
static struct cg rcg = { .fd = -1 };

static bool verbose;

static const struct option long_options[] = {
	{ "high_path",		required_argument,	NULL, 'H' },
	{ "low_path",		required_argument,	NULL, 'L' },
	{ "threshold",		required_argument,	NULL, 't' },
	{ "delay_ms",		required_argument,	NULL, 'd' },
	{ "use_below_low",	no_argument,		NULL, 'l' },
	{ "use_below_min",	no_argument,		NULL, 'm' },
	{ "reclaim_path",	required_argument,	NULL, 'R' },
	{ "reclaim_trigger",	required_argument,	NULL, 'T' },
	{ "reclaim_target",	required_argument,	NULL, 'G' },
	{ "allow_override",	no_argument,		NULL, 'o' },
	{ "verbose",		no_argument,		NULL, 'v' },
	{ "help",		no_argument,		NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void print_help(FILE *out, const char *prog)
{
	fprintf(out,
		"Usage: %s [OPTIONS]\n"
		"\n"
		"Memory priority between two cgroups with memcg_bpf_ops:\n"
		"  --high_path PATH       high priority cgroup\n"
		"  --threshold N          page faults per second of the high cgroup\n"
		"                         above which it is active (default 0)\n"
		"  --low_path PATH        low priority cgroup\n"
		"  --delay_ms N           delay the charges of the low cgroup by N ms\n"
		"                         (1-%d) while the high cgroup is active\n"
		"  --use_below_low        protect the high cgroup while it is active\n"
		"                         through memory.low (below_low)\n"
		"  --use_below_min        same through memory.min (below_min)\n"
		"\n"
		"Asynchronous reclaim of a cgroup:\n"
		"  --reclaim_path PATH    cgroup to reclaim from\n"
		"  --reclaim_trigger SIZE start reclaiming above this usage\n"
		"  --reclaim_target SIZE  reclaim down to this usage\n"
		"                         (SIZE in bytes, or with a K, M or G suffix)\n"
		"\n"
		"  --allow_override       attach with BPF_F_ALLOW_OVERRIDE, so that\n"
		"                         descendants may attach their own ops (needed\n"
		"                         if one of the cgroups contains another)\n"
		"  --verbose              show libbpf debug output\n"
		"  --help                 show this help\n"
		"\n"
		"The high cgroup's page faults are counted for tasks directly in it.\n"
		"The policies apply to each cgroup and its descendants. While idle,\n"
		"the high cgroup has no memory.low/memory.min protection with\n"
		"--use_below_low/--use_below_min. Statistics are printed every\n"
		"second until SIGINT or SIGTERM.\n",
		prog, MAX_DELAY_MS);
}

static int libbpf_print_fn(enum libbpf_print_level level, const char *fmt,
			   va_list args)
{
	if (level == LIBBPF_DEBUG && !verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

/* Parse a decimal number, with a K, M or G suffix if @size. */
static int parse_u64(const char *s, bool size, __u64 *val)
{
	unsigned long long v, mult = 1;
	char *end;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	if (size && *end) {
		switch (*end) {
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
		end++;
	}
	if (*end || v > ~0ULL / mult)
		return -EINVAL;
	*val = v * mult;
	return 0;
}

/* Is "memory" in the cgroup's cgroup.controllers? */
static int cgroup_has_memory(int cgfd)
{
	char buf[512], *tok, *save;
	ssize_t len;
	int fd;

	fd = openat(cgfd, "cgroup.controllers", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len < 0)
		return -errno;
	buf[len] = '\0';

	for (tok = strtok_r(buf, "\n ", &save); tok;
	     tok = strtok_r(NULL, "\n ", &save)) {
		if (!strcmp(tok, "memory"))
			return 1;
	}
	return 0;
}

static int read_u64_at(int dirfd, const char *name, __u64 *val)
{
	char buf[32];
	ssize_t len;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len < 0)
		return -errno;
	buf[len] = '\0';
	*val = strtoull(buf, NULL, 10);
	return 0;
}

/* The cgroup id of a cgroup v2 directory is its file handle. */
static int cgroup_id(int fd, __u64 *id)
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

/* Open a cgroup v2 directory that has the memory controller. */
static int open_cgroup(struct cg *cg)
{
	struct statfs sfs;
	int err;

	cg->fd = open(cg->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg->fd < 0) {
		fprintf(stderr, "%s: cannot open cgroup: %s\n", cg->path,
			strerror(errno));
		return -1;
	}
	if (fstatfs(cg->fd, &sfs) || sfs.f_type != CGROUP2_SUPER_MAGIC) {
		fprintf(stderr, "%s: not a cgroup v2 directory\n", cg->path);
		return -1;
	}
	err = cgroup_id(cg->fd, &cg->id);
	if (err) {
		fprintf(stderr, "%s: cannot get the cgroup id: %s\n", cg->path,
			strerror(-err));
		return -1;
	}

	err = cgroup_has_memory(cg->fd);
	if (err < 0) {
		fprintf(stderr, "%s: cannot read cgroup.controllers: %s\n",
			cg->path, strerror(-err));
		return -1;
	}
	if (!err) {
		fprintf(stderr,
			"%s: the memory controller is not enabled for this cgroup;\n"
			"enable it with: echo +memory > %s/../cgroup.subtree_control\n",
			cg->path, cg->path);
		return -1;
	}
	return 0;
}

/* Does the running kernel have memcg_bpf_ops, and the reclaim kfunc? */
static int check_kernel(bool need_reclaim)
{
	struct btf *btf;
	int err = 0;

	btf = btf__load_vmlinux_btf();
	if (!btf) {
		fprintf(stderr,
			"cannot load the kernel BTF (/sys/kernel/btf/vmlinux): %s\n"
			"this sample needs a kernel with CONFIG_DEBUG_INFO_BTF\n",
			strerror(errno));
		return -1;
	}
	if (btf__find_by_name_kind(btf, "memcg_bpf_ops", BTF_KIND_STRUCT) < 0) {
		fprintf(stderr,
			"this kernel does not support memcg_bpf_ops (struct memcg_bpf_ops\n"
			"not found in its BTF): it needs CONFIG_MEMCG, CONFIG_BPF_SYSCALL\n"
			"and a version with the memcg_bpf_ops struct_ops\n");
		err = -1;
	} else if (need_reclaim &&
		   btf__find_by_name_kind(btf, "bpf_try_to_free_mem_cgroup_pages",
					  BTF_KIND_FUNC) < 0) {
		fprintf(stderr,
			"this kernel does not have the bpf_try_to_free_mem_cgroup_pages()\n"
			"kfunc needed by --reclaim_path\n");
		err = -1;
	}
	btf__free(btf);
	return err;
}

static struct bpf_link *attach_ops(struct bpf_map *map, struct cg *cg,
				   __u32 flags)
{
	LIBBPF_OPTS(bpf_struct_ops_opts, opts,
		    .cgroup_fd = cg->fd,
		    .flags = flags);
	struct bpf_link *link;
	int err;

	link = bpf_map__attach_struct_ops_opts(map, &opts);
	if (link)
		return link;

	err = errno;
	fprintf(stderr, "%s: cannot attach %s: %s\n", cg->path,
		bpf_map__name(map), strerror(err));
	switch (err) {
	case ENODEV:
		fprintf(stderr,
			"the memory controller is not enabled for this cgroup\n");
		break;
	case EBUSY:
		fprintf(stderr,
			"memcg_bpf_ops are attached to this cgroup already, or to an\n"
			"ancestor that does not allow overriding them, or (without\n"
			"--allow_override) to a descendant\n");
		break;
	case EBADF:
		fprintf(stderr, "not a cgroup v2 directory\n");
		break;
	case EOPNOTSUPP:
	case EINVAL:
		fprintf(stderr,
			"the kernel or libbpf cannot attach memcg_bpf_ops to a cgroup\n");
		break;
	case EPERM:
		fprintf(stderr, "this needs root (CAP_BPF and CAP_PERFMON)\n");
		break;
	}
	return NULL;
}

static __u64 now_ns(void)
{
	struct timespec ts;

	/* bpf_ktime_get_ns() is CLOCK_MONOTONIC */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/* Same as high_active() in memcg.bpf.c, with the last second's count. */
static bool high_status(const struct memcg__bss *bss, __u64 threshold,
			__u64 *last)
{
	__u64 sec = now_ns() / NSEC_PER_SEC;
	unsigned int cur = sec & 1, prev = (sec - 1) & 1;

	*last = bss->fault_sec[prev] == sec - 1 ? bss->fault_cnt[prev] : 0;
	if (*last > threshold)
		return true;
	return bss->fault_sec[cur] == sec && bss->fault_cnt[cur] > threshold;
}

static void print_stats(const struct memcg *skel, __u64 threshold,
			long page_size)
{
	static __u64 prev_delays, prev_reclaimed;
	const struct memcg__bss *bss = skel->bss;
	__u64 faults, delays, reclaimed;
	long long usage_mib;
	char tbuf[16];
	struct tm tm;
	time_t t;
	bool active;

	t = time(NULL);
	localtime_r(&t, &tm);
	strftime(tbuf, sizeof(tbuf), "%H:%M:%S", &tm);
	printf("%s", tbuf);

	if (high.path) {
		active = high_status(bss, threshold, &faults);
		printf(" | high: %llu faults/s, active %s, protected %llu",
		       (unsigned long long)faults, active ? "yes" : "no",
		       (unsigned long long)bss->nr_protected);
	}
	if (low.path) {
		delays = bss->nr_delays;
		printf(" | low: %llu delays (+%llu)",
		       (unsigned long long)delays,
		       (unsigned long long)(delays - prev_delays));
		prev_delays = delays;
	}
	if (rcg.path) {
		reclaimed = bss->nr_reclaimed_pages;
		/* An estimate, that may drift below 0 between two reads */
		usage_mib = bss->reclaim_usage_pages * page_size >> 20;
		printf(" | reclaim: usage ~%lld MiB, %llu runs, %llu pages (+%llu), %llu errors",
		       usage_mib > 0 ? usage_mib : 0,
		       (unsigned long long)bss->nr_reclaim_runs,
		       (unsigned long long)reclaimed,
		       (unsigned long long)(reclaimed - prev_reclaimed),
		       (unsigned long long)bss->nr_reclaim_errors);
		prev_reclaimed = reclaimed;
	}
	printf("\n");
	fflush(stdout);
}

static void add_attachment(struct attachment *att, int *n,
			   struct bpf_map *map, struct cg *cg)
{
	att[*n].map = map;
	att[*n].cg = cg;
	(*n)++;
}

static void close_cgroup(struct cg *cg)
{
	if (cg->fd >= 0)
		close(cg->fd);
	cg->fd = -1;
}

int main(int argc, char **argv)
{
	__u64 threshold = 0, delay_ms = 0, trigger = 0, target = 0, usage = 0;
	bool below_low = false, below_min = false, have_delay = false;
	bool have_trigger = false, have_target = false;
	long page_size = sysconf(_SC_PAGESIZE);
	int opt, longidx = 0, err, i, n = 0, ret = 1;
	struct timespec interval = { .tv_sec = 1 };
	struct attachment att[3] = {};
	sigset_t sigs;
	int sig;
	struct memcg *skel = NULL;
	struct bpf_map *map;
	__u32 flags = 0;

	while ((opt = getopt_long(argc, argv, "h", long_options,
				  &longidx)) != -1) {
		switch (opt) {
		case 'H':
			high.path = optarg;
			break;
		case 'L':
			low.path = optarg;
			break;
		case 't':
			if (parse_u64(optarg, false, &threshold))
				goto bad_value;
			break;
		case 'd':
			if (parse_u64(optarg, false, &delay_ms) || !delay_ms ||
			    delay_ms > MAX_DELAY_MS)
				goto bad_value;
			have_delay = true;
			break;
		case 'l':
			below_low = true;
			break;
		case 'm':
			below_min = true;
			break;
		case 'R':
			rcg.path = optarg;
			break;
		case 'T':
			if (parse_u64(optarg, true, &trigger))
				goto bad_value;
			have_trigger = true;
			break;
		case 'G':
			if (parse_u64(optarg, true, &target))
				goto bad_value;
			have_target = true;
			break;
		case 'o':
			flags = BPF_F_ALLOW_OVERRIDE;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			print_help(stdout, argv[0]);
			return 0;
		default:
			goto bad_usage;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", argv[0],
			argv[optind]);
		goto bad_usage;
	}

	if (!high.path && !rcg.path) {
		fprintf(stderr, "%s: nothing to do without --high_path or --reclaim_path\n",
			argv[0]);
		goto bad_usage;
	}
	if (high.path && !low.path && !below_low && !below_min) {
		fprintf(stderr,
			"%s: --high_path needs --low_path, --use_below_low or --use_below_min\n",
			argv[0]);
		goto bad_usage;
	}
	if (!high.path && (low.path || below_low || below_min)) {
		fprintf(stderr,
			"%s: --low_path, --use_below_low and --use_below_min need --high_path\n",
			argv[0]);
		goto bad_usage;
	}
	if (!low.path != !have_delay) {
		fprintf(stderr, "%s: --low_path and --delay_ms go together\n",
			argv[0]);
		goto bad_usage;
	}
	if (!rcg.path != !have_trigger || !rcg.path != !have_target) {
		fprintf(stderr,
			"%s: --reclaim_path, --reclaim_trigger and --reclaim_target go together\n",
			argv[0]);
		goto bad_usage;
	}
	if (rcg.path && (!trigger || target > trigger)) {
		fprintf(stderr,
			"%s: --reclaim_trigger must be above 0 and at least --reclaim_target\n",
			argv[0]);
		goto bad_usage;
	}

	libbpf_set_print(libbpf_print_fn);

	/*
	 * SIGINT and SIGTERM are taken with sigtimedwait() by the statistics
	 * loop; blocked from now on, they do not interrupt the setup.
	 */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, NULL);

	if (check_kernel(!!rcg.path))
		return 1;

	if (high.path && open_cgroup(&high))
		goto out;
	if (low.path && open_cgroup(&low))
		goto out;
	if (rcg.path && open_cgroup(&rcg))
		goto out;

	if (low.path && low.id == high.id) {
		fprintf(stderr, "%s: --high_path and --low_path are the same cgroup\n",
			argv[0]);
		ret = 2;
		goto out;
	}
	if (rcg.path && high.path && rcg.id == high.id) {
		fprintf(stderr,
			"%s: the high cgroup cannot also be the reclaim cgroup\n",
			argv[0]);
		ret = 2;
		goto out;
	}

	skel = memcg__open();
	if (!skel) {
		fprintf(stderr, "cannot open the BPF object: %s\n",
			strerror(errno));
		goto out;
	}

	skel->bss->high_cgid = high.id;
	skel->bss->fault_threshold = threshold;
	skel->bss->low_delay_ms = delay_ms;
	skel->bss->reclaim_cgid = rcg.id;
	skel->bss->reclaim_trigger = trigger;
	skel->bss->reclaim_target = target;
	skel->bss->page_size = page_size;

	/* One memcg_bpf_ops per cgroup, with all the hooks its roles need */
	if (below_low && below_min)
		add_attachment(att, &n, skel->maps.high_low_min_ops, &high);
	else if (below_low)
		add_attachment(att, &n, skel->maps.high_low_ops, &high);
	else if (below_min)
		add_attachment(att, &n, skel->maps.high_min_ops, &high);
	if (low.path && rcg.path && low.id == rcg.id) {
		add_attachment(att, &n, skel->maps.low_reclaim_ops, &low);
	} else {
		if (low.path)
			add_attachment(att, &n, skel->maps.low_ops, &low);
		if (rcg.path)
			add_attachment(att, &n, skel->maps.reclaim_ops, &rcg);
	}

	/*
	 * Create only the struct_ops maps to attach: libbpf then loads only
	 * the programs that these use.
	 */
	bpf_object__for_each_map(map, skel->obj) {
		bool needed = false;

		if (bpf_map__type(map) != BPF_MAP_TYPE_STRUCT_OPS)
			continue;
		for (i = 0; i < n; i++)
			needed |= att[i].map == map;
		bpf_map__set_autocreate(map, needed);
	}
	bpf_program__set_autoload(skel->progs.count_high_faults, !!high.path);

	err = memcg__load(skel);
	if (err) {
		fprintf(stderr, "cannot load the BPF programs: %s%s\n",
			strerror(-err),
			err == -EPERM ? " (this needs root)" : "");
		goto out;
	}

	/* Start from the current usage, the BPF side keeps it up to date */
	if (rcg.path && !read_u64_at(rcg.fd, "memory.current", &usage))
		skel->bss->reclaim_usage_pages = usage / page_size;

	if (high.path) {
		skel->links.count_high_faults =
			bpf_program__attach(skel->progs.count_high_faults);
		if (!skel->links.count_high_faults) {
			fprintf(stderr,
				"cannot attach to the memcg:count_memcg_events tracepoint: %s\n",
				strerror(errno));
			goto out;
		}
	}

	for (i = 0; i < n; i++) {
		att[i].link = attach_ops(att[i].map, att[i].cg, flags);
		if (!att[i].link)
			goto out;
		printf("attached %s to %s\n", bpf_map__name(att[i].map),
		       att[i].cg->path);
	}

	printf("Running, Ctrl-C to stop.\n");
	fflush(stdout);
	for (;;) {
		sig = sigtimedwait(&sigs, NULL, &interval);
		if (sig == SIGINT || sig == SIGTERM)
			break;
		if (sig < 0 && errno != EAGAIN && errno != EINTR) {
			fprintf(stderr, "sigtimedwait: %s\n", strerror(errno));
			break;
		}
		print_stats(skel, threshold, page_size);
	}
	printf("Detaching.\n");
	ret = 0;

out:
	for (i = 0; i < n; i++)
		bpf_link__destroy(att[i].link);
	memcg__destroy(skel);
	close_cgroup(&rcg);
	close_cgroup(&low);
	close_cgroup(&high);
	return ret;

bad_value:
	fprintf(stderr, "%s: invalid value '%s' for --%s\n", argv[0], optarg,
		long_options[longidx].name);
bad_usage:
	print_help(stderr, argv[0]);
	return 2;
}
