// SPDX-License-Identifier: GPL-2.0
/*
 * memcg_bpf_ops: policies attached to cgroups through struct_ops links.
 * The policies in progs/memcg_ops.c record per cgroup id what their hooks
 * see; the subtests drive workloads in cgroups and compare.
 *
 * Workloads and limits are sized for a 2 GB guest under QEMU TCG: a few
 * tens of MB per cgroup, time assertions that compare rather than expect.
 */
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <test_progs.h>
#include "cgroup_helpers.h"
#include "testing_helpers.h"
#include "cap_helpers.h"
#include "memcg_ops.skel.h"
#include "memcg_ops_fail__member.skel.h"
#include "memcg_ops_fail__proto.skel.h"
#include "memcg_ops_fail__reclaim.skel.h"
#include "memcg_ops_fail__sleepable.skel.h"
#include "memcg_ops_fail__write.skel.h"
#include "progs/memcg_ops.h"

#define MB		(1024 * 1024)
#define WAIT_MS		10000
#define FORKS		4

/* A MAP_SHARED page through which the workload children report */
struct shared {
	int stop;		/* set by the parent: end the rounds */
	int ready;		/* set by a child holding its memory */
	__u64 ns[3];		/* time per round of a child */
	__u32 rounds[3];	/* rounds a child has done so far */
	__u64 fork_ns[FORKS];	/* fork_delay: when a fork began */
	__u64 child_ns[FORKS];	/* fork_delay: when its child first ran */
	__u64 parent_ns[FORKS];	/* fork_delay: when fork returned in the parent */
};

static struct shared *sh;

static long page_size;

static int get_stat_fd(int stats_fd, __u64 cgid, struct memcg_ops_stat *st)
{
	memset(st, 0, sizeof(*st));
	return bpf_map_lookup_elem(stats_fd, &cgid, st);
}

static int get_stat(struct memcg_ops *skel, __u64 cgid, struct memcg_ops_stat *st)
{
	return get_stat_fd(bpf_map__fd(skel->maps.stats), cgid, st);
}

/*
 * Wait until the policy that governs @cgid is @policy and its online and
 * offline counts are those given: cgroup removal takes the memcg offline
 * asynchronously.
 */
static bool wait_stat(struct memcg_ops *skel, __u64 cgid, __u32 policy,
		      __u32 online, __u32 offline)
{
	struct memcg_ops_stat st;
	int i;

	for (i = 0; i < WAIT_MS; i++) {
		if (!get_stat(skel, cgid, &st) && st.policy == policy &&
		    st.online == online && st.offline == offline)
			return true;
		usleep(1000);
	}
	fprintf(stderr, "cgroup %llu: policy %u online %u offline %u, want %u %u %u\n",
		(unsigned long long)cgid, st.policy, st.online, st.offline,
		policy, online, offline);
	return false;
}

static struct bpf_link *attach(struct bpf_map *map, int cg_fd, __u32 flags)
{
	LIBBPF_OPTS(bpf_struct_ops_opts, opts, .cgroup_fd = cg_fd, .flags = flags);

	return bpf_map__attach_struct_ops_opts(map, &opts);
}

/* Attaching @map to @cg_fd with @flags fails with @err. */
static void attach_fails(struct bpf_map *map, int cg_fd, __u32 flags, int err,
			 const char *what)
{
	struct bpf_link *link = attach(map, cg_fd, flags);

	if (!ASSERT_ERR_PTR(link, what)) {
		bpf_link__destroy(link);
		return;
	}
	ASSERT_EQ(errno, err, what);
}

/*
 * Touch @size bytes of fresh anonymous memory, in 1 MB mappings, which
 * are unmapped again unless @hold.
 */
static int touch_anon(size_t size, bool hold)
{
	size_t done, off;
	char *p;

	for (done = 0; done < size; done += MB) {
		p = mmap(NULL, MB, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return -errno;
		/* One page per fault: no THP in this test. */
		madvise(p, MB, MADV_NOHUGEPAGE);
		for (off = 0; off < MB; off += page_size)
			p[off] = 1;
		if (!hold)
			munmap(p, MB);
	}
	return 0;
}

/*
 * Run touch_anon(@size, @rounds == 1) in a child process in cgroup @path,
 * @rounds times, or until sh->stop is set if @rounds is 0. Returns the
 * pid; the child counts its rounds in sh->rounds[@slot], exits with 0 on
 * success and writes its time per round (ns) into sh->ns[@slot] when it
 * ends.
 */
static pid_t spawn_touch(const char *path, size_t size, int rounds, int slot)
{
	pid_t pid = fork();
	__u64 start;
	int n;

	if (pid)
		return pid;
	if (join_parent_cgroup(path))
		_exit(1);
	start = get_time_ns();
	for (n = 0; rounds ? n < rounds : !READ_ONCE(sh->stop); n++) {
		if (touch_anon(size, rounds == 1))
			_exit(2);
		__sync_fetch_and_add(&sh->rounds[slot], 1);
	}
	WRITE_ONCE(sh->ns[slot], n ? (get_time_ns() - start) / n : 0);
	_exit(0);
}

static bool child_ok(pid_t pid, const char *what)
{
	int status;

	if (!ASSERT_EQ(waitpid(pid, &status, 0), pid, what))
		return false;
	return ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status), what);
}

#define MAX_CGROUPS	64

/*
 * The cgroups of a subtest, below the test's cgroup work directory:
 * cg_add() creates them, parents first, and cg_remove_all() closes and
 * removes those still there, the last created first.
 */
struct cgroups {
	int nr;
	int fd[MAX_CGROUPS];
	char path[MAX_CGROUPS][32];
};

/*
 * Create cgroup @path in @cgs, its parent being there already, and with
 * @memory enable the memory controller for its children. Returns its fd,
 * or -1 after a failed assertion.
 */
static int cg_add(struct cgroups *cgs, const char *path, bool memory)
{
	int fd;

	if (!ASSERT_LT(cgs->nr, MAX_CGROUPS, "cgroups") ||
	    !ASSERT_LT(strlen(path), sizeof(cgs->path[0]), path))
		return -1;
	fd = create_and_get_cgroup(path);
	if (!ASSERT_GE(fd, 0, path))
		return -1;
	strcpy(cgs->path[cgs->nr], path);
	cgs->fd[cgs->nr++] = fd;
	if (memory && !ASSERT_OK(enable_controllers(path, "memory"), path))
		return -1;
	return fd;
}

static void cg_remove_at(struct cgroups *cgs, int i)
{
	if (cgs->fd[i] < 0)
		return;
	close(cgs->fd[i]);
	remove_cgroup(cgs->path[i]);
	cgs->fd[i] = -1;
}

/* Close and remove cgroup @fd of @cgs now. */
static void cg_remove(struct cgroups *cgs, int fd)
{
	int i;

	for (i = 0; i < cgs->nr; i++)
		if (cgs->fd[i] == fd)
			cg_remove_at(cgs, i);
}

static void cg_remove_all(struct cgroups *cgs)
{
	while (cgs->nr > 0)
		cg_remove_at(cgs, --cgs->nr);
}

/*
 * Remove cgroup @fd of @cgs, whose parent is in @cgs too, as soon as it
 * can be removed: rmdir fails with EBUSY while the cgroup has tasks that
 * are not exiting. Returns 0 or -errno of the last attempt.
 */
static int cg_rmdir_wait(struct cgroups *cgs, int fd)
{
	const char *path, *name;
	int i, parent, n;

	for (i = 0; i < cgs->nr && (fd < 0 || cgs->fd[i] != fd); i++)
		;
	if (i == cgs->nr)
		return -EINVAL;
	path = cgs->path[i];
	name = strrchr(path, '/');
	for (parent = 0; parent < cgs->nr; parent++)
		if (cgs->fd[parent] >= 0 &&
		    strlen(cgs->path[parent]) == name - path &&
		    !strncmp(cgs->path[parent], path, name - path))
			break;
	if (parent == cgs->nr)
		return -EINVAL;
	for (n = 0; unlinkat(cgs->fd[parent], name + 1, AT_REMOVEDIR); n++) {
		if (errno != EBUSY || n == WAIT_MS)
			return -errno;
		usleep(1000);
	}
	close(fd);
	cgs->fd[i] = -1;
	return 0;
}

/*
 * Inheritance and BPF_F_ALLOW_OVERRIDE, with the rules and errnos of cgroup
 * BPF programs: A on top with the flag, B in the middle without it, the
 * leaf cannot attach (EPERM); detaching restores. A policy attached above
 * a descendant that has one leaves it that one until it is detached.
 */
static void test_hierarchy(struct memcg_ops *skel)
{
	struct bpf_link *link_a = NULL, *link_b = NULL, *link_c = NULL, *link;
	__u64 id_top, id_mid, id_leaf, id_new;
	int top, mid, leaf, other, other_c, other_d;
	__u64 id_other, id_other_c;
	struct cgroups cgs = {};

	top = cg_add(&cgs, "/mo_hier", true);
	mid = cg_add(&cgs, "/mo_hier/mid", true);
	leaf = cg_add(&cgs, "/mo_hier/mid/leaf", true);
	other = cg_add(&cgs, "/mo_hier2", true);
	other_c = cg_add(&cgs, "/mo_hier2/c", false);
	other_d = cg_add(&cgs, "/mo_hier2/d", false);
	if (top < 0 || mid < 0 || leaf < 0 || other < 0 || other_c < 0 || other_d < 0)
		goto out;
	id_other = get_cgroup_id("/mo_hier2");
	id_other_c = get_cgroup_id("/mo_hier2/c");
	id_top = get_cgroup_id("/mo_hier");
	id_mid = get_cgroup_id("/mo_hier/mid");
	id_leaf = get_cgroup_id("/mo_hier/mid/leaf");

	/* A on top, overridable: the whole subtree is under A */
	link_a = attach(skel->maps.policy_a, top, BPF_F_ALLOW_OVERRIDE);
	if (!ASSERT_OK_PTR(link_a, "attach A to top"))
		goto out;
	ASSERT_TRUE(wait_stat(skel, id_top, 1, 1, 0), "top under A");
	ASSERT_TRUE(wait_stat(skel, id_mid, 1, 1, 0), "mid under A");
	ASSERT_TRUE(wait_stat(skel, id_leaf, 1, 1, 0), "leaf under A");

	/* One policy per cgroup */
	attach_fails(skel->maps.policy_a, top, BPF_F_ALLOW_OVERRIDE, EBUSY, "A twice");
	attach_fails(skel->maps.policy_b, top, 0, EBUSY, "B on top of A");

	/* B in the middle, not overridable: mid and leaf move to B */
	link_b = attach(skel->maps.policy_b, mid, 0);
	if (!ASSERT_OK_PTR(link_b, "attach B to mid"))
		goto out;
	ASSERT_TRUE(wait_stat(skel, id_top, 1, 1, 0), "top still under A");
	ASSERT_TRUE(wait_stat(skel, id_mid, 2, 2, 1), "mid under B");
	ASSERT_TRUE(wait_stat(skel, id_leaf, 2, 2, 1), "leaf under B");

	/* Nothing below B */
	attach_fails(skel->maps.policy_a, leaf, 0, EPERM, "leaf under B");
	attach_fails(skel->maps.policy_a, leaf, BPF_F_ALLOW_OVERRIDE, EPERM,
		     "leaf under B, override");

	/* A cgroup created later inherits B */
	if (cg_add(&cgs, "/mo_hier/mid/leaf/new", false) < 0)
		goto out;
	id_new = get_cgroup_id("/mo_hier/mid/leaf/new");
	ASSERT_TRUE(wait_stat(skel, id_new, 2, 1, 0), "new under B");

	/* Detaching B restores A below mid */
	ASSERT_OK(bpf_link__detach(link_b), "detach B");
	ASSERT_TRUE(wait_stat(skel, id_mid, 1, 3, 2), "mid back under A");
	ASSERT_TRUE(wait_stat(skel, id_leaf, 1, 3, 2), "leaf back under A");
	ASSERT_TRUE(wait_stat(skel, id_new, 1, 2, 1), "new back under A");

	/*
	 * Above a descendant that has a policy, without the flag: the
	 * descendant keeps its own, its siblings take the new one and can
	 * no longer attach. Once the descendant's policy is detached, it
	 * takes the one above, and cannot attach again. Map A is attached
	 * twice (top and other).
	 */
	link_c = attach(skel->maps.policy_b, other_c, 0);
	if (!ASSERT_OK_PTR(link_c, "attach B to other/c"))
		goto out;
	ASSERT_TRUE(wait_stat(skel, id_other_c, 2, 1, 0), "other/c under B");
	link = attach(skel->maps.policy_a, other, 0);
	if (ASSERT_OK_PTR(link, "A above B")) {
		/* propagation is done when the attach returns */
		ASSERT_TRUE(wait_stat(skel, id_other, 1, 1, 0), "other under A");
		ASSERT_TRUE(wait_stat(skel, id_other_c, 2, 1, 0), "other/c keeps its B");
		attach_fails(skel->maps.policy_b, other_d, BPF_F_ALLOW_OVERRIDE, EPERM,
			     "other/d below A");
		ASSERT_OK(bpf_link__detach(link_c), "detach B from other/c");
		ASSERT_TRUE(wait_stat(skel, id_other_c, 1, 2, 1), "other/c then under A");
		attach_fails(skel->maps.policy_b, other_c, 0, EPERM, "other/c again, below A");
		bpf_link__destroy(link);
		ASSERT_TRUE(wait_stat(skel, id_other, 0, 1, 1), "other without policy");
		ASSERT_TRUE(wait_stat(skel, id_other_c, 0, 2, 2), "other/c without policy");
	}

	/* Detaching A: nothing left under a policy */
	ASSERT_OK(bpf_link__detach(link_a), "detach A");
	ASSERT_TRUE(wait_stat(skel, id_top, 0, 1, 1), "top without policy");
	ASSERT_TRUE(wait_stat(skel, id_mid, 0, 3, 3), "mid without policy");
	ASSERT_TRUE(wait_stat(skel, id_leaf, 0, 3, 3), "leaf without policy");
	ASSERT_TRUE(wait_stat(skel, id_new, 0, 2, 2), "new without policy");
	ASSERT_EQ(skel->bss->errors, 0, "policy errors");
out:
	bpf_link__destroy(link_c);
	bpf_link__destroy(link_b);
	bpf_link__destroy(link_a);
	cg_remove_all(&cgs);
}

