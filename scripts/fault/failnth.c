// SPDX-License-Identifier: GPL-2.0
/*
 * Systematic fault injection into the control path of memcg_bpf_ops, run
 * by scripts/fault.sh in the VM on a kernel with CONFIG_FAULT_INJECTION,
 * FAILSLAB and FAIL_PAGE_ALLOC (the debug kernel). For each operation, the
 * n-th allocation the kernel makes for it fails (/proc/thread-self/
 * fail-nth), for n = 1, 2, ... until the operation completes without an
 * injected failure CLEAN_ROUNDS times in a row. After every injected
 * failure the operation must have returned a documented errno or
 * succeeded, and the policies' online and offline calls must say that
 * exactly the expected policy governs each cgroup of the test's subtree,
 * no more and no less; the next round attaching again shows that a new
 * attach works.
 *
 * Prints one line per operation: the number of failure points exercised,
 * the errnos seen, and OK or FAIL; the last line is "failnth: OK" or
 * "failnth: FAIL". Kernel splats and kmemleak are checked by the runner.
 *
 *   failnth [-d descendants] [-o operation] [-m max_points] [-n]
 * -n: no fault injection (each operation once, checked): the tool's own
 * test, on any kernel.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "memcg.skel.h"

#define ROOT		"/sys/fs/cgroup"
#define TOP		ROOT "/failnth"
#define MAX_IDS		64
#define WAIT_MS		10000
/*
 * The number of allocations an operation makes varies a little from one
 * round to the next (a slab or percpu chunk refilled, a BPF program pack):
 * the loop ends after this many rounds in a row without an injected
 * failure, not at the first.
 */
#define CLEAN_ROUNDS	3

enum gov { NONE, POLICY_A, POLICY_B };

static struct memcg *skel;
static int fail_fd, top_fd, counts_fd, nr_ids, failures, clean_rounds;
static __u32 errors_seen;	/* the policies' error count, as last reported */
static __u64 ids[MAX_IDS];		/* the subtree: TOP and its descendants */
static char paths[MAX_IDS][64];
static int max_points = 5000;
static bool dry;		/* -n: no fault injected */

struct count {
	__u32 online[2];
	__u32 offline[2];
};

