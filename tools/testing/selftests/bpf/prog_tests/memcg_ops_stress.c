// SPDX-License-Identifier: GPL-2.0
/*
 * memcg_bpf_ops under stress. For MEMCG_OPS_STRESS_SECS seconds (default
 * STRESS_SECS, short enough for every run of the selftests), at the same
 * time:
 *
 * - the main thread attaches policy A to a parent cgroup, in turn with and
 *   without BPF_F_ALLOW_OVERRIDE, replaces it with policy C through
 *   bpf_link__update_map() every other time, and detaches it;
 * - a thread attaches policy B, with and without BPF_F_ALLOW_OVERRIDE, to
 *   a child of the parent: one of the two with a workload, or one that the
 *   next thread is creating or removing, and detaches it;
 * - a thread creates cgroups under the parent, two levels, and removes
 *   them; three times in four, a task charges memory in the lower one
 *   until it is killed, right before the removal;
 * - two processes fault and free anonymous memory in the two workload
 *   children, whose memory.max, and the parent's, keep reclaim swapping
 *   (to zram, set up if the system has no swap).
 *
 * Every operation must succeed or fail with the errno that the
 * documentation gives for the situation. Once all links are gone, every
 * memcg that came online for a policy has gone offline from it, the
 * policies' charge hooks have run, and no task was OOM-killed.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <test_progs.h>
#include "cgroup_helpers.h"
#include "testing_helpers.h"
#include "memcg_ops_stress.skel.h"

#define MB		(1024 * 1024)
#define STRESS_SECS	5
#define NR_WORKERS	2
#define PARENT		"/mo_stress"
#define PARENT_MAX	"14M"
#define WORKER_MAX	"8M"
#define WORKER_MB	12	/* touched and held by a worker each round */
#define CHURN_MB	2	/* touched by a task in a churned cgroup */
#define WAIT_MS		10000

enum op {
	OP_ATTACH,		/* policy A on the parent */
	OP_ATTACH_CHILD,	/* policy B on a child */
	OP_UPDATE,		/* A replaced by C */
	OP_DETACH,
	OP_MKDIR,
	OP_RMDIR,
	OP_TASK,		/* a task charging in a churned cgroup */
	NR_OPS,
};

static const char * const op_names[NR_OPS] = {
	"attach to the parent", "attach to a child", "update_map", "detach",
	"mkdir", "rmdir", "charging task",
};

static struct {
	struct memcg_ops_stress *skel;
	int parent;			/* fd of the parent cgroup */
	int worker_cg[NR_WORKERS];	/* fds of the workload children */
	int stop;
	__u32 churn_cur;		/* index of the churned cgroup, 0: none */
	__u64 ok[NR_OPS];
	__u64 documented[NR_OPS];	/* failed with a documented errno */
	__u64 unexpected[NR_OPS];
	int first_errno[NR_OPS];	/* of the first unexpected failure */
	__u64 created, killed;
} st;

/* Counted by the workers, in memory shared with them */
struct worker_stats {
	int stop;
	__u32 rounds[NR_WORKERS];
	__u64 mb[NR_WORKERS];
};

static struct worker_stats *ws;
static long page_size;

/*
 * An operation returned @err (0 or an errno); @documented: that errno is
 * what the documentation gives for the situation.
 */
static void op_done(enum op op, int err, bool documented)
{
	if (!err)
		__sync_fetch_and_add(&st.ok[op], 1);
	else if (documented)
		__sync_fetch_and_add(&st.documented[op], 1);
	else if (!__sync_fetch_and_add(&st.unexpected[op], 1))
		st.first_errno[op] = err;
}

static struct bpf_link *attach(struct bpf_map *map, int cg_fd, __u32 flags)
{
	LIBBPF_OPTS(bpf_struct_ops_opts, opts, .cgroup_fd = cg_fd, .flags = flags);

	return bpf_map__attach_struct_ops_opts(map, &opts);
}

/*
 * Detach with BPF_LINK_DETACH, then close: a task forked by the churn
 * thread may hold a copy of the link's fd for a while, the close alone
 * would not detach.
 */