#define NR_CHILDREN 50

/*
 * online/offline once per cgroup: NR_CHILDREN cgroups created under an
 * attached policy, half of them removed under it, the rest offlined by
 * the detach.
 */
static void test_online_offline(struct memcg_ops *skel)
{
	int parent, child[NR_CHILDREN], i;
	__u64 ids[NR_CHILDREN], id_parent;
	struct bpf_link *link = NULL;
	struct cgroups cgs = {};
	char path[32];

	parent = cg_add(&cgs, "/mo_life", true);
	if (parent < 0)
		goto out;
	id_parent = get_cgroup_id("/mo_life");

	link = attach(skel->maps.policy_a, parent, 0);
	if (!ASSERT_OK_PTR(link, "attach"))
		goto out;
	ASSERT_TRUE(wait_stat(skel, id_parent, 1, 1, 0), "parent online");

	for (i = 0; i < NR_CHILDREN; i++) {
		snprintf(path, sizeof(path), "/mo_life/c%d", i);
		child[i] = cg_add(&cgs, path, false);
		if (child[i] < 0)
			goto out;
		ids[i] = get_cgroup_id(path);
		/* One wait of 10 s is enough to fail, not one per child */
		if (!ASSERT_TRUE(wait_stat(skel, ids[i], 1, 1, 0), "child online"))
			goto out;
	}

	/* Half of them go away while the policy is attached */
	for (i = 0; i < NR_CHILDREN / 2; i++)
		cg_remove(&cgs, child[i]);
	for (i = 0; i < NR_CHILDREN / 2; i++)
		if (!ASSERT_TRUE(wait_stat(skel, ids[i], 0, 1, 1), "removed child offline"))
			goto out;

	/* The others leave with the policy */
	ASSERT_OK(bpf_link__detach(link), "detach");
	for (i = NR_CHILDREN / 2; i < NR_CHILDREN; i++)
		if (!ASSERT_TRUE(wait_stat(skel, ids[i], 0, 1, 1), "child offline on detach"))
			goto out;
	ASSERT_TRUE(wait_stat(skel, id_parent, 0, 1, 1), "parent offline on detach");
	ASSERT_EQ(skel->bss->errors, 0, "policy errors");
out:
	bpf_link__destroy(link);
	cg_remove_all(&cgs);
}

/* The link's struct_ops map id, 0 once the link is detached */
static __u32 link_map_id(struct bpf_link *link)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);

	if (bpf_link_get_info_by_fd(bpf_link__fd(link), &info, &len))
		return ~0U;
	return info.struct_ops.map_id;
}

/*
 * Lifecycle: a policy replaced in place with bpf_link__update_map(); a
 * cgroup removed, with its parent, while its policy is attached and just
 * after a task charged in it: the link is detached, the memcg offline.
 */
static void test_lifecycle(struct memcg_ops *skel)
{
	struct bpf_link *link = NULL, *link_rm = NULL;
	int cg, child, rm, rm_child, i;
	struct bpf_map_info map_info;
	__u32 len = sizeof(map_info);
	__u64 id, id_child, id_rm;
	struct memcg_ops_stat st;
	struct cgroups cgs = {};
	pid_t pid;

	memset(sh, 0, sizeof(*sh));
	cg = cg_add(&cgs, "/mo_upd", true);
	child = cg_add(&cgs, "/mo_upd/c", false);
	rm = cg_add(&cgs, "/mo_rm", true);
	rm_child = cg_add(&cgs, "/mo_rm/c", false);
	if (cg < 0 || child < 0 || rm < 0 || rm_child < 0)
		goto out;
	id = get_cgroup_id("/mo_upd");
	id_child = get_cgroup_id("/mo_upd/c");
	id_rm = get_cgroup_id("/mo_rm/c");

	/* A replaced by B in place: every memcg moves, once */
	link = attach(skel->maps.policy_a, cg, 0);
	if (!ASSERT_OK_PTR(link, "attach A"))
		goto out;
	ASSERT_TRUE(wait_stat(skel, id_child, 1, 1, 0), "child under A");
	if (ASSERT_OK(get_stat(skel, id_child, &st), "child stat"))
		ASSERT_EQ(st.moved, 0, "child: under no policy before A");
	if (!ASSERT_OK(bpf_link__update_map(link, skel->maps.policy_b), "update to B"))
		goto out;
	ASSERT_TRUE(wait_stat(skel, id, 2, 2, 1), "cgroup under B");
	ASSERT_TRUE(wait_stat(skel, id_child, 2, 2, 1), "child under B");
	/* Moved from A to B: B's online hook ran while A still held them */
	if (ASSERT_OK(get_stat(skel, id, &st), "cgroup stat"))
		ASSERT_EQ(st.moved, 1, "cgroup: B online before A offline");
	if (ASSERT_OK(get_stat(skel, id_child, &st), "child stat"))
		ASSERT_EQ(st.moved, 1, "child: B online before A offline");
	memset(&map_info, 0, sizeof(map_info));
	if (ASSERT_OK(bpf_map_get_info_by_fd(bpf_map__fd(skel->maps.policy_b),
					     &map_info, &len), "map info"))
		ASSERT_EQ(link_map_id(link), map_info.id, "link map is B");

	/* Removal while attached, right after a task charged there */
	link_rm = attach(skel->maps.policy_a, rm_child, 0);
	if (!ASSERT_OK_PTR(link_rm, "attach to rm/c"))
		goto out;
	pid = spawn_touch("/mo_rm/c", 4 * MB, 1, 1);
	if (!child_ok(pid, "workload"))
		goto out;
	cg_remove(&cgs, rm_child);
	cg_remove(&cgs, rm);
	ASSERT_TRUE(wait_stat(skel, id_rm, 0, 1, 1), "removed memcg offline");
	for (i = 0; i < WAIT_MS && link_map_id(link_rm); i++)
		usleep(1000);
	ASSERT_EQ(link_map_id(link_rm), 0, "link of the removed cgroup detached");
	ASSERT_EQ(skel->bss->errors, 0, "policy errors");
out:
	bpf_link__destroy(link_rm);
	bpf_link__destroy(link);
	cg_remove_all(&cgs);
}

#define NR_CHARGERS	2

/* Wait until each of @n children has done at least @rounds[i] rounds */
static bool wait_rounds(const __u32 *rounds, int n)
{
	int i, t;

	for (t = 0; t < 3 * WAIT_MS; t++) {
		for (i = 0; i < n; i++)
			if (READ_ONCE(sh->rounds[i]) < rounds[i])
				break;
		if (i == n)
			return true;
		usleep(1000);
	}
	return false;
}

/* Wait until the policy has counted more than @charged pages for @cgid */
static bool wait_charged(struct memcg_ops *skel, __u64 cgid, __u64 charged)
{
	struct memcg_ops_stat st;
	int t;

	for (t = 0; t < 3 * WAIT_MS; t++) {
		if (!get_stat(skel, cgid, &st) && st.charged > charged)
			return true;
		usleep(1000);
	}
	return false;
}

/*
 * Detach while tasks charge: NR_CHARGERS tasks fault and free memory in
 * children of a cgroup whose policy counts charges and uncharges. Once
 * bpf_link__detach() returns, and once the link's last close does, no hook
 * of the policy starts anymore (and the calls that started before are done
 * after an RCU grace period): its counters stand still while the tasks go
 * on charging and uncharging.
 */
static void test_detach_charging(struct memcg_ops *skel)
{
	struct memcg_ops_stat st, before[NR_CHARGERS];
	pid_t pids[NR_CHARGERS] = {};
	__u32 rounds[NR_CHARGERS];
	struct bpf_link *link = NULL;
	__u64 ids[NR_CHARGERS];
	struct cgroups cgs = {};
	int parent, i, r;
	char path[32];

	memset(sh, 0, sizeof(*sh));
	skel->bss->low_cgid = 0;
	skel->bss->high_cgid = 0;
	parent = cg_add(&cgs, "/mo_det", true);
	if (parent < 0)
		goto out;
	for (i = 0; i < NR_CHARGERS; i++) {
		snprintf(path, sizeof(path), "/mo_det/c%d", i);
		if (cg_add(&cgs, path, false) < 0)
			goto out;
		ids[i] = get_cgroup_id(path);
		pids[i] = spawn_touch(path, MB, 0, i);
		if (!ASSERT_GT(pids[i], 0, "fork"))
			goto out;
	}

	/* Round 0 detaches with BPF_LINK_DETACH, round 1 by the last close */
	for (r = 0; r < 2; r++) {
		for (i = 0; i < NR_CHARGERS; i++)
			get_stat(skel, ids[i], &before[i]);
		link = attach(skel->maps.policy_throttle, parent, 0);
		if (!ASSERT_OK_PTR(link, "attach"))
			goto out;
		for (i = 0; i < NR_CHARGERS; i++) {
			if (!ASSERT_TRUE(wait_charged(skel, ids[i], before[i].charged),
					 "charges under the policy"))
				goto out;
			get_stat(skel, ids[i], &before[i]);
			rounds[i] = READ_ONCE(sh->rounds[i]) + 3;
		}
		/* Two of the next three rounds fall in the wait: 2 MB */
		if (!ASSERT_TRUE(wait_rounds(rounds, NR_CHARGERS), "charging"))
			goto out;
		for (i = 0; i < NR_CHARGERS; i++) {
			get_stat(skel, ids[i], &st);
			ASSERT_GE(st.charged - before[i].charged, MB / page_size,
				  "memcg_charged while attached");
			ASSERT_GT(st.uncharged, before[i].uncharged,
				  "memcg_uncharged while attached");
		}

		if (r == 0) {
			ASSERT_OK(bpf_link__detach(link), "detach");
		} else {
			bpf_link__destroy(link);
			link = NULL;
		}
		/* Hook calls that started before may end after it */
		ASSERT_OK(kern_sync_rcu(), "kern_sync_rcu");
		for (i = 0; i < NR_CHARGERS; i++) {
			get_stat(skel, ids[i], &before[i]);
			rounds[i] = READ_ONCE(sh->rounds[i]) + 3;
		}
		if (!ASSERT_TRUE(wait_rounds(rounds, NR_CHARGERS), "charging after detach"))
			goto out;
		for (i = 0; i < NR_CHARGERS; i++) {
			get_stat(skel, ids[i], &st);
			ASSERT_EQ(st.charged, before[i].charged, "no memcg_charged after detach");
			ASSERT_EQ(st.uncharged, before[i].uncharged,
				  "no memcg_uncharged after detach");
			ASSERT_EQ(st.policy, 0, "offline on detach");
			ASSERT_EQ(st.online, r + 1, "online once per attach");
			ASSERT_EQ(st.offline, r + 1, "offline once per detach");
		}
		printf("%s: %s while charging: %llu and %llu pages before, none after\n",
		       __func__, r ? "last close" : "detach",
		       (unsigned long long)before[0].charged,
		       (unsigned long long)before[1].charged);
		/* Destroying a detached link is fine as well */
		bpf_link__destroy(link);
		link = NULL;
	}
	ASSERT_EQ(skel->bss->errors, 0, "policy errors");
out:
	WRITE_ONCE(sh->stop, 1);
	for (i = 0; i < NR_CHARGERS; i++)
		if (pids[i] > 0)
			child_ok(pids[i], "charging task");
	bpf_link__destroy(link);
	cg_remove_all(&cgs);
}