static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("  FAIL: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	failures++;
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static __u64 cgroup_id(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : st.st_ino;
}

/* The n-th fault of this thread from now on fails; 0: none */
static void set_fail_nth(int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%d", n);

	if (dry)
		return;
	if (pwrite(fail_fd, buf, len, 0) != len) {
		perror("fail-nth");
		exit(2);
	}
}

/* Whether the fault set up by set_fail_nth() was injected */
static bool injected(void)
{
	char buf[16] = "";

	if (dry)
		return false;
	if (pread(fail_fd, buf, sizeof(buf) - 1, 0) <= 0) {
		perror("fail-nth");
		exit(2);
	}
	return atoi(buf) == 0;
}

static void get_count(__u64 id, struct count *c)
{
	memset(c, 0, sizeof(*c));
	bpf_map_lookup_elem(counts_fd, &id, c);
}

/* Which policy governs cgroup @id, by its online and offline calls */
static int governing(__u64 id, bool *sane)
{
	struct count c;
	int a, b;

	get_count(id, &c);
	a = c.online[0] - c.offline[0];
	b = c.online[1] - c.offline[1];
	*sane = a >= 0 && a <= 1 && b >= 0 && b <= 1 && a + b <= 1;
	return a ? POLICY_A : b ? POLICY_B : NONE;
}

/*
 * Wait until every cgroup of the subtree is governed by @want (offline
 * calls of a detach may come from a worker), and every other cgroup the
 * policies ever saw by none. Reports a failure after WAIT_MS.
 */
static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static bool check(int want, const char *what, int n)
{
	struct timespec ts = { 0, 1000000 };
	long long deadline = now_ms() + WAIT_MS;
	__u64 key, next, *prev, gone[MAX_IDS];
	int i, nr_gone;
	bool ok, sane;

	do {
		ok = true;
		nr_gone = 0;
		for (i = 0; i < nr_ids && ok; i++)
			ok = governing(ids[i], &sane) == want && sane;
		/* cgroups created and removed along the way: none governed */
		for (prev = NULL; ok && !bpf_map_get_next_key(counts_fd, prev, &next);
		     prev = &key) {
			key = next;
			for (i = 0; i < nr_ids && ids[i] != key; i++)
				;
			if (i < nr_ids)
				continue;
			ok = governing(key, &sane) == NONE && sane;
			if (nr_gone < MAX_IDS)
				gone[nr_gone++] = key;
		}
		if (ok && skel->bss->errors == errors_seen) {
			/* Removed cgroups with balanced counts: no call is due */
			for (i = 0; i < nr_gone; i++)
				bpf_map_delete_elem(counts_fd, &gone[i]);
			return true;
		}
		nanosleep(&ts, NULL);
	} while (now_ms() < deadline);
	if (skel->bss->errors != errors_seen) {
		fail("%s, fault %d: the policies could not count %u call(s)", what, n,
		     skel->bss->errors - errors_seen);
		errors_seen = skel->bss->errors;
		return false;
	}
	fail("%s, fault %d: the subtree is not governed by policy %d as it should be",
	     what, n, want);
	for (i = 0; i < nr_ids; i++) {
		struct count c;

		get_count(ids[i], &c);
		printf("    %s: a %u/%u b %u/%u\n", paths[i], c.online[0], c.offline[0],
		       c.online[1], c.offline[1]);
	}
	return false;
}

/* errnos seen by one operation */
struct op {
	const char *name;
	int points;		/* faults injected */
	int ok_after_fault;	/* times it succeeded although a fault was injected */
	int errs[8][2];		/* errno, times */
	int start_failures;
};

static void note_err(struct op *op, int err, int n, const int *allowed)
{
	int i;

	for (i = 0; i < 8 && op->errs[i][0] && op->errs[i][0] != err; i++)
		;
	if (i < 8) {
		op->errs[i][0] = err;
		op->errs[i][1]++;
	}
	for (; *allowed; allowed++)
		if (*allowed == err)
			return;
	fail("%s, fault %d: errno %d (%s) is not documented", op->name, n, err, strerror(err));
}

static void op_start(struct op *op)
{
	op->start_failures = failures;
	printf("%s:\n", op->name);
	fflush(stdout);
}

static void op_end(struct op *op)
{
	int i;

	if (clean_rounds < CLEAN_ROUNDS && failures == op->start_failures)
		fail("%s: more than %d failure points, not all exercised", op->name, max_points);
	printf("%s: %d failure points exercised, %d survived by success, errnos:",
	       op->name, op->points, op->ok_after_fault);
	for (i = 0; i < 8 && op->errs[i][0]; i++)
		printf(" %s x%d", strerror(op->errs[i][0]), op->errs[i][1]);
	printf("%s%s: %s\n", i ? "" : " none",
	       op->points || dry ? "" : " (the syscall allocated nothing)",
	       failures == op->start_failures ? "OK" : "FAIL");
	fflush(stdout);
}

static int link_create(int map_fd)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = BPF_F_CGROUP_FD);

	return bpf_link_create(map_fd, top_fd, BPF_STRUCT_OPS, &opts);
}

/* Policy a on TOP, without fault: the link's fd, or -1 (a failure noted) */
static int attach_a(const struct op *op)
{
	int fd = link_create(bpf_map__fd(skel->maps.policy_a));

	if (fd < 0) {
		fail("%s: attach: %s", op->name, strerror(errno));
		return -1;
	}
	check(POLICY_A, op->name, 0);
	return fd;
}

/*
 * For n = 1, 2, ...: the body arms the n-th fault, runs the operation
 * and sets @inj to whether the fault was injected; the loop ends after
 * CLEAN_ROUNDS rounds in a row without one (or after max_points rounds).
 */
#define FOR_EACH_FAULT(n, inj)						\
	for (n = 1, inj = true, clean_rounds = 0;			\
	     clean_rounds < CLEAN_ROUNDS && n <= max_points;		\
	     n++, clean_rounds = inj ? 0 : clean_rounds + 1)

static const int only_enomem[] = { ENOMEM, 0 };