static void detach(struct bpf_link *link)
{
	op_done(OP_DETACH, bpf_link__detach(link) ? errno : 0, false);
	op_done(OP_DETACH, bpf_link__destroy(link) ? errno : 0, false);
}

/* Touch @mb MB of fresh anonymous memory in 1 MB mappings, keep them */
static int touch(char **maps, int mb)
{
	size_t off;
	int i;

	for (i = 0; i < mb; i++) {
		maps[i] = mmap(NULL, MB, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (maps[i] == MAP_FAILED)
			return -1;
		madvise(maps[i], MB, MADV_NOHUGEPAGE);
		for (off = 0; off < MB; off += page_size)
			maps[i][off] = 1;
	}
	return 0;
}

/* A workload process: touch WORKER_MB, free it, again, until told to stop */
static void worker(int n, const char *path)
{
	char *maps[WORKER_MB];
	int i, j;

	if (join_parent_cgroup(path))
		_exit(1);
	while (!READ_ONCE(ws->stop)) {
		for (i = 0; i < WORKER_MB && !READ_ONCE(ws->stop); i++) {
			if (touch(&maps[i], 1))
				_exit(2);
			__sync_fetch_and_add(&ws->mb[n], 1);
		}
		for (j = 0; j < i; j++)
			munmap(maps[j], MB);
		__sync_fetch_and_add(&ws->rounds[n], 1);
	}
	_exit(0);
}

/*
 * A task in churned cgroup @cg, forked by a thread: only async-signal-safe
 * calls. Charges CHURN_MB, tells the thread through @ready, waits for its
 * end.
 */
static void churn_task(int cg, int ready)
{
	char *maps[CHURN_MB];
	int fd;

	fd = openat(cg, "cgroup.procs", O_WRONLY);
	if (fd < 0 || write(fd, "0", 1) != 1)
		_exit(1);
	close(fd);
	if (touch(maps, CHURN_MB) || write(ready, "", 1) != 1)
		_exit(2);
	for (;;)
		pause();
}

/* rmdir @name below @dir, again while it fails with EBUSY; 0 or an errno */
static int rmdir_wait(int dir, const char *name)
{
	int n;

	for (n = 0; unlinkat(dir, name, AT_REMOVEDIR); n++) {
		if (errno != EBUSY || n == WAIT_MS)
			return errno;
		usleep(1000);
	}
	return 0;
}

/*
 * Run a task charging in @cg, once it charged kill it, and remove @cg
 * (@name below @dir) right away. Returns the task, or -1.
 */
static pid_t kill_and_remove(int dir, const char *name, int cg)
{
	struct pollfd pfd = { .events = POLLIN };
	int pipefd[2], err;
	pid_t pid;
	char c;

	if (pipe2(pipefd, O_CLOEXEC)) {
		op_done(OP_TASK, errno, false);
		return -1;
	}
	pid = fork();
	if (!pid) {
		close(pipefd[0]);
		churn_task(cg, pipefd[1]);
	}
	close(pipefd[1]);
	if (pid < 0) {
		op_done(OP_TASK, errno, false);
		close(pipefd[0]);
		return -1;
	}
	pfd.fd = pipefd[0];
	if (poll(&pfd, 1, 3 * WAIT_MS) == 1 && read(pipefd[0], &c, 1) == 1)
		op_done(OP_TASK, 0, false);
	else
		op_done(OP_TASK, ETIMEDOUT, false);
	close(pipefd[0]);
	kill(pid, SIGKILL);
	__sync_fetch_and_add(&st.killed, 1);
	err = rmdir_wait(dir, name);
	op_done(OP_RMDIR, err, false);
	return pid;
}

/* mkdir @name below @dir and open it: the fd, or -1 */
static int cg_mkdir(int dir, const char *name)
{
	int fd = -1, err;

	err = mkdirat(dir, name, 0755) ? errno : 0;
	if (!err) {
		fd = openat(dir, name, O_RDONLY | O_DIRECTORY);
		err = fd < 0 ? errno : 0;
		if (fd < 0)
			unlinkat(dir, name, AT_REMOVEDIR);
	}
	op_done(OP_MKDIR, err, false);
	return fd;
}

/* Enable the memory controller for the children of @cg: 0 or an errno */
static int enable_memory(int cg)
{
	int fd, err = 0;

	fd = openat(cg, "cgroup.subtree_control", O_WRONLY);
	if (fd < 0 || write(fd, "+memory", 7) != 7)
		err = errno;
	if (fd >= 0)
		close(fd);
	op_done(OP_MKDIR, err, false);
	return err;
}

/*
 * Create t<n> under the parent and t<n>/g below it, and remove them, most
 * of the time with a task charging in g killed right before, until told
 * to stop.
 */
static void *churn_thread(void *arg)
{
	int t, g, status;
	char name[32];
	pid_t pid;
	__u32 n;

	for (n = 1; !READ_ONCE(st.stop); n++) {
		snprintf(name, sizeof(name), "t%u", n);
		t = cg_mkdir(st.parent, name);
		if (t < 0)
			continue;
		g = enable_memory(t) ? -1 : cg_mkdir(t, "g");
		__sync_fetch_and_add(&st.created, g < 0 ? 1 : 2);
		WRITE_ONCE(st.churn_cur, n);

		pid = -1;
		if (g >= 0 && n % 4)
			pid = kill_and_remove(t, "g", g);
		else if (g >= 0)
			op_done(OP_RMDIR, rmdir_wait(t, "g"), false);
		WRITE_ONCE(st.churn_cur, 0);
		op_done(OP_RMDIR, rmdir_wait(st.parent, name), false);

		/* The task must have ended by SIGKILL, nothing else */
		if (pid > 0 && (waitpid(pid, &status, 0) != pid ||
				!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL))
			op_done(OP_TASK, ECHILD, false);
		if (g >= 0)
			close(g);
		close(t);
	}
	return NULL;
}

/*
 * Attach policy B to a workload child or to the churned cgroup of the
 * moment, and detach it, until told to stop.
 */
static void *child_thread(void *arg)
{
	struct bpf_link *link;
	bool churned;
	char name[32];
	int cg, err;
	__u32 flags, i, n;

	for (i = 0; !READ_ONCE(st.stop); i++) {
		flags = i & 2 ? BPF_F_ALLOW_OVERRIDE : 0;
		churned = i & 1;
		if (churned) {
			n = READ_ONCE(st.churn_cur);
			if (!n)
				continue;
			snprintf(name, sizeof(name), "t%u%s", n, i & 4 ? "/g" : "");
			/* Gone already, or not there yet */
			cg = openat(st.parent, name, O_RDONLY | O_DIRECTORY);
			if (cg < 0)
				continue;
		} else {
			cg = st.worker_cg[(i / 2) % NR_WORKERS];
		}

		link = attach(st.skel->maps.stress_b, cg, flags);
		err = link ? 0 : errno;
		/*
		 * EPERM: the parent's policy does not allow overrides.
		 * ENOENT: the cgroup is being removed.
		 */
		op_done(OP_ATTACH_CHILD, err, err == EPERM || (churned && err == ENOENT));
		if (churned)
			close(cg);
		if (link)
			detach(link);
	}
	return NULL;
}

/* How long to stress for */
static int stress_secs(void)
{
	const char *env = getenv("MEMCG_OPS_STRESS_SECS");
	int secs;

	if (!env)
		return STRESS_SECS;
	secs = atoi(env);
	return secs < 1 ? 1 : secs > 3600 ? 3600 : secs;
}

/*
 * The stress runs for @secs seconds, and until each worker finished a
 * round, but no more than 30 seconds longer. A round holds WORKER_MB
 * under a WORKER_MAX limit, so reclaim took some of every worker's
 * memory by then, whether at the worker's limit or at the parent's.
 */
static bool stress_done(__u64 start, int secs)
{
	__u64 elapsed = get_time_ns() - start;
	int i;

	if (elapsed >= (secs + 30) * 1000000000ULL)
		return true;
	if (elapsed < secs * 1000000000ULL)
		return false;
	for (i = 0; i < NR_WORKERS; i++)
		if (!READ_ONCE(ws->rounds[i]))
			return false;
	return true;
}

/* Attach and detach policy A on the parent for @secs seconds */
static __u64 parent_loop(int secs)
{
	struct memcg_ops_stress *skel = st.skel;
	__u64 start = get_time_ns(), cycles = 0;
	struct bpf_link *link;
	__u32 flags, i;
	int err;

	for (i = 0; !stress_done(start, secs); i++) {
		flags = i & 1 ? BPF_F_ALLOW_OVERRIDE : 0;
		link = attach(skel->maps.stress_a, st.parent, flags);
		err = link ? 0 : errno;
		/* Nothing above it: attaching above children that have a
		 * policy succeeds, as for cgroup BPF programs
		 */
		op_done(OP_ATTACH, err, false);
		if (!link)
			continue;
		if (i & 2) {
			err = bpf_link__update_map(link, skel->maps.stress_c);
			op_done(OP_UPDATE, err ? -err : 0, false);
		}
		detach(link);
		cycles++;
	}
	return cycles;
}

/* Number of entries of map @fd */
static int map_entries(int fd)
{
	__u64 key, next;
	int n = 0;

	if (bpf_map_get_next_key(fd, NULL, &next))
		return 0;
	do {
		key = next;
		n++;
	} while (!bpf_map_get_next_key(fd, &key, &next));
	return n;
}

static void run_stress(struct memcg_ops_stress *skel, int parent)
{
	pthread_t churn, child;
	bool churn_started = false, child_started = false;
	pid_t pids[NR_WORKERS] = {};
	struct memcg_ops_stress__bss *bss = skel->bss;
	int secs = stress_secs(), i, status;
	__u64 cycles = 0, mb = 0;
	long long events[2];
	char path[32];

	memset(&st, 0, sizeof(st));
	st.skel = skel;
	st.parent = parent;
	for (i = 0; i < NR_WORKERS; i++)
		st.worker_cg[i] = -1;
	for (i = 0; i < NR_WORKERS; i++) {
		snprintf(path, sizeof(path), PARENT "/w%d", i);
		st.worker_cg[i] = create_and_get_cgroup(path);
		if (!ASSERT_GE(st.worker_cg[i], 0, path) ||
		    !ASSERT_OK(write_cgroup_file(path, "memory.max", WORKER_MAX),
			       "worker memory.max"))
			goto out;
	}

	/* The workers first: no other thread runs while they fork */
	for (i = 0; i < NR_WORKERS; i++) {
		snprintf(path, sizeof(path), PARENT "/w%d", i);
		pids[i] = fork();
		if (!pids[i])
			worker(i, path);
		if (!ASSERT_GT(pids[i], 0, "fork worker"))
			goto out;
	}
	churn_started = !pthread_create(&churn, NULL, churn_thread, NULL);
	child_started = !pthread_create(&child, NULL, child_thread, NULL);
	if (ASSERT_TRUE(churn_started && child_started, "threads"))
		cycles = parent_loop(secs);

out:
	WRITE_ONCE(st.stop, 1);
	if (churn_started)
		pthread_join(churn, NULL);
	if (child_started)
		pthread_join(child, NULL);
	WRITE_ONCE(ws->stop, 1);
	for (i = 0; i < NR_WORKERS; i++) {
		if (pids[i] <= 0)
			continue;
		if (ASSERT_EQ(waitpid(pids[i], &status, 0), pids[i], "waitpid worker"))
			ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status), "worker");
		mb += ws->mb[i];
	}
	if (!churn_started || !child_started)
		goto close;

	/* No link left: nothing is under a policy anymore */
	ASSERT_EQ(bss->nr_offline, bss->nr_online, "offline as often as online");
	ASSERT_EQ(map_entries(bpf_map__fd(skel->maps.under)), 0, "memcgs under a policy");
	ASSERT_EQ(bss->errors, 0, "online/offline errors");
	ASSERT_GT(bss->nr_online, 0, "online hooks ran");
	ASSERT_GT(bss->nr_charge_calls, 0, "charge hooks ran");

	for (i = 0; i < NR_OPS; i++) {
		if (st.unexpected[i])
			fprintf(stderr, "%s: %llu unexpected failures, the first with errno %d\n",
				op_names[i], (unsigned long long)st.unexpected[i],
				st.first_errno[i]);
		ASSERT_EQ(st.unexpected[i], 0, op_names[i]);
	}
	ASSERT_GT(cycles, 0, "attach/detach cycles");
	ASSERT_GT(st.ok[OP_ATTACH_CHILD], 0, "child attaches");
	ASSERT_GT(st.created, 0, "cgroups created");
	for (i = 0; i < NR_WORKERS; i++) {
		events[0] = read_cgroup_value(st.worker_cg[i], "memory.stat", "pgsteal");
		ASSERT_GT(events[0], 0, "pages reclaimed from the worker");
	}
	events[0] = read_cgroup_value(parent, "memory.events", "oom");
	events[1] = read_cgroup_value(parent, "memory.events", "oom_kill");
	ASSERT_EQ(events[0], 0, "no OOM");
	ASSERT_EQ(events[1], 0, "no OOM kill");

	printf("%s: %d s; parent: %llu attach/detach cycles, %llu updates\n",
	       __func__, secs, (unsigned long long)cycles,
	       (unsigned long long)st.ok[OP_UPDATE]);
	printf("%s: children: %llu attaches, %llu EPERM or ENOENT\n",
	       __func__, (unsigned long long)st.ok[OP_ATTACH_CHILD],
	       (unsigned long long)st.documented[OP_ATTACH_CHILD]);
	printf("%s: %llu cgroups created and removed, %llu charging tasks killed\n",
	       __func__, (unsigned long long)st.created, (unsigned long long)st.killed);
	printf("%s: workers: %llu MB charged, %u and %u rounds of %d MB\n", __func__,
	       (unsigned long long)mb, ws->rounds[0], ws->rounds[1], WORKER_MB);
	printf("%s: hooks: %llu online, %llu offline, %llu below_low/min\n", __func__,
	       (unsigned long long)bss->nr_online, (unsigned long long)bss->nr_offline,
	       (unsigned long long)bss->nr_below);
	printf("%s: hooks: %llu charges of %llu pages, %llu delayed, %llu uncharges\n",
	       __func__, (unsigned long long)bss->nr_charge_calls,
	       (unsigned long long)bss->nr_charged, (unsigned long long)bss->nr_delayed,
	       (unsigned long long)bss->nr_uncharge_calls);