#define RACE_ROUNDS	3
#define RACE_HOLD	(16 * MB)

/*
 * A task in cgroup @path that holds @hold bytes of anonymous memory, then
 * charges and uncharges 1 MB after 1 MB until it is killed, counting its
 * rounds in sh->rounds[@slot]. Returns its pid.
 */
static pid_t spawn_charger(const char *path, size_t hold, int slot)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	if (join_parent_cgroup(path) || touch_anon(hold, true))
		_exit(1);
	for (;;) {
		if (touch_anon(MB, false))
			_exit(2);
		__sync_fetch_and_add(&sh->rounds[slot], 1);
	}
}

/*
 * Wait until @cgid is under no policy, having come online at least
 * @online times, and gone offline as many times
 */
static bool wait_balanced(struct memcg_ops *skel, __u64 cgid, __u32 online)
{
	struct memcg_ops_stat st;
	int t;

	for (t = 0; t < 3 * WAIT_MS; t++) {
		if (!get_stat(skel, cgid, &st) && !st.policy &&
		    st.online >= online && st.online == st.offline)
			return true;
		usleep(1000);
	}
	fprintf(stderr, "cgroup %llu: policy %u online %u offline %u\n",
		(unsigned long long)cgid, st.policy, st.online, st.offline);
	return false;
}

/*
 * Removal right after the tasks charging in a cgroup are killed. The
 * cgroup, p/c, has a policy, and so has its parent p, which allows the
 * override. rmdir of c succeeds as soon as its tasks are exiting, while
 * they still uncharge the RACE_HOLD they held, and rmdir of p follows at
 * once. Both links are then detached, both memcgs go offline, each online
 * matched.
 */
static void test_rmdir_charging(struct memcg_ops *skel)
{
	struct bpf_link *link_p = NULL, *link_c = NULL;
	int top, p, c, r, i, exiting = 0, t, status[NR_CHARGERS];
	pid_t pids[NR_CHARGERS] = {}, ret;
	__u32 rounds[NR_CHARGERS];
	struct cgroups cgs = {};
	__u64 id_p, id_c;

	skel->bss->low_cgid = 0;
	skel->bss->high_cgid = 0;
	top = cg_add(&cgs, "/mo_race", true);
	if (top < 0)
		goto out;
	for (r = 0; r < RACE_ROUNDS; r++) {
		memset(sh, 0, sizeof(*sh));
		p = cg_add(&cgs, "/mo_race/p", true);
		c = cg_add(&cgs, "/mo_race/p/c", false);
		if (p < 0 || c < 0)
			goto out;
		id_p = get_cgroup_id("/mo_race/p");
		id_c = get_cgroup_id("/mo_race/p/c");
		link_p = attach(skel->maps.policy_a, p, BPF_F_ALLOW_OVERRIDE);
		if (!ASSERT_OK_PTR(link_p, "attach to p"))
			goto out;
		link_c = attach(skel->maps.policy_throttle, c, 0);
		if (!ASSERT_OK_PTR(link_c, "attach to p/c"))
			goto out;

		for (i = 0; i < NR_CHARGERS; i++) {
			pids[i] = spawn_charger("/mo_race/p/c", RACE_HOLD, i);
			if (!ASSERT_GT(pids[i], 0, "fork"))
				goto out;
			rounds[i] = 1;
		}
		if (!ASSERT_TRUE(wait_rounds(rounds, NR_CHARGERS), "charging") ||
		    !ASSERT_TRUE(wait_charged(skel, id_c, 0), "charges under the policy"))
			goto out;

		for (i = 0; i < NR_CHARGERS; i++)
			kill(pids[i], SIGKILL);
		if (!ASSERT_OK(cg_rmdir_wait(&cgs, c), "rmdir p/c"))
			goto out;
		for (i = 0; i < NR_CHARGERS; i++) {
			ret = waitpid(pids[i], &status[i], WNOHANG);
			if (ret == pids[i])
				pids[i] = 0;
			exiting += !ret;
		}
		if (!ASSERT_OK(cg_rmdir_wait(&cgs, p), "rmdir p"))
			goto out;
		for (i = 0; i < NR_CHARGERS; i++) {
			if (pids[i] && !ASSERT_EQ(waitpid(pids[i], &status[i], 0), pids[i],
						  "waitpid"))
				goto out;
			pids[i] = 0;
			ASSERT_TRUE(WIFSIGNALED(status[i]) && WTERMSIG(status[i]) == SIGKILL,
				    "killed");
		}

		/*
		 * c came online for A, then for its own policy. If its link
		 * is released before its memcg goes offline (which waits for
		 * the exiting tasks), c comes back under A for that time.
		 */
		ASSERT_TRUE(wait_balanced(skel, id_c, 2), "p/c offline");
		ASSERT_TRUE(wait_stat(skel, id_p, 0, 1, 1), "p offline");
		for (t = 0; t < WAIT_MS && (link_map_id(link_p) || link_map_id(link_c)); t++)
			usleep(1000);
		ASSERT_EQ(link_map_id(link_p), 0, "link of p detached");
		ASSERT_EQ(link_map_id(link_c), 0, "link of p/c detached");
		bpf_link__destroy(link_c);
		link_c = NULL;
		bpf_link__destroy(link_p);
		link_p = NULL;
	}
	printf("%s: %d rounds, %d of %d tasks still exiting when their cgroup was removed\n",
	       __func__, RACE_ROUNDS, exiting, RACE_ROUNDS * NR_CHARGERS);
	ASSERT_EQ(skel->bss->errors, 0, "policy errors");
out:
	for (i = 0; i < NR_CHARGERS; i++) {
		if (pids[i] <= 0)
			continue;
		kill(pids[i], SIGKILL);
		waitpid(pids[i], NULL, 0);
	}
	bpf_link__destroy(link_c);
	bpf_link__destroy(link_p);
	cg_remove_all(&cgs);
}

static __u32 map_id(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return bpf_map_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

/* Wait until no map (@is_map) or program has id @id anymore */
static bool wait_freed(__u32 id, bool is_map)
{
	int fd, t;

	for (t = 0; t < 3 * WAIT_MS; t++) {
		fd = is_map ? bpf_map_get_fd_by_id(id) : bpf_prog_get_fd_by_id(id);
		if (fd < 0)
			return errno == ENOENT;
		close(fd);
		usleep(1000);
	}
	return false;
}

/*
 * The last fd of a policy's map closed while it is attached: the link
 * keeps the map, whose programs go on running, until the link goes; the
 * map, its programs and the maps they use are then freed.
 */
static void test_map_closed(void)
{
	__u32 policy_id = 0, stats_id = 0, prog_id = 0;
	struct bpf_prog_info prog_info = {};
	__u32 len = sizeof(prog_info);
	struct memcg_ops *skel = NULL;
	struct bpf_link *link = NULL;
	struct memcg_ops_stat st;
	struct cgroups cgs = {};
	int parent, c, stats = -1;
	__u64 id_c, id_new;
	pid_t pid;

	memset(sh, 0, sizeof(*sh));
	parent = cg_add(&cgs, "/mo_mapfd", true);
	c = cg_add(&cgs, "/mo_mapfd/c", false);
	if (parent < 0 || c < 0)
		goto out;
	id_c = get_cgroup_id("/mo_mapfd/c");

	/* A skeleton of its own, whose fds all go */
	skel = memcg_ops__open_and_load();
	if (!ASSERT_OK_PTR(skel, "memcg_ops__open_and_load"))
		goto out;
	policy_id = map_id(bpf_map__fd(skel->maps.policy_throttle));
	stats_id = map_id(bpf_map__fd(skel->maps.stats));
	if (!ASSERT_OK(bpf_prog_get_info_by_fd(bpf_program__fd(skel->progs.throttle_charged),
					       &prog_info, &len), "prog info") ||
	    !ASSERT_NEQ(policy_id, 0, "policy map id") ||
	    !ASSERT_NEQ(stats_id, 0, "stats map id"))
		goto out;
	prog_id = prog_info.id;
	link = attach(skel->maps.policy_throttle, parent, 0);
	if (!ASSERT_OK_PTR(link, "attach"))
		goto out;
	stats = bpf_map_get_fd_by_id(stats_id);
	if (!ASSERT_GE(stats, 0, "stats map fd"))
		goto out;
	memcg_ops__destroy(skel);
	skel = NULL;

	/* Still attached, still running */
	ASSERT_EQ(link_map_id(link), policy_id, "link keeps the map");
	if (cg_add(&cgs, "/mo_mapfd/new", false) < 0)
		goto out;
	id_new = get_cgroup_id("/mo_mapfd/new");
	ASSERT_OK(get_stat_fd(stats, id_new, &st), "new cgroup stat");
	ASSERT_EQ(st.online, 1, "new cgroup online");
	pid = spawn_touch("/mo_mapfd/c", 4 * MB, 1, 1);
	if (!ASSERT_GT(pid, 0, "fork") || !child_ok(pid, "workload"))
		goto out;
	ASSERT_OK(get_stat_fd(stats, id_c, &st), "stat");
	ASSERT_GE(st.charged, 4 * MB / page_size, "charges counted");

	/* Detached and freed with the link */
	bpf_link__destroy(link);
	link = NULL;
	ASSERT_OK(get_stat_fd(stats, id_c, &st), "stat");
	ASSERT_EQ(st.offline, 1, "offline on detach");
	close(stats);
	stats = -1;
	ASSERT_TRUE(wait_freed(policy_id, true), "policy map freed");
	ASSERT_TRUE(wait_freed(prog_id, false), "program freed");
	ASSERT_TRUE(wait_freed(stats_id, true), "stats map freed");
out:
	bpf_link__destroy(link);
	if (stats >= 0)
		close(stats);
	memcg_ops__destroy(skel);
	cg_remove_all(&cgs);
}

#define THROTTLE_DELAY_MS	50
#define THROTTLE_SIZE		(8 * MB)

/*
 * Charge throttling: the policy delays the low cgroup's charges while the
 * high one is active. Low is not delayed while high is idle; while high
 * runs, low sleeps at least most of the delays the policy returned, and
 * high is not delayed.
 */
/* The time the tasks of a cgroup stalled on memory: "some" of PSI, in us */
static long long memory_stall_us(int cgfd)
{
	char buf[256], *total;
	int fd, len;

	fd = openat(cgfd, "memory.pressure", O_RDONLY);
	if (fd < 0)
		return -1;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len < 0)
		return -1;
	buf[len] = 0;
	total = strstr(buf, "total=");
	if (strncmp(buf, "some ", 5) || !total)
		return -1;
	return strtoll(total + 6, NULL, 10);
}