/* BPF_LINK_CREATE of a policy on TOP, which has descendants */
static void test_link_create(void)
{
	struct op op = { .name = "link_create" };
	int n, fd, err, map_fd = bpf_map__fd(skel->maps.policy_a);
	bool inj;

	op_start(&op);
	FOR_EACH_FAULT(n, inj) {
		set_fail_nth(n);
		fd = link_create(map_fd);
		err = fd < 0 ? errno : 0;
		inj = injected();
		set_fail_nth(0);
		op.points += inj;
		if (fd >= 0) {
			op.ok_after_fault += inj;
			check(POLICY_A, op.name, n);
			close(fd);
			check(NONE, op.name, n);
		} else {
			note_err(&op, err, n, only_enomem);
			check(NONE, op.name, n);
		}
	}
	op_end(&op);
}

/*
 * The registration of a struct_ops map (its BPF_MAP_UPDATE_ELEM, in
 * bpf_map__attach_struct_ops_opts()) and its first link: a new copy of
 * the object for each round, its counts map shared.
 */
static void test_register(void)
{
	LIBBPF_OPTS(bpf_struct_ops_opts, opts, .cgroup_fd = top_fd);
	struct op op = { .name = "register" };
	struct bpf_link *link;
	struct memcg *s;
	struct bpf_map *m;
	int n, err;
	bool inj;

	op_start(&op);
	FOR_EACH_FAULT(n, inj) {
		s = memcg__open();
		if (!s) {
			fail("open");
			break;
		}
		bpf_object__for_each_map(m, s->obj)
			if (bpf_map__type(m) == BPF_MAP_TYPE_STRUCT_OPS && m != s->maps.policy_c)
				bpf_map__set_autocreate(m, false);
		bpf_program__set_autoload(s->progs.reclaim, false);
		if (bpf_map__reuse_fd(s->maps.counts, counts_fd) || memcg__load(s)) {
			fail("load");
			memcg__destroy(s);
			break;
		}
		set_fail_nth(n);
		link = bpf_map__attach_struct_ops_opts(s->maps.policy_c, &opts);
		err = link ? 0 : errno;
		inj = injected();
		set_fail_nth(0);
		op.points += inj;
		if (link) {
			op.ok_after_fault += inj;
			check(POLICY_A, op.name, n);
			bpf_link__destroy(link);
		} else {
			note_err(&op, err, n, only_enomem);
		}
		check(NONE, op.name, n);
		memcg__destroy(s);
	}
	op_end(&op);
}

/* BPF_LINK_UPDATE from policy a to policy b */
static void test_update(void)
{
	LIBBPF_OPTS(bpf_link_update_opts, opts);
	struct op op = { .name = "link_update" };
	int a = bpf_map__fd(skel->maps.policy_a), b = bpf_map__fd(skel->maps.policy_b);
	int n, fd, err;
	bool inj;

	op_start(&op);
	fd = attach_a(&op);
	if (fd < 0)
		return;
	FOR_EACH_FAULT(n, inj) {
		set_fail_nth(n);
		err = bpf_link_update(fd, b, &opts) ? errno : 0;
		inj = injected();
		set_fail_nth(0);
		op.points += inj;
		if (!err) {
			op.ok_after_fault += inj;
			check(POLICY_B, op.name, n);
			if (bpf_link_update(fd, a, &opts))
				fail("update back to a: %s", strerror(errno));
		} else {
			note_err(&op, err, n, only_enomem);
		}
		check(POLICY_A, op.name, n);
	}
	close(fd);
	check(NONE, op.name, n);
	op_end(&op);
}

/* The last close of a link: the policy goes, whatever fails */
static void test_close(void)
{
	struct op op = { .name = "link_close" };
	int n, fd, a = bpf_map__fd(skel->maps.policy_a);
	bool inj;

	op_start(&op);
	FOR_EACH_FAULT(n, inj) {
		fd = link_create(a);
		if (fd < 0) {
			fail("attach after fault %d: %s", n - 1, strerror(errno));
			break;
		}
		check(POLICY_A, op.name, n);
		set_fail_nth(n);
		close(fd);
		inj = injected();
		set_fail_nth(0);
		op.points += inj;
		check(NONE, op.name, n);
	}
	op_end(&op);
}