close:
	for (i = NR_WORKERS - 1; i >= 0; i--) {
		if (st.worker_cg[i] < 0)
			continue;
		close(st.worker_cg[i]);
		snprintf(path, sizeof(path), PARENT "/w%d", i);
		remove_cgroup(path);
	}
}

void serial_test_memcg_ops_stress(void)
{
	struct memcg_ops_stress *skel = NULL;
	char swap_dev[32] = "";
	int parent = -1, err;

	page_size = sysconf(_SC_PAGESIZE);
	ws = mmap(NULL, sizeof(*ws), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (!ASSERT_NEQ(ws, MAP_FAILED, "mmap shared"))
		return;
	if (!ASSERT_OK(setup_cgroup_environment(), "setup_cgroup_environment"))
		goto unmap;
	/* Reclaim of anonymous memory needs swap */
	err = swap_on(swap_dev, sizeof(swap_dev), 256ULL * MB);
	if (err) {
		printf("%s: no swap (zram: %s): skipping\n", __func__, strerror(-err));
		test__skip();
		goto cleanup;
	}
	parent = create_and_get_cgroup(PARENT);
	if (!ASSERT_GE(parent, 0, "parent") ||
	    !ASSERT_OK(enable_controllers(PARENT, "memory"), "enable memory") ||
	    !ASSERT_OK(write_cgroup_file(PARENT, "memory.max", PARENT_MAX), "memory.max"))
		goto cleanup;
	skel = memcg_ops_stress__open_and_load();
	if (!ASSERT_OK_PTR(skel, "open_and_load"))
		goto cleanup;

	run_stress(skel, parent);
cleanup:
	memcg_ops_stress__destroy(skel);
	if (parent >= 0) {
		close(parent);
		remove_cgroup(PARENT);
	}
	ASSERT_OK(swap_off(swap_dev), "swap_off");
	cleanup_cgroup_environment();
unmap:
	munmap(ws, sizeof(*ws));
}
