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
#include <sys/mman.h>
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

/* A MAP_SHARED page through which the workload children report */
struct shared {
	int stop;		/* set by the parent: end the rounds */
	int ready;		/* set by a child holding its memory */
	__u64 ns[3];		/* time per round of a child */
};

static struct shared *sh;

static long page_size;

static int get_stat(struct memcg_ops *skel, __u64 cgid, struct memcg_ops_stat *st)
{
	memset(st, 0, sizeof(*st));
	return bpf_map_lookup_elem(bpf_map__fd(skel->maps.stats), &cgid, st);
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
 * pid; the child exits with 0 on success and writes its time per round
 * (ns) into sh->ns[@slot] when it ends.
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
	for (n = 0; rounds ? n < rounds : !READ_ONCE(sh->stop); n++)
		if (touch_anon(size, rounds == 1))
			_exit(2);
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

/*
 * Inheritance and BPF_F_ALLOW_OVERRIDE: A on top with the flag, B in the
 * middle without it, the leaf cannot attach; detaching restores.
 */
static void test_hierarchy(struct memcg_ops *skel)
{
	struct bpf_link *link_a = NULL, *link_b = NULL, *link_c = NULL, *link;
	int top = -1, mid = -1, leaf = -1, new = -1, other = -1, other_c = -1;
	__u64 id_top, id_mid, id_leaf, id_new;

	top = create_and_get_cgroup("/mo_hier");
	mid = create_and_get_cgroup("/mo_hier/mid");
	leaf = create_and_get_cgroup("/mo_hier/mid/leaf");
	other = create_and_get_cgroup("/mo_hier2");
	other_c = create_and_get_cgroup("/mo_hier2/c");
	if (!ASSERT_GE(top, 0, "top") || !ASSERT_GE(mid, 0, "mid") ||
	    !ASSERT_GE(leaf, 0, "leaf") || !ASSERT_GE(other, 0, "other") ||
	    !ASSERT_GE(other_c, 0, "other/c"))
		goto out;
	if (!ASSERT_OK(enable_controllers("/mo_hier", "memory"), "enable top") ||
	    !ASSERT_OK(enable_controllers("/mo_hier/mid", "memory"), "enable mid") ||
	    !ASSERT_OK(enable_controllers("/mo_hier/mid/leaf", "memory"), "enable leaf") ||
	    !ASSERT_OK(enable_controllers("/mo_hier2", "memory"), "enable other"))
		goto out;
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
	attach_fails(skel->maps.policy_a, leaf, 0, EBUSY, "leaf under B");
	attach_fails(skel->maps.policy_a, leaf, BPF_F_ALLOW_OVERRIDE, EBUSY,
		     "leaf under B, override");

	/* A cgroup created later inherits B */
	new = create_and_get_cgroup("/mo_hier/mid/leaf/new");
	if (!ASSERT_GE(new, 0, "new"))
		goto out;
	id_new = get_cgroup_id("/mo_hier/mid/leaf/new");
	ASSERT_TRUE(wait_stat(skel, id_new, 2, 1, 0), "new under B");

	/* Detaching B restores A below mid */
	ASSERT_OK(bpf_link__detach(link_b), "detach B");
	ASSERT_TRUE(wait_stat(skel, id_mid, 1, 3, 2), "mid back under A");
	ASSERT_TRUE(wait_stat(skel, id_leaf, 1, 3, 2), "leaf back under A");
	ASSERT_TRUE(wait_stat(skel, id_new, 1, 2, 1), "new back under A");

	/* Not overridable above an attached descendant; the same map twice */
	link_c = attach(skel->maps.policy_b, other_c, 0);
	if (!ASSERT_OK_PTR(link_c, "attach B to other/c"))
		goto out;
	attach_fails(skel->maps.policy_b, other, 0, EBUSY, "B above B");
	link = attach(skel->maps.policy_b, other, BPF_F_ALLOW_OVERRIDE);
	if (ASSERT_OK_PTR(link, "B above B, override"))
		bpf_link__destroy(link);

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
	if (new >= 0)
		close(new);
	if (leaf >= 0)
		close(leaf);
	if (mid >= 0)
		close(mid);
	if (top >= 0)
		close(top);
	if (other_c >= 0)
		close(other_c);
	if (other >= 0)
		close(other);
	remove_cgroup("/mo_hier/mid/leaf/new");
	remove_cgroup("/mo_hier/mid/leaf");
	remove_cgroup("/mo_hier/mid");
	remove_cgroup("/mo_hier");
	remove_cgroup("/mo_hier2/c");
	remove_cgroup("/mo_hier2");
}

#define NR_CHILDREN 8

/*
 * online/offline once per cgroup: cgroups created and removed under an
 * attached policy, the rest offlined by the detach.
 */
static void test_online_offline(struct memcg_ops *skel)
{
	__u64 ids[NR_CHILDREN], id_parent;
	struct bpf_link *link = NULL;
	char path[64];
	int parent, fd, i;

	parent = create_and_get_cgroup("/mo_life");
	if (!ASSERT_GE(parent, 0, "parent"))
		return;
	if (!ASSERT_OK(enable_controllers("/mo_life", "memory"), "enable"))
		goto out;
	id_parent = get_cgroup_id("/mo_life");

	link = attach(skel->maps.policy_a, parent, 0);
	if (!ASSERT_OK_PTR(link, "attach"))
		goto out;
	ASSERT_TRUE(wait_stat(skel, id_parent, 1, 1, 0), "parent online");

	for (i = 0; i < NR_CHILDREN; i++) {
		snprintf(path, sizeof(path), "/mo_life/c%d", i);
		fd = create_and_get_cgroup(path);
		if (!ASSERT_GE(fd, 0, path))
			goto out;
		close(fd);
		ids[i] = get_cgroup_id(path);
		ASSERT_TRUE(wait_stat(skel, ids[i], 1, 1, 0), "child online");
	}

	/* Half of them go away while the policy is attached */
	for (i = 0; i < NR_CHILDREN / 2; i++) {
		snprintf(path, sizeof(path), "/mo_life/c%d", i);
		remove_cgroup(path);
	}
	for (i = 0; i < NR_CHILDREN / 2; i++)
		ASSERT_TRUE(wait_stat(skel, ids[i], 0, 1, 1), "removed child offline");

	/* The others leave with the policy */
	ASSERT_OK(bpf_link__detach(link), "detach");
	for (i = NR_CHILDREN / 2; i < NR_CHILDREN; i++)
		ASSERT_TRUE(wait_stat(skel, ids[i], 0, 1, 1), "child offline on detach");
	ASSERT_TRUE(wait_stat(skel, id_parent, 0, 1, 1), "parent offline on detach");
	ASSERT_EQ(skel->bss->errors, 0, "policy errors");
out:
	bpf_link__destroy(link);
	for (i = 0; i < NR_CHILDREN; i++) {
		snprintf(path, sizeof(path), "/mo_life/c%d", i);
		remove_cgroup(path);
	}
	close(parent);
	remove_cgroup("/mo_life");
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
	int cg = -1, child = -1, rm = -1, rm_child = -1;
	struct bpf_map_info map_info;
	__u32 len = sizeof(map_info);
	__u64 id, id_child, id_rm;
	pid_t pid;
	int i;

	memset(sh, 0, sizeof(*sh));
	cg = create_and_get_cgroup("/mo_upd");
	child = create_and_get_cgroup("/mo_upd/c");
	rm = create_and_get_cgroup("/mo_rm");
	rm_child = create_and_get_cgroup("/mo_rm/c");
	if (!ASSERT_GE(cg, 0, "cgroup") || !ASSERT_GE(child, 0, "child") ||
	    !ASSERT_GE(rm, 0, "rm") || !ASSERT_GE(rm_child, 0, "rm child") ||
	    !ASSERT_OK(enable_controllers("/mo_upd", "memory"), "enable") ||
	    !ASSERT_OK(enable_controllers("/mo_rm", "memory"), "enable rm"))
		goto out;
	id = get_cgroup_id("/mo_upd");
	id_child = get_cgroup_id("/mo_upd/c");
	id_rm = get_cgroup_id("/mo_rm/c");

	/* A replaced by B in place: every memcg moves, once */
	link = attach(skel->maps.policy_a, cg, 0);
	if (!ASSERT_OK_PTR(link, "attach A"))
		goto out;
	ASSERT_TRUE(wait_stat(skel, id_child, 1, 1, 0), "child under A");
	if (!ASSERT_OK(bpf_link__update_map(link, skel->maps.policy_b), "update to B"))
		goto out;
	ASSERT_TRUE(wait_stat(skel, id, 2, 2, 1), "cgroup under B");
	ASSERT_TRUE(wait_stat(skel, id_child, 2, 2, 1), "child under B");
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
	close(rm_child);
	rm_child = -1;
	remove_cgroup("/mo_rm/c");
	close(rm);
	rm = -1;
	remove_cgroup("/mo_rm");
	ASSERT_TRUE(wait_stat(skel, id_rm, 0, 1, 1), "removed memcg offline");
	for (i = 0; i < WAIT_MS && link_map_id(link_rm); i++)
		usleep(1000);
	ASSERT_EQ(link_map_id(link_rm), 0, "link of the removed cgroup detached");
	ASSERT_EQ(skel->bss->errors, 0, "policy errors");
out:
	bpf_link__destroy(link_rm);
	bpf_link__destroy(link);
	if (rm_child >= 0)
		close(rm_child);
	if (rm >= 0)
		close(rm);
	if (child >= 0)
		close(child);
	if (cg >= 0)
		close(cg);
	remove_cgroup("/mo_rm/c");
	remove_cgroup("/mo_rm");
	remove_cgroup("/mo_upd/c");
	remove_cgroup("/mo_upd");
}

#define THROTTLE_DELAY_MS	50
#define THROTTLE_SIZE		(8 * MB)

/*
 * Charge throttling: the policy delays the low cgroup's charges while the
 * high one is active. Low is not delayed while high is idle; while high
 * runs, low sleeps at least most of the delays the policy returned, and
 * high is not delayed.
 */
static void test_throttle(struct memcg_ops *skel)
{
	int parent = -1, high = -1, low = -1;
	struct memcg_ops_stat st_low, st_high;
	__u64 idle_ns, busy_ns, high_ns, min_ns;
	struct bpf_link *link = NULL;
	__u32 delayed_idle;
	pid_t hpid = 0, pid;
	int i;

	memset(sh, 0, sizeof(*sh));
	parent = create_and_get_cgroup("/mo_thr");
	if (!ASSERT_GE(parent, 0, "parent") ||
	    !ASSERT_OK(enable_controllers("/mo_thr", "memory"), "enable"))
		goto out;
	high = create_and_get_cgroup("/mo_thr/high");
	low = create_and_get_cgroup("/mo_thr/low");
	if (!ASSERT_GE(high, 0, "high") || !ASSERT_GE(low, 0, "low"))
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

	pid = spawn_touch("/mo_thr/low", THROTTLE_SIZE, 1, 1);
	if (!child_ok(pid, "low, high active"))
		goto out;
	busy_ns = sh->ns[1];
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
	printf("%s: low delayed %u times by %u ms; high %.1f ms per MB\n",
	       __func__, st_low.delayed - delayed_idle, THROTTLE_DELAY_MS, high_ns / 1e6);

	/* Low faulted 8 MB: one charge batch per 64 pages at least */
	ASSERT_GE(st_low.delayed, THROTTLE_SIZE / page_size / 64 / 2, "low delayed");
	/* Each delayed charge came with its own return to userland */
	min_ns = (st_low.delayed - delayed_idle) * THROTTLE_DELAY_MS * 1000000ULL;
	ASSERT_GE(busy_ns, min_ns * 8 / 10, "low slept most of the delays");
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
	if (low >= 0)
		close(low);
	if (high >= 0)
		close(high);
	if (parent >= 0)
		close(parent);
	remove_cgroup("/mo_thr/low");
	remove_cgroup("/mo_thr/high");
	remove_cgroup("/mo_thr");
}

#define LEDGER_SIZE	(16 * MB)

/* memcg_uncharged sees the pages that memcg_charged saw go. */
static void test_uncharged(struct memcg_ops *skel)
{
	struct bpf_link *link = NULL;
	struct memcg_ops_stat st;
	int parent = -1, cg = -1;
	__u64 pages = LEDGER_SIZE / page_size, cgid;
	pid_t pid;

	memset(sh, 0, sizeof(*sh));
	parent = create_and_get_cgroup("/mo_ledger");
	if (!ASSERT_GE(parent, 0, "parent") ||
	    !ASSERT_OK(enable_controllers("/mo_ledger", "memory"), "enable"))
		goto out;
	cg = create_and_get_cgroup("/mo_ledger/c");
	if (!ASSERT_GE(cg, 0, "cgroup"))
		goto out;
	cgid = get_cgroup_id("/mo_ledger/c");
	skel->bss->low_cgid = 0;
	skel->bss->high_cgid = 0;

	link = attach(skel->maps.policy_throttle, parent, 0);
	if (!ASSERT_OK_PTR(link, "attach"))
		goto out;

	pid = spawn_touch("/mo_ledger/c", LEDGER_SIZE, 1, 1);
	if (!child_ok(pid, "workload"))
		goto out;
	/* The workload has exited: what it touched is freed. */
	close(cg);
	cg = -1;
	remove_cgroup("/mo_ledger/c");
	if (!ASSERT_TRUE(wait_stat(skel, cgid, 0, 1, 1), "offline"))
		goto out;

	ASSERT_OK(get_stat(skel, cgid, &st), "stat");
	printf("%s: %llu pages touched, %llu charged, %llu uncharged\n", __func__,
	       (unsigned long long)pages, (unsigned long long)st.charged,
	       (unsigned long long)st.uncharged);
	ASSERT_GE(st.charged, pages, "charged");
	/*
	 * A few freed pages may still sit in per-CPU LRU batches when the
	 * memcg goes offline: their uncharge goes to the parent later.
	 */
	ASSERT_GE(st.uncharged, pages * 95 / 100, "uncharged");
	ASSERT_LE(st.uncharged, st.charged, "uncharged at most charged");
	ASSERT_EQ(skel->bss->errors, 0, "policy errors");
out:
	bpf_link__destroy(link);
	if (cg >= 0)
		close(cg);
	if (parent >= 0)
		close(parent);
	remove_cgroup("/mo_ledger/c");
	remove_cgroup("/mo_ledger");
}

#define PROT_MAX	(48 * MB)
#define PROT_HIGH	(24 * MB)
#define PROT_LOW	(48 * MB)

/*
 * High holds PROT_HIGH of anonymous memory, then low touches PROT_LOW in
 * the same parent, limited to PROT_MAX: reclaim must swap out at least
 * PROT_HIGH of the two. With @map attached to the parent (or without a
 * policy if @map is NULL), return how much of high was swapped out, -1 on
 * error; *@st_high is what the policy saw of high.
 */
static long long run_protection(struct memcg_ops *skel, struct bpf_map *map,
				struct memcg_ops_stat *st_high)
{
	int parent = -1, high = -1, low = -1;
	struct bpf_link *link = NULL;
	long long swapped = -1;
	pid_t hpid = 0, pid;
	char max[32];
	int i;

	memset(st_high, 0, sizeof(*st_high));
	memset(sh, 0, sizeof(*sh));
	parent = create_and_get_cgroup("/mo_prot");
	if (!ASSERT_GE(parent, 0, "parent") ||
	    !ASSERT_OK(enable_controllers("/mo_prot", "memory"), "enable"))
		goto out;
	snprintf(max, sizeof(max), "%d", PROT_MAX);
	if (!ASSERT_OK(write_cgroup_file("/mo_prot", "memory.max", max), "memory.max"))
		goto out;
	high = create_and_get_cgroup("/mo_prot/high");
	low = create_and_get_cgroup("/mo_prot/low");
	if (!ASSERT_GE(high, 0, "high") || !ASSERT_GE(low, 0, "low"))
		goto out;
	skel->bss->protect_cgid = get_cgroup_id("/mo_prot/high");

	if (map) {
		link = attach(map, parent, 0);
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

	swapped = read_cgroup_value(high, "memory.swap.current", NULL);
	ASSERT_GE(swapped, 0, "high memory.swap.current");
	if (map)
		ASSERT_OK(get_stat(skel, skel->bss->protect_cgid, st_high), "high stat");
out:
	if (hpid > 0) {
		WRITE_ONCE(sh->stop, 1);
		child_ok(hpid, "high");
	}
	bpf_link__destroy(link);
	if (low >= 0)
		close(low);
	if (high >= 0)
		close(high);
	if (parent >= 0)
		close(parent);
	remove_cgroup("/mo_prot/low");
	remove_cgroup("/mo_prot/high");
	remove_cgroup("/mo_prot");
	return swapped;
}

/*
 * below_low / below_min: without a policy reclaim swaps out part of high;
 * with a policy whose hook says high is protected, none of it, though high
 * has no memory.low or memory.min.
 */
static void test_protection(struct memcg_ops *skel, struct bpf_map *map,
			    bool use_min)
{
	struct memcg_ops_stat st;
	long long base, prot;

	base = run_protection(skel, NULL, &st);
	if (!ASSERT_GT(base, 0, "without policy, high is swapped out"))
		return;
	prot = run_protection(skel, map, &st);
	printf("%s: high swapped out: %lld kB without policy, %lld kB with %s\n",
	       __func__, base / 1024, prot / 1024, use_min ? "below_min" : "below_low");
	ASSERT_EQ(prot, 0, "with policy, high is not swapped out");
	if (use_min)
		ASSERT_GT(st.below_min, 0, "below_min called for high");
	else
		ASSERT_GT(st.below_low, 0, "below_low called for high");
	ASSERT_EQ(skel->bss->errors, 0, "policy errors");
}

/* Attach errors, each with its errno. */
static void test_attach_errors(struct memcg_ops *skel)
{
	struct bpf_map *map = skel->maps.policy_a;
	int cg = -1, nomem = -1, file = -1;
	struct bpf_link *link;
	__u64 caps;

	cg = create_and_get_cgroup("/mo_err");
	/* memory is not enabled in /mo_err's subtree_control */
	nomem = create_and_get_cgroup("/mo_err/nomem");
	if (!ASSERT_GE(cg, 0, "cgroup") || !ASSERT_GE(nomem, 0, "nomem"))
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
	if (nomem >= 0)
		close(nomem);
	if (cg >= 0)
		close(cg);
	remove_cgroup("/mo_err/nomem");
	remove_cgroup("/mo_err");
}

/* Swap on, once: zram if the system has no swap yet */
static bool need_swap(bool *on, char *dev, size_t len)
{
	if (!*on)
		*on = ASSERT_OK(swap_on(dev, len, 256ULL * MB), "swap_on");
	return *on;
}

void test_memcg_ops(void)
{
	struct memcg_ops *skel;
	char swap_dev[32] = "";
	bool swap = false;

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

	if (test__start_subtest("hierarchy"))
		test_hierarchy(skel);
	if (test__start_subtest("online_offline"))
		test_online_offline(skel);
	if (test__start_subtest("lifecycle"))
		test_lifecycle(skel);
	if (test__start_subtest("throttle"))
		test_throttle(skel);
	if (test__start_subtest("uncharged"))
		test_uncharged(skel);
	if (test__start_subtest("attach_errors"))
		test_attach_errors(skel);

	/* Reclaim needs somewhere to put anonymous memory */
	if (test__start_subtest("below_low") && need_swap(&swap, swap_dev, sizeof(swap_dev)))
		test_protection(skel, skel->maps.policy_low, false);
	if (test__start_subtest("below_min") && need_swap(&swap, swap_dev, sizeof(swap_dev)))
		test_protection(skel, skel->maps.policy_min, true);
	swap_off(swap_dev);

	memcg_ops__destroy(skel);
cleanup:
	cleanup_cgroup_environment();
unmap:
	munmap(sh, page_size);
}

/* Programs the verifier rejects, each with its message */
void test_memcg_ops_verifier(void)
{
	RUN_TESTS(memcg_ops_fail__sleepable);
	RUN_TESTS(memcg_ops_fail__reclaim);
	RUN_TESTS(memcg_ops_fail__write);
	RUN_TESTS(memcg_ops_fail__proto);

	/* libbpf refuses a map with a member the kernel does not have */
	if (test__start_subtest("unknown_member")) {
		struct memcg_ops_fail__member *skel;

		skel = memcg_ops_fail__member__open_and_load();
		if (!ASSERT_NULL(skel, "load with an unknown member"))
			memcg_ops_fail__member__destroy(skel);
	}
}