static void test_throttle(struct memcg_ops *skel)
{
	struct memcg_ops_stat st_low, st_high;
	__u64 idle_ns, busy_ns, high_ns, min_ns;
	long long stall_us;
	struct bpf_link *link = NULL;
	struct cgroups cgs = {};
	int parent, high, low, i;
	pid_t hpid = 0, pid;
	__u32 delayed_idle;

	memset(sh, 0, sizeof(*sh));
	parent = cg_add(&cgs, "/mo_thr", true);
	high = cg_add(&cgs, "/mo_thr/high", false);
	low = cg_add(&cgs, "/mo_thr/low", false);
	if (parent < 0 || high < 0 || low < 0)
		goto out;

	skel->bss->high_cgid = get_cgroup_id("/mo_thr/high");
	skel->bss->low_cgid = get_cgroup_id("/mo_thr/low");
	skel->bss->delay_ms = THROTTLE_DELAY_MS;
	skel->bss->active_window_ns = 500 * 1000000ULL;
	skel->bss->high_last_charge_ns = 0;

	link = attach(skel->maps.policy_throttle, parent, 0);
	if (!ASSERT_OK_PTR(link, "attach"))
		goto out;

	/* High idle: low runs at full speed */
	pid = spawn_touch("/mo_thr/low", THROTTLE_SIZE, 1, 1);
	if (!child_ok(pid, "low, high idle"))
		goto out;
	idle_ns = sh->ns[1];
	if (!ASSERT_OK(get_stat(skel, skel->bss->low_cgid, &st_low), "low stat"))
		goto out;
	delayed_idle = st_low.delayed;
	ASSERT_EQ(delayed_idle, 0, "low not delayed while high idle");

	/* High active, until told to stop */
	hpid = spawn_touch("/mo_thr/high", MB, 0, 2);
	for (i = 0; i < WAIT_MS && !skel->bss->high_last_charge_ns; i++)
		usleep(1000);
	if (!ASSERT_NEQ(skel->bss->high_last_charge_ns, 0, "high active"))
		goto out;

	stall_us = memory_stall_us(low);
	if (!ASSERT_GE(stall_us, 0, "low's memory.pressure"))
		goto out;
	pid = spawn_touch("/mo_thr/low", THROTTLE_SIZE, 1, 1);
	if (!child_ok(pid, "low, high active"))
		goto out;
	busy_ns = sh->ns[1];
	stall_us = memory_stall_us(low) - stall_us;
	WRITE_ONCE(sh->stop, 1);
	if (!child_ok(hpid, "high"))
		goto out;
	hpid = 0;
	high_ns = sh->ns[2];

	if (!ASSERT_OK(get_stat(skel, skel->bss->low_cgid, &st_low), "low stat") ||
	    !ASSERT_OK(get_stat(skel, skel->bss->high_cgid, &st_high), "high stat"))
		goto out;
	printf("%s: low %.0f ms with high idle, %.0f ms with high active\n",
	       __func__, idle_ns / 1e6, busy_ns / 1e6);
	printf("%s: low delayed %u times by %u ms, memory stall %.0f ms; high %.1f ms per MB\n",
	       __func__, st_low.delayed - delayed_idle, THROTTLE_DELAY_MS,
	       stall_us / 1e3, high_ns / 1e6);

	/* Low faulted 8 MB: one charge batch per 64 pages at least */
	ASSERT_GE(st_low.delayed, THROTTLE_SIZE / page_size / 64 / 2, "low delayed");
	/* Each delayed charge came with its own return to userland */
	min_ns = (st_low.delayed - delayed_idle) * THROTTLE_DELAY_MS * 1000000ULL;
	ASSERT_GE(busy_ns, min_ns * 8 / 10, "low slept most of the delays");
	/* ... and not much more: each charge delays by its own amount once */
	ASSERT_LT(busy_ns, idle_ns * 2 + min_ns * 2, "low slept no more than asked");
	/*
	 * The kernel's account: the sleeps are low's memory stalls (PSI). PSI
	 * counts on the scheduler's clock, which under emulation runs apart
	 * from CLOCK_MONOTONIC (half of it was seen): a loose lower bound.
	 */
	ASSERT_GE(stall_us * 1000, min_ns / 4, "delays counted in memory.pressure");
	ASSERT_LE(stall_us * 1000, busy_ns + 100 * 1000000ULL, "stall within the run");
	ASSERT_GT(busy_ns, idle_ns * 2, "low slower with high active");
	ASSERT_EQ(st_high.delayed, 0, "high not delayed");
	/* High's 1 MB rounds: far below the 4 delays a throttled MB takes */
	ASSERT_LT(high_ns, 2 * THROTTLE_DELAY_MS * 1000000ULL, "high undisturbed");
	ASSERT_EQ(skel->bss->errors, 0, "policy errors");
out:
	if (hpid > 0) {
		WRITE_ONCE(sh->stop, 1);
		waitpid(hpid, NULL, 0);
	}
	bpf_link__destroy(link);
	cg_remove_all(&cgs);
}

#define LEDGER_SIZE	(16 * MB)

/*
 * Wait until the policy's count of pages charged minus pages uncharged for
 * @cgid is the usage of cgroup @cg, in a stable state (the counts did not
 * change while memory.current was read). Returns that state in @st and
 * @cur (bytes).
 */
static bool wait_ledger(struct memcg_ops *skel, __u64 cgid, int cg,
			struct memcg_ops_stat *st, long long *cur)
{
	struct memcg_ops_stat again;
	int i;

	for (i = 0; i < WAIT_MS; i++) {
		if (get_stat(skel, cgid, st))
			return false;
		*cur = read_cgroup_value(cg, "memory.current", NULL);
		if (get_stat(skel, cgid, &again))
			return false;
		if (again.charged == st->charged && again.uncharged == st->uncharged &&
		    *cur >= 0 && st->charged - st->uncharged == *cur / page_size)
			return true;
		usleep(1000);
	}
	fprintf(stderr, "%llu charged - %llu uncharged != memory.current %lld pages\n",
		(unsigned long long)st->charged, (unsigned long long)st->uncharged,
		*cur / page_size);
	return false;
}

/*
 * memcg_uncharged sees the pages that memcg_charged saw go. The policy is
 * there before the first charge, and every charge in the cgroup can spin:
 * while the cgroup is online, the pages charged minus the pages uncharged
 * that the hooks reported are its memory.current, exactly. Pages of the
 * per-CPU stocks are charged and not yet uncharged; memory.high 0 drains
 * the stocks back to the cgroup (and reclaims what is left), which the
 * uncharge hook must report too. The hooks see the memcg charged, not its
 * ancestors, whose page counters are charged too.
 */
static void test_uncharged(struct memcg_ops *skel)
{
	__u64 pages = LEDGER_SIZE / page_size, cgid, parent_cgid;
	struct memcg_ops_stat st, before, pst;
	struct bpf_link *link = NULL;
	struct cgroups cgs = {};
	long long cur0, cur;
	int parent, cg;
	pid_t pid;

	memset(sh, 0, sizeof(*sh));
	parent = cg_add(&cgs, "/mo_ledger", true);
	cg = cg_add(&cgs, "/mo_ledger/c", false);
	if (parent < 0 || cg < 0)
		goto out;
	cgid = get_cgroup_id("/mo_ledger/c");
	parent_cgid = get_cgroup_id("/mo_ledger");
	skel->bss->low_cgid = 0;
	skel->bss->high_cgid = 0;

	link = attach(skel->maps.policy_throttle, parent, 0);
	if (!ASSERT_OK_PTR(link, "attach"))
		goto out;

	pid = spawn_touch("/mo_ledger/c", LEDGER_SIZE, 1, 1);
	if (!child_ok(pid, "workload"))
		goto out;
	/* The workload has exited: what it touched is freed. */
	if (!ASSERT_TRUE(wait_ledger(skel, cgid, cg, &before, &cur0),
			 "charged - uncharged == memory.current, before the drain"))
		goto out;
	if (!ASSERT_OK(write_cgroup_file("/mo_ledger/c", "memory.high", "0"), "memory.high"))
		goto out;
	if (!ASSERT_TRUE(wait_ledger(skel, cgid, cg, &st, &cur),
			 "charged - uncharged == memory.current, after the drain"))
		goto out;
	printf("%s: %llu pages touched, %llu charged, %llu uncharged, %lld left; ",
	       __func__, (unsigned long long)pages, (unsigned long long)st.charged,
	       (unsigned long long)st.uncharged, cur / page_size);
	printf("before the drain: %llu uncharged, %lld left\n",
	       (unsigned long long)before.uncharged, cur0 / page_size);
	ASSERT_GE(st.charged, pages, "charged");
	ASSERT_EQ(st.charged, before.charged, "nothing charged after the workload");
	/*
	 * Left: pages still in per-CPU LRU batches, kernel objects not yet
	 * freed. With the equality above, most of what was charged was
	 * uncharged, and reported.
	 */
	ASSERT_LE(cur, cur0, "memory.current after the drain");
	ASSERT_LT(cur, LEDGER_SIZE / 8, "memory.current after the drain");
	ASSERT_OK(get_stat(skel, parent_cgid, &pst), "parent stat");
	ASSERT_EQ(pst.charged, 0, "the parent's page counter is not reported");

	/*
	 * Going offline, the memcg drains what its per-CPU stocks took
	 * since: the policy is not told (it saw the offline), nor of
	 * anything after it.
	 */
	cg_remove(&cgs, cg);
	if (!ASSERT_TRUE(wait_stat(skel, cgid, 0, 1, 1), "offline"))
		goto out;
	ASSERT_OK(get_stat(skel, cgid, &st), "stat");
	ASSERT_EQ(st.stray, 0, "no hook after offline");
	ASSERT_EQ(skel->bss->errors, 0, "policy errors");
out:
	bpf_link__destroy(link);
	cg_remove_all(&cgs);
}

#define PROT_MAX	(48 * MB)
#define PROT_HIGH	(24 * MB)
#define PROT_LOW	(48 * MB)
#define PROT_PART	(8 * MB)

/* One run of run_protection() */
struct prot_run {
	struct bpf_map *map;	/* the policy attached to the parent, or NULL */
	const char *knob;	/* memory.low or memory.min of high, or NULL */
	long long knob_bytes;	/* its value */
	long long swapped;	/* out: high's memory.swap.current, -1 on error */
	/* out: what the policy saw of high, low and the parent */
	struct memcg_ops_stat high, low, parent;
};

/*
 * High holds PROT_HIGH of anonymous memory, then low touches PROT_LOW in
 * the same parent, limited to PROT_MAX: reclaim, whose target is the
 * parent, must swap out at least PROT_HIGH of the two. With @r->map
 * attached to the parent (or without a policy), and high's @r->knob set,
 * report how much of high was swapped out.
 */
static void run_protection(struct memcg_ops *skel, struct prot_run *r)
{
	struct bpf_link *link = NULL;
	struct cgroups cgs = {};
	int parent, high, low, i;
	pid_t hpid = 0, pid;
	char buf[32];

	r->swapped = -1;
	memset(&r->high, 0, sizeof(r->high));
	memset(&r->low, 0, sizeof(r->low));
	memset(&r->parent, 0, sizeof(r->parent));
	memset(sh, 0, sizeof(*sh));
	parent = cg_add(&cgs, "/mo_prot", true);
	if (parent < 0)
		goto out;
	snprintf(buf, sizeof(buf), "%d", PROT_MAX);
	if (!ASSERT_OK(write_cgroup_file("/mo_prot", "memory.max", buf), "memory.max"))
		goto out;
	high = cg_add(&cgs, "/mo_prot/high", false);
	low = cg_add(&cgs, "/mo_prot/low", false);
	if (high < 0 || low < 0)
		goto out;
	snprintf(buf, sizeof(buf), "%lld", r->knob_bytes);
	if (r->knob && !ASSERT_OK(write_cgroup_file("/mo_prot/high", r->knob, buf), r->knob))
		goto out;
	skel->bss->protect_cgid = get_cgroup_id("/mo_prot/high");

	if (r->map) {
		link = attach(r->map, parent, 0);
		if (!ASSERT_OK_PTR(link, "attach"))
			goto out;
	}

	/* High: touch and hold, until told to stop */
	hpid = fork();
	if (!hpid) {
		if (join_parent_cgroup("/mo_prot/high") || touch_anon(PROT_HIGH, true))
			_exit(1);
		WRITE_ONCE(sh->ready, 1);
		while (!READ_ONCE(sh->stop))
			usleep(1000);
		_exit(0);
	}
	for (i = 0; i < WAIT_MS && !READ_ONCE(sh->ready); i++)
		usleep(1000);
	if (!ASSERT_EQ(READ_ONCE(sh->ready), 1, "high holds its memory"))
		goto out;

	pid = spawn_touch("/mo_prot/low", PROT_LOW, 1, 1);
	if (!child_ok(pid, "low"))
		goto out;

	r->swapped = read_cgroup_value(high, "memory.swap.current", NULL);
	ASSERT_GE(r->swapped, 0, "high memory.swap.current");
	if (r->map) {
		ASSERT_OK(get_stat(skel, skel->bss->protect_cgid, &r->high), "high stat");
		ASSERT_OK(get_stat(skel, get_cgroup_id("/mo_prot/low"), &r->low), "low stat");
		ASSERT_OK(get_stat(skel, get_cgroup_id("/mo_prot"), &r->parent), "parent stat");
	}
out:
	if (hpid > 0) {
		WRITE_ONCE(sh->stop, 1);
		child_ok(hpid, "high");
	}
	bpf_link__destroy(link);
	cg_remove_all(&cgs);
}