/* mkdir and rmdir of a cgroup under a policy */
static void test_mkdir_rmdir(bool do_rmdir)
{
	struct op op = { .name = do_rmdir ? "rmdir" : "mkdir" };
	const char *path = TOP "/new";
	int n, fd, err;
	bool inj;
	__u64 id;

	op_start(&op);
	fd = attach_a(&op);
	if (fd < 0)
		return;
	FOR_EACH_FAULT(n, inj) {
		if (do_rmdir && mkdir(path, 0755)) {
			fail("mkdir: %s", strerror(errno));
			break;
		}
		set_fail_nth(n);
		err = (do_rmdir ? rmdir(path) : mkdir(path, 0755)) ? errno : 0;
		inj = injected();
		set_fail_nth(0);
		op.points += inj;
		op.ok_after_fault += inj && !err;
		if (err)
			note_err(&op, err, n, only_enomem);
		id = cgroup_id(path);
		if (!do_rmdir && !err && !id)
			fail("%s, fault %d: mkdir succeeded, no cgroup", op.name, n);
		if (!do_rmdir && err && id)
			fail("%s, fault %d: mkdir failed, the cgroup is there", op.name, n);
		if (do_rmdir && !err && id)
			fail("%s, fault %d: rmdir succeeded, the cgroup is there", op.name, n);
		if (id) {
			/* Present: governed by a, as the rest of the subtree */
			ids[nr_ids] = id;
			snprintf(paths[nr_ids], sizeof(paths[0]), "%s", path);
			nr_ids++;
			check(POLICY_A, op.name, n);
			nr_ids--;
			if (rmdir(path))
				fail("rmdir: %s", strerror(errno));
		}
		check(POLICY_A, op.name, n);
	}
	close(fd);
	check(NONE, op.name, n);
	op_end(&op);
}