/*
 * below_low / below_min: without a policy reclaim swaps out part of high;
 * with a policy whose hook says high is protected, none of it, though high
 * has no memory.low or memory.min.
 */
static void test_protection(struct memcg_ops *skel, struct bpf_map *map,
			    bool use_min)
{
	struct prot_run base = {}, prot = { .map = map };

	run_protection(skel, &base);
	if (!ASSERT_GT(base.swapped, 0, "without policy, high is swapped out"))
		return;
	run_protection(skel, &prot);
	printf("%s: high swapped out: %lld kB without policy, %lld kB with %s\n",
	       __func__, base.swapped / 1024, prot.swapped / 1024,
	       use_min ? "below_min" : "below_low");
	ASSERT_EQ(prot.swapped, 0, "with policy, high is not swapped out");
	if (use_min)
		ASSERT_GT(prot.high.below_min, 0, "below_min called for high");
	else
		ASSERT_GT(prot.high.below_low, 0, "below_low called for high");
	ASSERT_EQ(skel->bss->errors, 0, "policy errors");
}

static __u32 prot_calls(const struct memcg_ops_stat *st, bool use_min)
{
	return use_min ? st->below_min : st->below_low;
}

/*
 * The configured protection is a floor a policy cannot lower. With high's
 * memory.low (memory.min) above its usage, a policy that answers "not
 * protected" for every memcg leaves high exactly as protected as without a
 * policy, and is not even asked about it; it is asked about low, and never
 * about the reclaim target. With a setting below high's usage, the policy
 * is asked about high and gets the kernel's effective protection, which
 * for a child of the reclaim target is the setting itself, and the usage.
 */
static void test_protection_floor(struct memcg_ops *skel, bool use_min)
{
	struct bpf_map *map = use_min ? skel->maps.policy_deny_min :
					skel->maps.policy_deny_low;
	const char *knob = use_min ? "memory.min" : "memory.low";
	struct prot_run base = { .knob = knob, .knob_bytes = 2 * PROT_HIGH };
	struct prot_run deny = { .map = map, .knob = knob, .knob_bytes = 2 * PROT_HIGH };
	struct prot_run part = { .map = map, .knob = knob, .knob_bytes = PROT_PART };

	run_protection(skel, &base);
	if (!ASSERT_EQ(base.swapped, 0, "without policy, high protected by its setting"))
		return;
	run_protection(skel, &deny);
	printf("%s: %s: high swapped out %lld kB; asked about high %u, low %u, parent %u times\n",
	       __func__, knob, deny.swapped / 1024, prot_calls(&deny.high, use_min),
	       prot_calls(&deny.low, use_min), prot_calls(&deny.parent, use_min));
	ASSERT_EQ(deny.swapped, 0, "policy saying no: high as protected as without");
	ASSERT_EQ(prot_calls(&deny.high, use_min), 0, "not asked about protected high");
	ASSERT_GT(prot_calls(&deny.low, use_min), 0, "asked about low");
	ASSERT_EQ(prot_calls(&deny.parent, use_min), 0, "not asked about the reclaim target");

	run_protection(skel, &part);
	printf("%s: %s %d kB: asked about high %u times, last with %llu, usage %llu pages\n",
	       __func__, knob, PROT_PART / 1024, prot_calls(&part.high, use_min),
	       (unsigned long long)part.high.prot, (unsigned long long)part.high.usage);
	ASSERT_GT(prot_calls(&part.high, use_min), 0, "asked about high above its setting");
	ASSERT_EQ(part.high.prot, PROT_PART / page_size, "effective protection passed");
	ASSERT_GT(part.high.usage, part.high.prot, "usage passed, above it");
	ASSERT_LE(part.high.usage, (PROT_HIGH + MB) / page_size, "usage at most high's");
	ASSERT_EQ(prot_calls(&part.parent, use_min), 0, "not asked about the reclaim target");
	ASSERT_EQ(skel->bss->errors, 0, "policy errors");
}

/* Attach errors, each with its errno. */
static void test_attach_errors(struct memcg_ops *skel)
{
	struct bpf_map *map = skel->maps.policy_a;
	struct cgroups cgs = {};
	int cg, nomem, file = -1;
	struct bpf_link *link;
	__u64 caps;

	cg = cg_add(&cgs, "/mo_err", false);
	/* memory is not enabled in /mo_err's subtree_control */
	nomem = cg_add(&cgs, "/mo_err/nomem", false);
	if (cg < 0 || nomem < 0)
		goto out;
	file = open("/proc/self/status", O_RDONLY);
	if (!ASSERT_GE(file, 0, "open file"))
		goto out;

	attach_fails(map, nomem, 0, ENODEV, "no memory controller");
	attach_fails(map, file, 0, EBADF, "not a cgroup");
	attach_fails(map, cg, BPF_F_ALLOW_MULTI, EINVAL, "ALLOW_MULTI");
	attach_fails(map, cg, BPF_F_REPLACE, EINVAL, "REPLACE");
	/* A policy needs a cgroup */
	link = bpf_map__attach_struct_ops(map);
	if (!ASSERT_ERR_PTR(link, "global attach"))
		bpf_link__destroy(link);
	else
		ASSERT_EQ(errno, EOPNOTSUPP, "global attach errno");
	/* A policy acts on the memory of every task below its cgroup */
	if (ASSERT_OK(cap_disable_effective(1ULL << CAP_SYS_ADMIN, &caps),
		      "drop CAP_SYS_ADMIN")) {
		attach_fails(map, cg, 0, EPERM, "without CAP_SYS_ADMIN");
		cap_enable_effective(caps, NULL);
	}
	ASSERT_EQ(skel->bss->errors, 0, "policy errors");
out:
	if (file >= 0)
		close(file);
	cg_remove_all(&cgs);
}

/* Replacing a policy needs what attaching one needs: CAP_SYS_ADMIN. */
static void test_update_perm(struct memcg_ops *skel)
{
	struct bpf_link *link = NULL;
	struct cgroups cgs = {};
	__u32 id_a;
	__u64 caps, cgid;
	int cg, err;

	cg = cg_add(&cgs, "/mo_upd", false);
	if (cg < 0)
		goto out;
	cgid = get_cgroup_id("/mo_upd");
	link = attach(skel->maps.policy_a, cg, 0);
	if (!ASSERT_OK_PTR(link, "attach"))
		goto out;
	id_a = link_map_id(link);
	if (!ASSERT_TRUE(wait_stat(skel, cgid, TAG_A, 1, 0), "under policy_a"))
		goto out;
	if (!ASSERT_OK(cap_disable_effective(1ULL << CAP_SYS_ADMIN, &caps),
		       "drop CAP_SYS_ADMIN"))
		goto out;
	err = bpf_link__update_map(link, skel->maps.policy_b);
	cap_enable_effective(caps, NULL);
	ASSERT_EQ(err, -EPERM, "update without CAP_SYS_ADMIN");
	/* The policy in force is unchanged */
	ASSERT_EQ(link_map_id(link), id_a, "link keeps its map");
	ASSERT_TRUE(wait_stat(skel, cgid, TAG_A, 1, 0), "still under policy_a");
	/* and can be replaced with it */
	ASSERT_OK(bpf_link__update_map(link, skel->maps.policy_b), "update");
	ASSERT_TRUE(wait_stat(skel, cgid, TAG_B, 2, 1), "under policy_b");
	ASSERT_EQ(skel->bss->errors, 0, "policy errors");
out:
	bpf_link__destroy(link);
	cg_remove_all(&cgs);
}

/*
 * The policy belongs to the cgroup, not to its memcg: with "memory"
 * disabled in the parent's cgroup.subtree_control, the memcg goes offline
 * and the link stays attached; no policy can be attached to the cgroup (it
 * has no memcg), nor to a sibling while its memcg is still going offline
 * (ENOENT until then, ENODEV after). With "memory" enabled again, the new
 * memcg comes online
 * under the cgroup's policy, not under the one attached to the parent in
 * between, and a second policy on the cgroup is refused.
 */
static void test_controller_toggle(struct memcg_ops *skel)
{
	struct bpf_link *link = NULL, *link2;
	struct cgroups cgs = {};
	int top, c, d, err;
	__u32 id_a;
	__u64 cgid;

	top = cg_add(&cgs, "/mo_tog", true);
	c = cg_add(&cgs, "/mo_tog/c", false);
	d = cg_add(&cgs, "/mo_tog/d", false);
	if (top < 0 || c < 0 || d < 0)
		goto out;
	cgid = get_cgroup_id("/mo_tog/c");
	link = attach(skel->maps.policy_a, c, 0);
	if (!ASSERT_OK_PTR(link, "attach"))
		goto out;
	id_a = link_map_id(link);
	if (!ASSERT_TRUE(wait_stat(skel, cgid, TAG_A, 1, 0), "c under A"))
		goto out;

	if (!ASSERT_OK(write_cgroup_file("/mo_tog", "cgroup.subtree_control", "-memory"),
		       "disable memory"))
		goto out;
	/* Right away: d's memcg is dying, or already gone */
	link2 = attach(skel->maps.policy_b, d, 0);
	err = errno;
	if (!ASSERT_ERR_PTR(link2, "attach to d as memory goes away"))
		bpf_link__destroy(link2);
	else if (ASSERT_TRUE(err == ENOENT || err == ENODEV,
			     "ENOENT or ENODEV as memory goes away"))
		printf("%s: attach as memory goes away: %s\n", __func__,
		       err == ENOENT ? "ENOENT" : "ENODEV");
	ASSERT_TRUE(wait_stat(skel, cgid, 0, 1, 1), "memcg of c offline");
	ASSERT_EQ(link_map_id(link), id_a, "link still attached");
	attach_fails(skel->maps.policy_b, c, 0, ENODEV, "attach to c without memcg");
	link2 = attach(skel->maps.policy_b, top, 0);
	if (!ASSERT_OK_PTR(link2, "attach above c"))
		goto out;

	if (!ASSERT_OK(write_cgroup_file("/mo_tog", "cgroup.subtree_control", "+memory"),
		       "enable memory")) {
		bpf_link__destroy(link2);
		goto out;
	}
	ASSERT_TRUE(wait_stat(skel, cgid, TAG_A, 2, 1), "new memcg of c under A");
	attach_fails(skel->maps.policy_b, c, 0, EBUSY, "second policy on c");
	bpf_link__destroy(link2);
	ASSERT_TRUE(wait_stat(skel, cgid, TAG_A, 2, 1), "c keeps its own policy");

	bpf_link__destroy(link);
	link = NULL;
	ASSERT_TRUE(wait_stat(skel, cgid, 0, 2, 2), "detached");
	ASSERT_EQ(skel->bss->errors, 0, "policy errors");
out:
	bpf_link__destroy(link);
	write_cgroup_file("/mo_tog", "cgroup.subtree_control", "+memory");
	cg_remove_all(&cgs);
}

/*
 * A cgroup removed while a socket created in it lives on (it holds the
 * cgroup's BPF state): the link is detached when the cgroup is removed,
 * not when the socket is closed.
 */