/* The kfunc, from a syscall program, on a cgroup that holds memory */
static void test_kfunc(void)
{
	LIBBPF_OPTS(bpf_test_run_opts, topts);
	struct op op = { .name = "kfunc" };
	int n, err, prog = bpf_program__fd(skel->progs.reclaim);
	int stop[2];
	pid_t pid;
	bool inj;
	char c;

	op_start(&op);
	if (pipe(stop)) {
		fail("pipe");
		return;
	}
	/* A child in TOP/d0/e holds 16 MB of shmem (a memfd) */
	pid = fork();
	if (!pid) {
		static char buf[65536];
		char s[16];
		int i, fd;

		close(stop[1]);
		snprintf(s, sizeof(s), "%d", getpid());
		if (write_file(TOP "/d0/e/cgroup.procs", s) < 0)
			_exit(1);
		fd = memfd_create("failnth", 0);
		memset(buf, 1, sizeof(buf));
		for (i = 0; fd >= 0 && i < 256; i++)
			if (write(fd, buf, sizeof(buf)) != sizeof(buf))
				_exit(2);
		while (read(stop[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(stop[0]);
	skel->bss->reclaim_cgid = cgroup_id(TOP "/d0/e");
	skel->bss->reclaim_pages = 64;
	FOR_EACH_FAULT(n, inj) {
		skel->bss->reclaim_result = -12345;
		set_fail_nth(n);
		err = bpf_prog_test_run_opts(prog, &topts) ? errno : 0;
		inj = injected();
		set_fail_nth(0);
		op.points += inj;
		if (err) {
			note_err(&op, err, n, only_enomem);
			continue;
		}
		op.ok_after_fault += inj;
		if (topts.retval || skel->bss->reclaim_result < 0)
			fail("%s, fault %d: retval %u, result %ld", op.name, n, topts.retval,
			     skel->bss->reclaim_result);
	}
	close(stop[1]);
	waitpid(pid, NULL, 0);
	op_end(&op);
}

/* TOP with @nr children, each with a child of its own */
static int make_subtree(int nr)
{
	char path[64];
	int i;

	write_file(ROOT "/cgroup.subtree_control", "+memory");
	if (mkdir(TOP, 0755) && errno != EEXIST)
		return -errno;
	write_file(TOP "/cgroup.subtree_control", "+memory");
	snprintf(paths[nr_ids], sizeof(paths[0]), "%s", TOP);
	ids[nr_ids++] = cgroup_id(TOP);
	for (i = 0; i < nr && nr_ids + 2 < MAX_IDS - 1; i++) {
		snprintf(path, sizeof(path), TOP "/d%d", i);
		if (mkdir(path, 0755))
			return -errno;
		snprintf(paths[nr_ids], sizeof(paths[0]), "%s", path);
		ids[nr_ids++] = cgroup_id(path);
		snprintf(path, sizeof(path), TOP "/d%d/cgroup.subtree_control", i);
		write_file(path, "+memory");
		snprintf(path, sizeof(path), TOP "/d%d/e", i);
		if (mkdir(path, 0755))
			return -errno;
		snprintf(paths[nr_ids], sizeof(paths[0]), "%s", path);
		ids[nr_ids++] = cgroup_id(path);
	}
	return 0;
}

static void remove_subtree(void)
{
	while (nr_ids > 0) {
		nr_ids--;
		if (rmdir(paths[nr_ids]) && errno != ENOENT)
			fprintf(stderr, "rmdir %s: %s\n", paths[nr_ids], strerror(errno));
	}
}

int main(int argc, char **argv)
{
	const char *only = NULL;
	int opt, nr = 4;

	while ((opt = getopt(argc, argv, "d:o:m:n")) != -1) {
		switch (opt) {
		case 'd':
			nr = atoi(optarg);
			break;
		case 'o':
			only = optarg;
			break;
		case 'm':
			max_points = atoi(optarg);
			break;
		case 'n':
			dry = true;
			break;
		default:
			fprintf(stderr, "usage: %s [-d descendants] [-o operation] [-m max] [-n]\n",
				argv[0]);
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	fail_fd = dry ? -1 : open("/proc/thread-self/fail-nth", O_RDWR);
	if (fail_fd < 0 && !dry) {
		perror("/proc/thread-self/fail-nth (CONFIG_FAULT_INJECTION?)");
		return 2;
	}
	skel = memcg__open();
	if (!skel) {
		perror("open");
		return 2;
	}
	bpf_map__set_autocreate(skel->maps.policy_c, false);
	if (memcg__load(skel)) {
		perror("load");
		return 2;
	}
	counts_fd = bpf_map__fd(skel->maps.counts);
	if (make_subtree(nr)) {
		perror("cgroups");
		remove_subtree();
		return 2;
	}
	top_fd = open(TOP, O_RDONLY | O_DIRECTORY);
	/* Register both policies once, then detach: link_create reuses them */
	{
		LIBBPF_OPTS(bpf_struct_ops_opts, o, .cgroup_fd = top_fd);
		struct bpf_link *la = bpf_map__attach_struct_ops_opts(skel->maps.policy_a, &o);
		struct bpf_link *lb;

		check(POLICY_A, "setup", 0);
		bpf_link__destroy(la);
		lb = bpf_map__attach_struct_ops_opts(skel->maps.policy_b, &o);
		check(POLICY_B, "setup", 0);
		bpf_link__destroy(lb);
		check(NONE, "setup", 0);
		if (!la || !lb) {
			fprintf(stderr, "attach failed\n");
			return 2;
		}
	}
	/* No page fault of ours may meet an injected failure */
	if (mlockall(MCL_CURRENT | MCL_FUTURE))
		perror("mlockall");
	printf("failnth: %d cgroups in the subtree\n", nr_ids);

	if (!only || !strcmp(only, "link_create"))
		test_link_create();
	if (!only || !strcmp(only, "register"))
		test_register();
	if (!only || !strcmp(only, "link_update"))
		test_update();
	if (!only || !strcmp(only, "link_close"))
		test_close();
	if (!only || !strcmp(only, "mkdir"))
		test_mkdir_rmdir(false);
	if (!only || !strcmp(only, "rmdir"))
		test_mkdir_rmdir(true);
	if (!only || !strcmp(only, "kfunc"))
		test_kfunc();

	close(top_fd);
	memcg__destroy(skel);
	remove_subtree();
	printf("failnth: %s\n", failures ? "FAIL" : "OK");
	return failures ? 1 : 0;
}