static void test_rmdir_socket(struct memcg_ops *skel)
{
	struct bpf_link *link = NULL;
	struct cgroups cgs = {};
	int top, c, other, i;
	struct pollfd pfd;
	pid_t pid = 0;
	__u64 cgid;

	memset(sh, 0, sizeof(*sh));
	top = cg_add(&cgs, "/mo_sock", true);
	c = cg_add(&cgs, "/mo_sock/c", false);
	other = cg_add(&cgs, "/mo_sock/other", false);
	if (top < 0 || c < 0 || other < 0)
		goto out;
	cgid = get_cgroup_id("/mo_sock/c");
	link = attach(skel->maps.policy_a, c, 0);
	if (!ASSERT_OK_PTR(link, "attach"))
		goto out;

	/* A task creates a socket in c, moves out and keeps it */
	pid = fork();
	if (!pid) {
		int sk;

		if (join_parent_cgroup("/mo_sock/c"))
			_exit(1);
		sk = socket(AF_INET, SOCK_DGRAM, 0);
		if (sk < 0 || join_parent_cgroup("/mo_sock/other"))
			_exit(2);
		WRITE_ONCE(sh->ready, 1);
		while (!READ_ONCE(sh->stop))
			usleep(1000);
		close(sk);
		_exit(0);
	}
	for (i = 0; i < WAIT_MS && !READ_ONCE(sh->ready); i++)
		usleep(1000);
	if (!ASSERT_EQ(READ_ONCE(sh->ready), 1, "socket made in c"))
		goto out;

	cg_remove(&cgs, c);
	if (!ASSERT_TRUE(wait_balanced(skel, cgid, 1), "c offline"))
		goto out;
	for (i = 0; i < WAIT_MS && link_map_id(link); i++)
		usleep(1000);
	ASSERT_EQ(link_map_id(link), 0, "link detached while the socket lives");
	pfd.fd = bpf_link__fd(link);
	pfd.events = POLLIN;
	ASSERT_EQ(poll(&pfd, 1, 0), 1, "poll");
	ASSERT_TRUE(pfd.revents & POLLHUP, "EPOLLHUP");
	ASSERT_EQ(skel->bss->errors, 0, "policy errors");
out:
	if (pid > 0) {
		WRITE_ONCE(sh->stop, 1);
		child_ok(pid, "socket holder");
	}
	bpf_link__destroy(link);
	cg_remove_all(&cgs);
}

#define FORK_DELAY_MS	500

/*
 * A child does not inherit the throttling its parent was given while it
 * charged the fork. A worker forks once from each of FORKS fresh cgroups
 * under a policy that delays the worker's charges (and not those of its
 * children): the first charge of a fork in a fresh memcg, the child's
 * task_struct, misses the per-CPU stock, so the policy is asked and the
 * worker sleeps FORK_DELAY_MS on its return from fork(); the child, whose
 * task_struct is copied from the worker's after that charge, starts at
 * once.
 */
static void test_fork_delay(struct memcg_ops *skel)
{
	struct bpf_link *link = NULL;
	struct cgroups cgs = {};
	char path[32];
	pid_t worker;
	int i;

	memset(sh, 0, sizeof(*sh));
	if (cg_add(&cgs, "/mo_fork", true) < 0)
		goto out;
	for (i = 0; i < FORKS; i++) {
		snprintf(path, sizeof(path), "/mo_fork/f%d", i);
		if (cg_add(&cgs, path, false) < 0)
			goto out;
	}
	skel->bss->delay_cgid = 0;
	skel->bss->delay_ms = FORK_DELAY_MS;
	link = attach(skel->maps.policy_delay, cgs.fd[0], 0);
	if (!ASSERT_OK_PTR(link, "attach"))
		goto out;

	worker = fork();
	if (!worker) {
		while (!READ_ONCE(sh->stop))
			usleep(1000);
		for (i = 0; i < FORKS; i++) {
			pid_t pid;

			snprintf(path, sizeof(path), "/mo_fork/f%d", i);
			if (join_parent_cgroup(path))
				_exit(1);
			sh->fork_ns[i] = get_time_ns();
			pid = fork();
			if (!pid) {
				sh->child_ns[i] = get_time_ns();
				_exit(0);
			}
			sh->parent_ns[i] = get_time_ns();
			if (pid < 0 || waitpid(pid, NULL, 0) != pid)
				_exit(2);
		}
		_exit(0);
	}
	skel->bss->delay_tgid = worker;
	WRITE_ONCE(sh->stop, 1);
	if (!child_ok(worker, "worker"))
		goto out;

	for (i = 0; i < FORKS; i++) {
		__u64 parent = sh->parent_ns[i] - sh->fork_ns[i];
		__u64 child = sh->child_ns[i] - sh->fork_ns[i];

		printf("%s: fork %d: parent back after %.1f ms, child ran after %.1f ms\n",
		       __func__, i, parent / 1e6, child / 1e6);
		/* The policy delayed the fork: the parent served it */
		ASSERT_GE(parent, FORK_DELAY_MS * 1000000ULL * 9 / 10, "parent delayed");
		/*
		 * Fork itself may take a few hundred ms (KASAN under
		 * emulation): the child ran half a delay before the parent
		 * was back, which it cannot if it served the delay too.
		 */
		ASSERT_LT(child + FORK_DELAY_MS * 1000000ULL / 2, parent, "child not delayed");
	}
	ASSERT_EQ(skel->bss->errors, 0, "policy errors");
out:
	bpf_link__destroy(link);
	skel->bss->delay_ms = 0;
	skel->bss->delay_tgid = 0;
	cg_remove_all(&cgs);
}

#define REMOTE_SIZE		(4 * MB)
#define REMOTE_DELAY_MS		2000

/*
 * Only a task of the charged memcg's subtree is throttled. A task faults
 * in REMOTE_SIZE in cgroup x, which is swapped out, and moves to its
 * sibling y. When it touches the memory again, the swap-ins are charged to
 * x, whose charges the policy delays: x is charged, the policy asks for
 * delays, and the task, outside x, is not delayed: none of its faults
 * takes half the delay asked (the swap-ins together take seconds on a
 * debug kernel under emulation, one of them at most milliseconds).
 */
static void test_remote_charge(struct memcg_ops *skel)
{
	long long x_before, x_after;
	struct bpf_link *link = NULL;
	struct memcg_ops_stat st;
	struct cgroups cgs = {};
	int x, y, i;
	pid_t pid = 0;
	char buf[32];

	memset(sh, 0, sizeof(*sh));
	if (cg_add(&cgs, "/mo_rem", true) < 0)
		goto out;
	x = cg_add(&cgs, "/mo_rem/x", false);
	y = cg_add(&cgs, "/mo_rem/y", false);
	if (x < 0 || y < 0)
		goto out;
	skel->bss->delay_cgid = get_cgroup_id("/mo_rem/x");
	skel->bss->delay_ms = 0;
	link = attach(skel->maps.policy_delay, cgs.fd[0], 0);
	if (!ASSERT_OK_PTR(link, "attach"))
		goto out;

	pid = fork();
	if (!pid) {
		__u64 start, t, longest = 0;
		char *p;
		size_t off;

		if (join_parent_cgroup("/mo_rem/x"))
			_exit(1);
		p = mmap(NULL, REMOTE_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			_exit(2);
		madvise(p, REMOTE_SIZE, MADV_NOHUGEPAGE);
		for (off = 0; off < REMOTE_SIZE; off += page_size)
			p[off] = 1;
		WRITE_ONCE(sh->ready, 1);
		while (!READ_ONCE(sh->stop))
			usleep(1000);
		start = get_time_ns();
		for (off = 0; off < REMOTE_SIZE; off += page_size) {
			t = get_time_ns();
			p[off] = 2;
			t = get_time_ns() - t;
			if (t > longest)
				longest = t;
		}
		WRITE_ONCE(sh->ns[0], get_time_ns() - start);
		WRITE_ONCE(sh->ns[1], longest);
		/* Hold the memory until x's usage is read */
		WRITE_ONCE(sh->ready, 2);
		while (READ_ONCE(sh->stop) != 2)
			usleep(1000);
		_exit(0);
	}
	for (i = 0; i < WAIT_MS && !READ_ONCE(sh->ready); i++)
		usleep(1000);
	if (!ASSERT_EQ(READ_ONCE(sh->ready), 1, "task holds its memory in x"))
		goto out;
	/* Swap it out, then move the task to y */
	snprintf(buf, sizeof(buf), "%d", 2 * REMOTE_SIZE);
	write_cgroup_file("/mo_rem/x", "memory.reclaim", buf);
	if (!ASSERT_GE(read_cgroup_value(x, "memory.swap.current", NULL),
		       REMOTE_SIZE / 2, "x swapped out"))
		goto out;
	snprintf(buf, sizeof(buf), "%d", pid);
	if (!ASSERT_OK(write_cgroup_file("/mo_rem/y", "cgroup.procs", buf), "move to y"))
		goto out;
	x_before = read_cgroup_value(x, "memory.current", NULL);
	skel->bss->delay_ms = REMOTE_DELAY_MS;
	WRITE_ONCE(sh->stop, 1);
	/* A throttled task would take up to 2 s per charge batch */
	for (i = 0; i < 12 * WAIT_MS && READ_ONCE(sh->ready) != 2; i++)
		usleep(1000);
	if (!ASSERT_EQ(READ_ONCE(sh->ready), 2, "task touched its memory again"))
		goto out;
	x_after = read_cgroup_value(x, "memory.current", NULL);
	WRITE_ONCE(sh->stop, 2);
	if (!child_ok(pid, "task"))
		goto out;
	pid = 0;
	ASSERT_OK(get_stat(skel, skel->bss->delay_cgid, &st), "x stat");
	printf("%s: x charged %lld kB by swap-ins, %u delays asked\n",
	       __func__, (x_after - x_before) / 1024, st.delayed);
	printf("%s: the task took %.1f ms, its longest fault %.1f ms\n",
	       __func__, sh->ns[0] / 1e6, sh->ns[1] / 1e6);
	ASSERT_GE(x_after - x_before, REMOTE_SIZE / 4, "swap-ins charged to x");
	ASSERT_GT(st.delayed, 0, "policy asked to delay x's charges");
	ASSERT_LT(sh->ns[1], REMOTE_DELAY_MS * 1000000ULL / 2, "task outside x not delayed");
	ASSERT_EQ(skel->bss->errors, 0, "policy errors");
out:
	skel->bss->delay_ms = 0;
	skel->bss->delay_cgid = 0;
	if (pid > 0) {
		WRITE_ONCE(sh->stop, 2);
		waitpid(pid, NULL, 0);
	}
	bpf_link__destroy(link);
	cg_remove_all(&cgs);
}

#define BALANCE_WORKERS	4
#define BALANCE_MAX	(3 * MB)

/*
 * The charge hook reports a batch before any of it can be uncharged: a
 * policy's running balance of charged minus uncharged pages never drops
 * below zero, while BALANCE_WORKERS tasks on all CPUs fault and free
 * memory against a memory.max that keeps draining the per-CPU stocks.
 * A smoke test: the order only mattered when refill_stock() returned pages
 * at once (a nested charge taking the stock's lock, or a task migrating
 * at the wrong moment), which a workload cannot bring about on purpose.
 */
static void test_balance(struct memcg_ops *skel)
{
	pid_t pids[BALANCE_WORKERS] = {};
	struct bpf_link *link = NULL;
	struct memcg_ops_stat st;
	struct cgroups cgs = {};
	char buf[32];
	__u64 cgid;
	int i;

	memset(sh, 0, sizeof(*sh));
	if (cg_add(&cgs, "/mo_bal", true) < 0 || cg_add(&cgs, "/mo_bal/c", false) < 0)
		goto out;
	snprintf(buf, sizeof(buf), "%d", BALANCE_MAX);
	if (!ASSERT_OK(write_cgroup_file("/mo_bal", "memory.max", buf), "memory.max"))
		goto out;
	cgid = get_cgroup_id("/mo_bal/c");
	skel->bss->low_cgid = 0;
	skel->bss->high_cgid = 0;
	link = attach(skel->maps.policy_throttle, cgs.fd[0], 0);
	if (!ASSERT_OK_PTR(link, "attach"))
		goto out;

	for (i = 0; i < BALANCE_WORKERS; i++)
		pids[i] = spawn_touch("/mo_bal/c", 4 * MB, 2, 0);
	for (i = 0; i < BALANCE_WORKERS; i++)
		child_ok(pids[i], "worker");
	cg_remove(&cgs, cgs.fd[1]);
	if (!ASSERT_TRUE(wait_stat(skel, cgid, 0, 1, 1), "offline"))
		goto out;
	ASSERT_OK(get_stat(skel, cgid, &st), "stat");
	printf("%s: %llu pages charged, %llu uncharged, %u underflows, max events %lld\n",
	       __func__, (unsigned long long)st.charged, (unsigned long long)st.uncharged,
	       st.underflow, read_cgroup_value(cgs.fd[0], "memory.events", "max"));
	ASSERT_GE(st.charged, BALANCE_WORKERS * 2 * 4 * MB / page_size, "charged");
	ASSERT_GT(read_cgroup_value(cgs.fd[0], "memory.events", "max"), 0,
		  "memory.max met: stocks drained");
	ASSERT_EQ(st.underflow, 0, "balance never below zero");
	ASSERT_EQ(skel->bss->errors, 0, "policy errors");
out:
	bpf_link__destroy(link);
	cg_remove_all(&cgs);
}

#define LIMITS_CAP_ASKED_MS	10000	/* more than MEMCG_BPF_MAX_DELAY_MS */
#define LIMITS_CAP_MS		2000	/* MEMCG_BPF_MAX_DELAY_MS */
#define LIMITS_WRITE_MS		300
#define LIMITS_WRITE_SIZE	(4 * MB)

/*
 * In a child in @cg: touch 128 new pages one at a time (two charge
 * batches at least, each of which asks for a delay) and put the longest
 * fault in sh->ns[0]; then, if @write, write LIMITS_WRITE_SIZE to a memfd
 * in one write() (many charge batches in one system call) and put its
 * duration in sh->ns[1].
 */
static pid_t spawn_delayed(const char *cg, bool write_too)
{
	static char buf[LIMITS_WRITE_SIZE];
	__u64 t, dt;
	pid_t pid;
	char *p;
	int i, fd;

	pid = fork();
	if (pid)
		return pid;
	if (join_parent_cgroup(cg))
		_exit(1);
	p = mmap(NULL, 128 * page_size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(2);
	WRITE_ONCE(sh->ready, 1);
	for (i = 0; i < 128; i++) {
		t = get_time_ns();
		p[i * page_size] = 1;
		dt = get_time_ns() - t;
		if (dt > sh->ns[0])
			sh->ns[0] = dt;
	}
	if (!write_too)
		_exit(0);
	fd = memfd_create("mo_limits", 0);
	if (fd < 0)
		_exit(3);
	/* buf is untouched: reading it maps the zero page, charges nothing */
	t = get_time_ns();
	if (write(fd, buf, sizeof(buf)) != sizeof(buf))
		_exit(4);
	sh->ns[1] = get_time_ns() - t;
	_exit(0);
}

/* Is @pid in an uninterruptible (here: killable) sleep? */
static bool in_d_state(pid_t pid)
{
	char path[64], buf[256], *s;
	int fd, len;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return false;
	buf[len] = 0;
	/* "pid (comm) S ...": the state follows the last ')' */
	s = strrchr(buf, ')');
	return s && s[1] == ' ' && s[2] == 'D';
}

/*
 * What the kernel makes of the delays a policy asks for, as documented: a
 * delay is cut at 2 s; the delays of the charges of one system call are
 * slept once, the longest, not added up; the sleep is killable.
 */
static void test_delay_limits(struct memcg_ops *skel)
{
	struct bpf_link *link = NULL;
	struct cgroups cgs = {};
	__u64 t, killed_ns;
	pid_t pid;
	int i;

	/* The policy on /mo_lim; the tasks in its leaf (no internal tasks) */
	if (cg_add(&cgs, "/mo_lim", true) < 0 || cg_add(&cgs, "/mo_lim/t", false) < 0)
		goto out;
	skel->bss->delay_cgid = get_cgroup_id("/mo_lim/t");
	skel->bss->delay_tgid = 0;
	link = attach(skel->maps.policy_delay, cgs.fd[0], 0);
	if (!ASSERT_OK_PTR(link, "attach"))
		goto out;

	/* The cap: 10 s asked, 2 s slept */
	memset(sh, 0, sizeof(*sh));
	skel->bss->delay_ms = LIMITS_CAP_ASKED_MS;
	pid = spawn_delayed("/mo_lim/t", false);
	if (!child_ok(pid, "cap"))
		goto out;
	printf("%s: %u ms asked: longest fault %.0f ms\n", __func__,
	       LIMITS_CAP_ASKED_MS, sh->ns[0] / 1e6);
	ASSERT_GE(sh->ns[0], LIMITS_CAP_MS * 1000000ULL * 9 / 10, "delayed");
	ASSERT_LT(sh->ns[0], LIMITS_CAP_MS * 1000000ULL * 3 / 2, "cut at 2 s");

	/* One write() that charges many batches: one sleep, the longest */
	memset(sh, 0, sizeof(*sh));
	skel->bss->delay_ms = LIMITS_WRITE_MS;
	pid = spawn_delayed("/mo_lim/t", true);
	if (!child_ok(pid, "write"))
		goto out;
	printf("%s: %u ms asked per charge batch: write() of %u MB took %.0f ms\n",
	       __func__, LIMITS_WRITE_MS, LIMITS_WRITE_SIZE / MB, sh->ns[1] / 1e6);
	ASSERT_GE(sh->ns[1], LIMITS_WRITE_MS * 1000000ULL * 9 / 10, "write delayed");
	ASSERT_LT(sh->ns[1], 3 * LIMITS_WRITE_MS * 1000000ULL, "slept once");

	/* SIGKILL ends the sleep */
	memset(sh, 0, sizeof(*sh));
	skel->bss->delay_ms = LIMITS_CAP_MS;
	pid = spawn_delayed("/mo_lim/t", false);
	if (!ASSERT_GT(pid, 0, "fork"))
		goto out;
	for (i = 0; i < WAIT_MS && !(READ_ONCE(sh->ready) && in_d_state(pid)); i++)
		usleep(1000);
	ASSERT_TRUE(in_d_state(pid), "child asleep");
	t = get_time_ns();
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	killed_ns = get_time_ns() - t;
	printf("%s: SIGKILL during a 2 s delay: reaped after %.0f ms\n", __func__,
	       killed_ns / 1e6);
	ASSERT_LT(killed_ns, LIMITS_CAP_MS * 1000000ULL / 2, "killable");
	ASSERT_EQ(skel->bss->errors, 0, "policy errors");
out:
	bpf_link__destroy(link);
	skel->bss->delay_ms = 0;
	skel->bss->delay_cgid = 0;
	cg_remove_all(&cgs);
}

#define FLOOR_SIZE	(32 * MB)
#define FLOOR_OVER	5	/* % of memory.high by which the usage is over */
#define FLOOR_TOUCH	80	/* pages per round: one charge batch at least */
#define FLOOR_ROUNDS	3
#define FLOOR_DELAY_MS	1000	/* longer than the penalty */
#define FLOOR_SHORT_MS	50	/* shorter than the penalty */

/*
 * In a child in @cg: hold FLOOR_SIZE of anonymous memory, then, each time
 * the parent writes a byte to @go, touch FLOOR_TOUCH new pages one at a
 * time, put the longest fault of round i into sh->ns[i] and free them
 * again, so that every round starts as far over memory.high. Tells @ready
 * when it holds its memory and after each round. It stays on one CPU, so
 * that a round cannot live on what the per-CPU stocks of two CPUs hold.
 */
static pid_t spawn_floor(const char *cg, int ready[2], int go[2])
{
	char *p, *round, c = 0;
	__u64 t, dt;
	cpu_set_t cpus;
	size_t off;
	pid_t pid;
	int r, i;

	pid = fork();
	if (pid)
		return pid;
	close(ready[0]);
	close(go[1]);
	CPU_ZERO(&cpus);
	CPU_SET(sched_getcpu(), &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus) || join_parent_cgroup(cg))
		_exit(1);
	p = mmap(NULL, FLOOR_SIZE + FLOOR_TOUCH * page_size,
		 PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(2);
	madvise(p, FLOOR_SIZE + FLOOR_TOUCH * page_size, MADV_NOHUGEPAGE);
	for (off = 0; off < FLOOR_SIZE; off += page_size)
		p[off] = 1;
	round = p + FLOOR_SIZE;
	for (r = 0; r < FLOOR_ROUNDS; r++) {
		if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(3);
		for (i = 0; i < FLOOR_TOUCH; i++) {
			t = get_time_ns();
			round[i * page_size] = 1;
			dt = get_time_ns() - t;
			if (dt > sh->ns[r])
				sh->ns[r] = dt;
		}
		if (madvise(round, FLOOR_TOUCH * page_size, MADV_DONTNEED))
			_exit(4);
	}
	_exit(write(ready[1], &c, 1) == 1 ? 0 : 5);
}

/*
 * A policy's delay is a floor under the memory.high penalty, not a
 * replacement for it, nor added to it. A task a few percent over
 * memory.high, which reclaim cannot bring back under it (anonymous memory,
 * no swap), pays a penalty that grows with the square of the overage (a
 * few hundred ms here: the cgroup holds more than the child's anonymous
 * memory). It sleeps that with no delay asked, the delay when a policy
 * asks for a longer one, and still the penalty when the delay asked is
 * shorter.
 */
static void test_delay_floor(struct memcg_ops *skel)
{
	static const __u32 delays[FLOOR_ROUNDS] = { 0, FLOOR_DELAY_MS, FLOOR_SHORT_MS };
	int ready[2] = { -1, -1 }, go[2] = { -1, -1 }, cg, i;
	long long anon, cur, high, events;
	struct bpf_link *link = NULL;
	struct cgroups cgs = {};
	pid_t pid = -1;
	char buf[32], c = 0;
	bool ok;

	memset(sh, 0, sizeof(*sh));
	if (cg_add(&cgs, "/mo_flo", true) < 0 || cg_add(&cgs, "/mo_flo/t", false) < 0)
		goto out;
	cg = cgs.fd[1];
	/* Absent without swap accounting, when nothing can be swapped anyway */
	write_cgroup_file("/mo_flo/t", "memory.swap.max", "0");
	skel->bss->delay_ms = 0;
	skel->bss->delay_cgid = get_cgroup_id("/mo_flo/t");
	skel->bss->delay_tgid = 0;
	link = attach(skel->maps.policy_delay, cgs.fd[0], 0);
	if (!ASSERT_OK_PTR(link, "attach"))
		goto out;
	if (!ASSERT_OK(pipe(ready), "pipe") || !ASSERT_OK(pipe(go), "pipe"))
		goto out;
	pid = spawn_floor("/mo_flo/t", ready, go);
	if (!ASSERT_GT(pid, 0, "fork"))
		goto out;
	/* A child that dies ends the parent's reads */
	close(ready[1]);
	ready[1] = -1;
	close(go[0]);
	go[0] = -1;
	if (!ASSERT_EQ(read(ready[0], &c, 1), 1, "child holds its memory"))
		goto out;

	/* memory.high FLOOR_OVER % below what reclaim cannot take */
	anon = read_cgroup_value(cg, "memory.stat", "anon");
	high = anon * 100 / (100 + FLOOR_OVER) / page_size * page_size;
	snprintf(buf, sizeof(buf), "%lld", high);
	if (!ASSERT_OK(write_cgroup_file("/mo_flo/t", "memory.high", buf), "memory.high"))
		goto out;
	cur = read_cgroup_value(cg, "memory.current", NULL);
	events = read_cgroup_value(cg, "memory.events", "high");
	printf("%s: memory.high %lld kB, usage %lld kB: %.1f %% over\n", __func__,
	       high / 1024, cur / 1024, (cur - high) * 100.0 / high);
	if (!ASSERT_GE((cur - high) * 100, (FLOOR_OVER - 1) * high, "usage stays over high") ||
	    !ASSERT_LE((cur - high) * 100, 2 * FLOOR_OVER * high, "usage a few % over high"))
		goto out;

	/* The penalty alone, then with a longer delay, then a shorter one */
	for (i = 0; i < FLOOR_ROUNDS; i++) {
		skel->bss->delay_ms = delays[i];
		if (!ASSERT_EQ(write(go[1], &c, 1), 1, "go") ||
		    !ASSERT_EQ(read(ready[0], &c, 1), 1, "round done"))
			goto out;
	}
	ok = child_ok(pid, "child");
	pid = -1;
	if (!ok)
		goto out;
	printf("%s: longest fault %.0f ms (no delay), %.0f ms (%u asked), %.0f ms (%u asked)\n",
	       __func__, sh->ns[0] / 1e6, sh->ns[1] / 1e6, FLOOR_DELAY_MS,
	       sh->ns[2] / 1e6, FLOOR_SHORT_MS);
	ASSERT_GT(read_cgroup_value(cg, "memory.events", "high"), events,
		  "memory.high penalty path taken");
	/* The penalty exists, and is well shorter than the long delay */
	ASSERT_GE(sh->ns[0], 20 * 1000000ULL, "penalty alone");
	ASSERT_LE(sh->ns[0], FLOOR_DELAY_MS * 1000000ULL * 7 / 10, "penalty shorter than delay");
	/* The longer of the two, not the penalty, nor both */
	ASSERT_GE(sh->ns[1], FLOOR_DELAY_MS * 1000000ULL * 9 / 10, "delay is the floor");
	ASSERT_LT(sh->ns[1], FLOOR_DELAY_MS * 1000000ULL + sh->ns[0] * 2 / 3, "not the sum");
	/* A shorter delay does not replace the penalty */
	ASSERT_GE(sh->ns[2], sh->ns[0] * 6 / 10, "penalty is the floor");
	ASSERT_LT(sh->ns[2], FLOOR_DELAY_MS * 1000000ULL, "short delay");
	ASSERT_EQ(skel->bss->errors, 0, "policy errors");
out:
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
	bpf_link__destroy(link);
	skel->bss->delay_ms = 0;
	skel->bss->delay_cgid = 0;
	cg_remove_all(&cgs);
}

#define THP_DIR		"/sys/kernel/mm/transparent_hugepage/"
#define THP_SIZE	(2 * MB)
#define THP_AREA	(8 * MB)

/* The value of THP setting @name ("always [madvise] never") in @buf */
static int get_thp(const char *name, char *buf, size_t len)
{
	char path[96], line[96], *l, *r;
	FILE *f;

	snprintf(path, sizeof(path), THP_DIR "%s", name);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	l = fgets(line, sizeof(line), f);
	fclose(f);
	l = l ? strchr(line, '[') : NULL;
	r = l ? strchr(l, ']') : NULL;
	if (!r)
		return -EINVAL;
	*r = 0;
	snprintf(buf, len, "%s", l + 1);
	return 0;
}

static int set_thp(const char *name, const char *value)
{
	char path[96];
	int fd, ret = 0;

	snprintf(path, sizeof(path), THP_DIR "%s", name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	if (write(fd, value, strlen(value)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/*
 * A transparent huge page faulted in with THP defrag "never" is charged
 * with GFP_TRANSHUGE_LIGHT, which has no reclaim flag: the charge cannot
 * spin (gfpflags_allow_spinning()), as those of kmalloc_nolock(), which
 * memcg_charged does not see. But it is a page fault, and the hook must
 * see it: a policy would otherwise never hear of a workload's huge pages.
 */
static void test_thp_charge(struct memcg_ops *skel)
{
	int parent, cg, ready[2] = { -1, -1 }, stop[2] = { -1, -1 };
	char enabled[16], defrag[16], c;
	struct bpf_link *link = NULL;
	struct memcg_ops_stat st;
	struct cgroups cgs = {};
	long long cur, thp;
	pid_t pid = -1;
	__u64 cgid;

	if (get_thp("enabled", enabled, sizeof(enabled)) ||
	    get_thp("defrag", defrag, sizeof(defrag))) {
		printf("%s: no transparent huge pages: skipped\n", __func__);
		test__skip();
		return;
	}
	if (!ASSERT_OK(set_thp("defrag", "never"), "THP defrag never"))
		return;
	if (!strcmp(enabled, "never") &&
	    !ASSERT_OK(set_thp("enabled", "madvise"), "THP enabled madvise"))
		goto restore;

	parent = cg_add(&cgs, "/mo_thp", true);
	cg = cg_add(&cgs, "/mo_thp/c", false);
	if (parent < 0 || cg < 0)
		goto out;
	cgid = get_cgroup_id("/mo_thp/c");
	skel->bss->low_cgid = 0;
	skel->bss->high_cgid = 0;
	link = attach(skel->maps.policy_throttle, parent, 0);
	if (!ASSERT_OK_PTR(link, "attach") ||
	    !ASSERT_OK(pipe(ready), "pipe") || !ASSERT_OK(pipe(stop), "pipe"))
		goto out;

	pid = fork();
	if (!pid) {
		char *p, *a;

		close(ready[0]);
		close(stop[1]);
		if (join_parent_cgroup("/mo_thp/c"))
			_exit(1);
		p = mmap(NULL, THP_AREA + THP_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			_exit(2);
		a = (char *)(((unsigned long)p + THP_SIZE - 1) & ~(THP_SIZE - 1UL));
		madvise(a, THP_AREA, MADV_HUGEPAGE);
		memset(a, 1, THP_AREA);
		if (write(ready[1], "r", 1) != 1)
			_exit(3);
		while (read(stop[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(ready[1]);
	ready[1] = -1;
	close(stop[0]);
	stop[0] = -1;
	if (!ASSERT_GT(pid, 0, "fork") ||
	    !ASSERT_EQ(read(ready[0], &c, 1), 1, "huge pages touched"))
		goto out;

	thp = read_cgroup_value(cg, "memory.stat", "anon_thp");
	if (!ASSERT_GE(thp, THP_SIZE, "memory.stat anon_thp: huge pages faulted in"))
		goto out;
	if (!ASSERT_TRUE(wait_ledger(skel, cgid, cg, &st, &cur),
			 "charged - uncharged == memory.current"))
		goto out;
	printf("%s: %lld kB of huge pages, %llu pages charged, %lld kB in memory.current\n",
	       __func__, thp / 1024, (unsigned long long)st.charged, cur / 1024);
	ASSERT_GE(st.charged, thp / page_size, "memcg_charged saw the huge pages");
	ASSERT_EQ(skel->bss->errors, 0, "policy errors");
out:
	if (stop[1] >= 0)
		close(stop[1]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	if (stop[0] >= 0)
		close(stop[0]);
	if (ready[0] >= 0)
		close(ready[0]);
	if (ready[1] >= 0)
		close(ready[1]);
	bpf_link__destroy(link);
	cg_remove_all(&cgs);
restore:
	set_thp("defrag", defrag);
	set_thp("enabled", enabled);
}
/*
 * Swap on, once: zram if the system has no swap yet. @state: 0 not tried
 * yet, 1 on, -1 unavailable. Where there can be no swap (no zram), the
 * subtests that need it are skipped and the others still run.
 */
static bool need_swap(int *state, char *dev, size_t len)
{
	int err;

	if (!*state) {
		err = swap_on(dev, len, 256ULL * MB);
		if (err)
			printf("%s: no swap (zram: %s): skipping the subtests that need it\n",
			       __func__, strerror(-err));
		*state = err ? -1 : 1;
	}
	if (*state < 0)
		test__skip();
	return *state > 0;
}

/*
 * Start a subtest with the policy's error counter at 0, so that a failure
 * in one subtest does not fail the ones after it.
 */
static bool start_subtest(struct memcg_ops *skel, const char *name)
{
	if (!test__start_subtest(name))
		return false;
	skel->bss->errors = 0;
	return true;
}

void serial_test_memcg_ops(void)
{
	struct memcg_ops *skel;
	char swap_dev[32] = "";
	int swap = 0;

	page_size = sysconf(_SC_PAGESIZE);
	sh = mmap(NULL, page_size, PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (!ASSERT_NEQ(sh, MAP_FAILED, "mmap shared"))
		return;
	if (!ASSERT_OK(setup_cgroup_environment(), "setup_cgroup_environment"))
		goto unmap;
	skel = memcg_ops__open_and_load();
	if (!ASSERT_OK_PTR(skel, "memcg_ops__open_and_load"))
		goto cleanup;

	if (start_subtest(skel, "hierarchy"))
		test_hierarchy(skel);
	if (start_subtest(skel, "online_offline"))
		test_online_offline(skel);
	if (start_subtest(skel, "lifecycle"))
		test_lifecycle(skel);
	if (start_subtest(skel, "detach_charging"))
		test_detach_charging(skel);
	if (start_subtest(skel, "rmdir_charging"))
		test_rmdir_charging(skel);
	if (start_subtest(skel, "map_closed"))
		test_map_closed();
	if (start_subtest(skel, "throttle"))
		test_throttle(skel);
	if (start_subtest(skel, "uncharged"))
		test_uncharged(skel);
	if (start_subtest(skel, "attach_errors"))
		test_attach_errors(skel);
	if (start_subtest(skel, "update_perm"))
		test_update_perm(skel);
	if (start_subtest(skel, "controller_toggle"))
		test_controller_toggle(skel);
	if (start_subtest(skel, "rmdir_socket"))
		test_rmdir_socket(skel);
	if (start_subtest(skel, "fork_delay"))
		test_fork_delay(skel);
	if (start_subtest(skel, "delay_limits"))
		test_delay_limits(skel);
	if (start_subtest(skel, "delay_floor"))
		test_delay_floor(skel);
	if (start_subtest(skel, "thp_charge"))
		test_thp_charge(skel);

	/* Reclaim needs somewhere to put anonymous memory */
	if (start_subtest(skel, "below_low") && need_swap(&swap, swap_dev, sizeof(swap_dev)))
		test_protection(skel, skel->maps.policy_low, false);
	if (start_subtest(skel, "below_min") && need_swap(&swap, swap_dev, sizeof(swap_dev)))
		test_protection(skel, skel->maps.policy_min, true);
	if (start_subtest(skel, "low_floor") && need_swap(&swap, swap_dev, sizeof(swap_dev)))
		test_protection_floor(skel, false);
	if (start_subtest(skel, "min_floor") && need_swap(&swap, swap_dev, sizeof(swap_dev)))
		test_protection_floor(skel, true);
	if (start_subtest(skel, "remote_charge") && need_swap(&swap, swap_dev, sizeof(swap_dev)))
		test_remote_charge(skel);
	if (start_subtest(skel, "balance") && need_swap(&swap, swap_dev, sizeof(swap_dev)))
		test_balance(skel);
	ASSERT_OK(swap_off(swap_dev), "swap_off");

	memcg_ops__destroy(skel);
cleanup:
	cleanup_cgroup_environment();
unmap:
	munmap(sh, page_size);
}

static char member_log[4096];

static int member_print(enum libbpf_print_level level, const char *fmt,
			va_list args)
{
	size_t n = strlen(member_log);

	if (n < sizeof(member_log) - 1)
		vsnprintf(member_log + n, sizeof(member_log) - n, fmt, args);
	return 0;
}

/*
 * A map that sets a hook the kernel's struct memcg_bpf_ops does not have
 * is refused when libbpf matches the map against the kernel's BTF, with
 * -ENOTSUP and a message naming the member, not for another reason.
 */
static void test_unknown_member(void)
{
	struct memcg_ops_fail__member *skel;
	libbpf_print_fn_t old_print;
	int err;

	member_log[0] = 0;
	old_print = libbpf_set_print(member_print);
	skel = memcg_ops_fail__member__open_and_load();
	err = errno;
	libbpf_set_print(old_print);
	if (!ASSERT_NULL(skel, "load with an unknown member")) {
		memcg_ops_fail__member__destroy(skel);
		return;
	}
	ASSERT_EQ(err, ENOTSUP, "errno");
	ASSERT_HAS_SUBSTR(member_log, "Cannot find member no_such_hook", "libbpf's message");
}

/* Programs the verifier rejects, each with its message */
void test_memcg_ops_verifier(void)
{
	RUN_TESTS(memcg_ops_fail__sleepable);
	RUN_TESTS(memcg_ops_fail__reclaim);
	RUN_TESTS(memcg_ops_fail__write);
	RUN_TESTS(memcg_ops_fail__proto);

	/* libbpf refuses a map with a member the kernel does not have */
	if (test__start_subtest("unknown_member"))
		test_unknown_member();
}
