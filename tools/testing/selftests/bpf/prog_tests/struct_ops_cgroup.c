// SPDX-License-Identifier: GPL-2.0
/*
 * struct_ops links targeting a cgroup: BPF_LINK_CREATE with BPF_F_CGROUP_FD,
 * a cgroup fd in target_fd and cgroup attach flags, through
 * bpf_map__attach_struct_ops_opts() and bpf_link_create(),
 * with bpf_testmod_cgroup_st_ops, whose reg(), unreg() and update() record
 * the cgroup and flags they get.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <test_progs.h>
#include "cgroup_helpers.h"
#include "struct_ops_cgroup.skel.h"
#include "../test_kmods/bpf_testmod.h"

#define CG_ATTACH	"/st_ops_cg"
#define CG_RMDIR	"/st_ops_cg_rmdir"

/* What the testmod recorded, read through the read_info() syscall prog */
static int read_testmod_info(struct struct_ops_cgroup *skel, __u64 *info)
{
	LIBBPF_OPTS(bpf_test_run_opts, topts);
	int err;

	err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.read_info), &topts);
	if (!ASSERT_OK(err, "run the read_info prog") ||
	    !ASSERT_OK(topts.retval, "read_info prog retval"))
		return -1;
	memcpy(info, skel->bss->info, sizeof(skel->bss->info));
	return 0;
}

static int link_info(struct bpf_link *link, struct bpf_link_info *info)
{
	__u32 len = sizeof(*info);
	int err;

	memset(info, 0, sizeof(*info));
	err = bpf_link_get_info_by_fd(bpf_link__fd(link), info, &len);
	if (!ASSERT_OK(err, "bpf_link_get_info_by_fd"))
		return -1;
	ASSERT_EQ(info->type, BPF_LINK_TYPE_STRUCT_OPS, "link type");
	return 0;
}

static __u32 map_id(const struct bpf_map *map)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (!ASSERT_OK(bpf_map_get_info_by_fd(bpf_map__fd(map), &info, &len),
		       "bpf_map_get_info_by_fd"))
		return 0;
	return info.id;
}

/* /proc/self/fdinfo of the link shows its cgroup and its flags too */
static void check_fdinfo(struct bpf_link *link, __u64 cgid, __u32 flags)
{
	char path[64], buf[1024], want[64];
	int fd, len;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", bpf_link__fd(link));
	fd = open(path, O_RDONLY);
	if (!ASSERT_GE(fd, 0, "open fdinfo"))
		return;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (!ASSERT_GT(len, 0, "read fdinfo"))
		return;
	buf[len] = 0;
	snprintf(want, sizeof(want), "cgroup_id:\t%llu\n", (unsigned long long)cgid);
	ASSERT_HAS_SUBSTR(buf, want, "fdinfo cgroup_id");
	snprintf(want, sizeof(want), "flags:\t%#x\n", flags);
	ASSERT_HAS_SUBSTR(buf, want, "fdinfo flags");
}

/* Attach to a cgroup, update the link, detach it, close it. */
static void test_attach(struct struct_ops_cgroup *skel)
{
	LIBBPF_OPTS(bpf_struct_ops_opts, opts, .flags = BPF_F_ALLOW_OVERRIDE);
	__u64 before[__CGROUP_ST_OPS_INFO_MAX], after[__CGROUP_ST_OPS_INFO_MAX];
	struct bpf_link_info info;
	struct bpf_link *link;
	__u64 cgid;
	int cg_fd, err;

	cg_fd = create_and_get_cgroup(CG_ATTACH);
	if (!ASSERT_GE(cg_fd, 0, "create_and_get_cgroup"))
		return;
	cgid = get_cgroup_id(CG_ATTACH);
	opts.cgroup_fd = cg_fd;

	if (read_testmod_info(skel, before))
		goto out;

	link = bpf_map__attach_struct_ops_opts(skel->maps.cgroup_ops, &opts);
	if (!ASSERT_OK_PTR(link, "attach_struct_ops_opts"))
		goto out;

	/* reg() got the cgroup and the flags */
	if (read_testmod_info(skel, after))
		goto out_link;
	ASSERT_EQ(after[CGROUP_ST_OPS_REG_CNT], before[CGROUP_ST_OPS_REG_CNT] + 1, "reg cnt");
	ASSERT_EQ(after[CGROUP_ST_OPS_REG_CGID], cgid, "reg cgroup id");
	ASSERT_EQ(after[CGROUP_ST_OPS_REG_FLAGS], BPF_F_CGROUP_FD | BPF_F_ALLOW_OVERRIDE,
		  "reg flags");
	ASSERT_EQ(after[CGROUP_ST_OPS_UNREG_CNT], before[CGROUP_ST_OPS_UNREG_CNT], "no unreg");

	/* link info shows the map, the cgroup and the flags */
	if (!link_info(link, &info)) {
		ASSERT_EQ(info.struct_ops.map_id, map_id(skel->maps.cgroup_ops), "info map_id");
		ASSERT_EQ(info.struct_ops.cgroup_id, cgid, "info cgroup_id");
		ASSERT_EQ(info.struct_ops.flags, BPF_F_CGROUP_FD | BPF_F_ALLOW_OVERRIDE,
			  "info flags");
	}
	check_fdinfo(link, cgid, BPF_F_CGROUP_FD | BPF_F_ALLOW_OVERRIDE);

	/* update() gets the link, whose cgroup is kept */
	err = bpf_link__update_map(link, skel->maps.cgroup_ops2);
	ASSERT_OK(err, "bpf_link__update_map");
	if (read_testmod_info(skel, after))
		goto out_link;
	ASSERT_EQ(after[CGROUP_ST_OPS_UPDATE_CNT], before[CGROUP_ST_OPS_UPDATE_CNT] + 1,
		  "update cnt");
	ASSERT_EQ(after[CGROUP_ST_OPS_UPDATE_CGID], cgid, "update cgroup id");
	if (!link_info(link, &info)) {
		ASSERT_EQ(info.struct_ops.map_id, map_id(skel->maps.cgroup_ops2),
			  "info map_id after update");
		ASSERT_EQ(info.struct_ops.cgroup_id, cgid, "info cgroup_id after update");
	}

	/* detach: unreg() with the cgroup, then the link is defunct */
	err = bpf_link__detach(link);
	ASSERT_OK(err, "bpf_link__detach");
	if (read_testmod_info(skel, after))
		goto out_link;
	ASSERT_EQ(after[CGROUP_ST_OPS_UNREG_CNT], before[CGROUP_ST_OPS_UNREG_CNT] + 1,
		  "unreg cnt");
	ASSERT_EQ(after[CGROUP_ST_OPS_UNREG_CGID], cgid, "unreg cgroup id");
	if (!link_info(link, &info)) {
		ASSERT_EQ(info.struct_ops.map_id, 0, "info map_id after detach");
		ASSERT_EQ(info.struct_ops.cgroup_id, 0, "info cgroup_id after detach");
	}

	err = bpf_link__update_map(link, skel->maps.cgroup_ops);
	ASSERT_EQ(err, -ENOLINK, "update after detach");

out_link:
	bpf_link__destroy(link);
	/* closing a detached link does not unreg() again */
	if (!read_testmod_info(skel, after))
		ASSERT_EQ(after[CGROUP_ST_OPS_UNREG_CNT], before[CGROUP_ST_OPS_UNREG_CNT] + 1,
			  "unreg cnt after close");
out:
	close(cg_fd);
	remove_cgroup(CG_ATTACH);
}

/* The last close of an attached cgroup link unregisters it. */
static void test_close(struct struct_ops_cgroup *skel)
{
	LIBBPF_OPTS(bpf_struct_ops_opts, opts);
	__u64 before[__CGROUP_ST_OPS_INFO_MAX], after[__CGROUP_ST_OPS_INFO_MAX];
	struct bpf_link *link;
	__u64 cgid;
	int cg_fd;

	cg_fd = create_and_get_cgroup(CG_ATTACH);
	if (!ASSERT_GE(cg_fd, 0, "create_and_get_cgroup"))
		return;
	cgid = get_cgroup_id(CG_ATTACH);
	opts.cgroup_fd = cg_fd;

	if (read_testmod_info(skel, before))
		goto out;
	link = bpf_map__attach_struct_ops_opts(skel->maps.cgroup_ops, &opts);
	if (!ASSERT_OK_PTR(link, "attach_struct_ops_opts"))
		goto out;
	bpf_link__destroy(link);

	if (read_testmod_info(skel, after))
		goto out;
	ASSERT_EQ(after[CGROUP_ST_OPS_REG_CNT], before[CGROUP_ST_OPS_REG_CNT] + 1, "reg cnt");
	ASSERT_EQ(after[CGROUP_ST_OPS_REG_FLAGS], BPF_F_CGROUP_FD, "reg flags");
	ASSERT_EQ(after[CGROUP_ST_OPS_UNREG_CNT], before[CGROUP_ST_OPS_UNREG_CNT] + 1,
		  "unreg cnt");
	ASSERT_EQ(after[CGROUP_ST_OPS_UNREG_CGID], cgid, "unreg cgroup id");
out:
	close(cg_fd);
	remove_cgroup(CG_ATTACH);
}

/* No cgroup: the global registration of before, reg() gets no cgroup. */
static void test_global(struct struct_ops_cgroup *skel)
{
	__u64 before[__CGROUP_ST_OPS_INFO_MAX], after[__CGROUP_ST_OPS_INFO_MAX];
	struct bpf_link_info info;
	struct bpf_link *link;

	if (read_testmod_info(skel, before))
		return;
	link = bpf_map__attach_struct_ops(skel->maps.cgroup_ops);
	if (!ASSERT_OK_PTR(link, "attach_struct_ops"))
		return;
	if (!read_testmod_info(skel, after)) {
		ASSERT_EQ(after[CGROUP_ST_OPS_REG_CNT], before[CGROUP_ST_OPS_REG_CNT] + 1,
			  "reg cnt");
		ASSERT_EQ(after[CGROUP_ST_OPS_REG_CGID], 0, "reg cgroup id");
		ASSERT_EQ(after[CGROUP_ST_OPS_REG_FLAGS], 0, "reg flags");
	}
	if (!link_info(link, &info)) {
		ASSERT_EQ(info.struct_ops.map_id, map_id(skel->maps.cgroup_ops), "info map_id");
		ASSERT_EQ(info.struct_ops.cgroup_id, 0, "info cgroup_id");
		ASSERT_EQ(info.struct_ops.flags, 0, "info flags");
	}
	bpf_link__destroy(link);
	if (!read_testmod_info(skel, after))
		ASSERT_EQ(after[CGROUP_ST_OPS_UNREG_CNT], before[CGROUP_ST_OPS_UNREG_CNT] + 1,
			  "unreg cnt");
}

/*
 * fd 0 is a cgroup fd like any other with BPF_F_CGROUP_FD, and without the
 * flag target_fd must be 0: a cgroup fd alone does not register globally.
 */
static void test_fd0(struct struct_ops_cgroup *skel)
{
	LIBBPF_OPTS(bpf_struct_ops_opts, opts, .flags = BPF_F_CGROUP_FD, .cgroup_fd = 0);
	LIBBPF_OPTS(bpf_link_create_opts, lopts);
	__u64 before[__CGROUP_ST_OPS_INFO_MAX], after[__CGROUP_ST_OPS_INFO_MAX];
	struct bpf_link *link = NULL;
	struct bpf_link_info info;
	int cg_fd, stdin_fd, fd;
	__u64 cgid;

	cg_fd = create_and_get_cgroup(CG_ATTACH);
	if (!ASSERT_GE(cg_fd, 0, "create_and_get_cgroup"))
		return;
	/* with stdin closed, cg_fd could be 0 itself */
	fd = fcntl(cg_fd, F_DUPFD_CLOEXEC, 3);
	close(cg_fd);
	cg_fd = fd;
	if (!ASSERT_GE(cg_fd, 3, "fcntl F_DUPFD"))
		goto out_rm;
	cgid = get_cgroup_id(CG_ATTACH);
	if (read_testmod_info(skel, before))
		goto out;

	/* a cgroup fd without the flag: EINVAL, not a global link */
	fd = bpf_link_create(bpf_map__fd(skel->maps.cgroup_ops), cg_fd, BPF_STRUCT_OPS,
			     &lopts);
	if (!ASSERT_LT(fd, 0, "cgroup fd without BPF_F_CGROUP_FD"))
		close(fd);
	else
		ASSERT_EQ(fd, -EINVAL, "cgroup fd without BPF_F_CGROUP_FD errno");

	/* the cgroup as fd 0; stdin is put back as it was, closed or not */
	stdin_fd = fcntl(0, F_DUPFD_CLOEXEC, 3);
	if (ASSERT_EQ(dup2(cg_fd, 0), 0, "dup2 cgroup to fd 0"))
		link = bpf_map__attach_struct_ops_opts(skel->maps.cgroup_ops, &opts);
	if (stdin_fd >= 0) {
		dup2(stdin_fd, 0);
		close(stdin_fd);
	} else {
		close(0);
	}
	if (!ASSERT_OK_PTR(link, "attach to fd 0"))
		goto out;

	if (!read_testmod_info(skel, after)) {
		ASSERT_EQ(after[CGROUP_ST_OPS_REG_CNT], before[CGROUP_ST_OPS_REG_CNT] + 1,
			  "reg cnt");
		ASSERT_EQ(after[CGROUP_ST_OPS_REG_CGID], cgid, "reg cgroup id");
		ASSERT_EQ(after[CGROUP_ST_OPS_REG_FLAGS], BPF_F_CGROUP_FD, "reg flags");
	}
	if (!link_info(link, &info)) {
		ASSERT_EQ(info.struct_ops.cgroup_id, cgid, "info cgroup_id");
		ASSERT_EQ(info.struct_ops.flags, BPF_F_CGROUP_FD, "info flags");
	}
	bpf_link__destroy(link);
out:
	close(cg_fd);
out_rm:
	remove_cgroup(CG_ATTACH);
}

static void expect_attach_err(const struct bpf_map *map, int cgroup_fd, __u32 flags,
			      int err, const char *name)
{
	LIBBPF_OPTS(bpf_struct_ops_opts, opts, .cgroup_fd = cgroup_fd, .flags = flags);
	struct bpf_link *link;

	link = bpf_map__attach_struct_ops_opts(map, &opts);
	if (!ASSERT_ERR_PTR(link, name)) {
		bpf_link__destroy(link);
		return;
	}
	ASSERT_EQ(-errno, err, name);
}

/* Every refused target or flag fails before reg(). */
static void test_errors(struct struct_ops_cgroup *skel)
{
	__u64 before[__CGROUP_ST_OPS_INFO_MAX], after[__CGROUP_ST_OPS_INFO_MAX];
	int cg_fd, file_fd = -1, bad_fd;
	char file[] = "/tmp/st_ops_cgroup_XXXXXX";

	cg_fd = create_and_get_cgroup(CG_ATTACH);
	if (!ASSERT_GE(cg_fd, 0, "create_and_get_cgroup"))
		return;
	if (read_testmod_info(skel, before))
		goto out;

	/* a fd number that is not open */
	bad_fd = dup(cg_fd);
	if (!ASSERT_GE(bad_fd, 0, "dup"))
		goto out;
	close(bad_fd);
	expect_attach_err(skel->maps.cgroup_ops, bad_fd, 0, -EBADF, "closed fd");

	/* a regular file */
	file_fd = mkstemp(file);
	if (ASSERT_GE(file_fd, 0, "mkstemp")) {
		unlink(file);
		expect_attach_err(skel->maps.cgroup_ops, file_fd, 0, -EBADF, "regular file");
	}

	/* flags the type does not accept, or no cgroup to apply them to */
	expect_attach_err(skel->maps.cgroup_ops, cg_fd, BPF_F_ALLOW_MULTI, -EINVAL,
			  "BPF_F_ALLOW_MULTI");
	expect_attach_err(skel->maps.cgroup_ops, cg_fd, BPF_F_ALLOW_OVERRIDE | (1U << 31),
			  -EINVAL, "unknown flag");
	expect_attach_err(skel->maps.cgroup_ops, 0, BPF_F_ALLOW_OVERRIDE, -EINVAL,
			  "flags without cgroup");

	/* a type without cgroup support */
	expect_attach_err(skel->maps.multi_ops, cg_fd, 0, -EOPNOTSUPP, "type without cgroups");
	expect_attach_err(skel->maps.multi_ops, 0, BPF_F_CGROUP_FD, -EOPNOTSUPP,
			  "type without cgroups, fd 0");

	if (!read_testmod_info(skel, after))
		ASSERT_EQ(after[CGROUP_ST_OPS_REG_CNT], before[CGROUP_ST_OPS_REG_CNT],
			  "no reg on errors");
out:
	if (file_fd >= 0)
		close(file_fd);
	close(cg_fd);
	remove_cgroup(CG_ATTACH);
}

/*
 * Fork a child that makes a socket in @cgroup and moves to the root cgroup
 * with it, so that @cgroup can be removed while the socket lives. The
 * child keeps the socket until *@release is closed. Returns its pid once
 * the socket exists, or -1.
 */
static pid_t socket_holder(const char *cgroup, int *release)
{
	int ready[2], hold[2];
	char c = 0;
	pid_t pid;

	if (pipe(ready))
		return -1;
	if (pipe(hold)) {
		close(ready[0]);
		close(ready[1]);
		return -1;
	}
	pid = fork();
	if (!pid) {
		int sk;

		close(ready[0]);
		close(hold[1]);
		if (join_parent_cgroup(cgroup))
			_exit(1);
		sk = socket(AF_INET, SOCK_DGRAM, 0);
		if (sk < 0 || join_root_cgroup() || write(ready[1], &c, 1) != 1)
			_exit(1);
		/* EOF once the parent closes its end */
		_exit(read(hold[0], &c, 1) < 0);
	}
	close(ready[1]);
	close(hold[0]);
	if (pid > 0 && read(ready[0], &c, 1) != 1) {
		waitpid(pid, NULL, 0);
		pid = -1;
	}
	close(ready[0]);
	if (pid > 0)
		*release = hold[1];
	else
		close(hold[1]);
	return pid;
}

/* rmdir of the cgroup detaches its links: unreg() once, link defunct. */
static void test_rmdir(struct struct_ops_cgroup *skel)
{
	LIBBPF_OPTS(bpf_struct_ops_opts, opts);
	__u64 before[__CGROUP_ST_OPS_INFO_MAX], after[__CGROUP_ST_OPS_INFO_MAX];
	struct bpf_link *link, *link2 = NULL;
	struct bpf_link_info info;
	int cg_fd, err, release = -1;
	struct pollfd pfd = {};
	bool removed = false;
	pid_t pid = 0;
	__u64 cgid;

	cg_fd = create_and_get_cgroup(CG_RMDIR);
	if (!ASSERT_GE(cg_fd, 0, "create_and_get_cgroup"))
		return;
	cgid = get_cgroup_id(CG_RMDIR);
	opts.cgroup_fd = cg_fd;

	if (read_testmod_info(skel, before))
		goto out;
	/* two links of two maps on the same cgroup */
	link = bpf_map__attach_struct_ops_opts(skel->maps.cgroup_ops, &opts);
	if (!ASSERT_OK_PTR(link, "attach_struct_ops_opts"))
		goto out;
	link2 = bpf_map__attach_struct_ops_opts(skel->maps.cgroup_ops2, &opts);
	if (!ASSERT_OK_PTR(link2, "attach_struct_ops_opts 2"))
		goto out_link;

	pfd.fd = bpf_link__fd(link);
	pfd.events = POLLIN;
	err = poll(&pfd, 1, 0);
	ASSERT_EQ(err, 0, "no EPOLLHUP while attached");

	/*
	 * A socket made in the cgroup and kept open holds off the release of
	 * the cgroup's BPF state for as long as it lives: the links are
	 * detached at rmdir all the same.
	 */
	pid = socket_holder(CG_RMDIR, &release);
	if (!ASSERT_GT(pid, 0, "socket made in the cgroup"))
		goto out_link;

	remove_cgroup(CG_RMDIR);
	removed = true;

	/* The links are detached from a work item queued at rmdir */
	err = poll(&pfd, 1, 10000);
	ASSERT_EQ(err, 1, "poll after rmdir");
	ASSERT_TRUE(pfd.revents & POLLHUP, "EPOLLHUP after rmdir");
	pfd.fd = bpf_link__fd(link2);
	err = poll(&pfd, 1, 10000);
	ASSERT_TRUE(err == 1 && (pfd.revents & POLLHUP), "EPOLLHUP after rmdir, link2");

	if (read_testmod_info(skel, after))
		goto out_link;
	ASSERT_EQ(after[CGROUP_ST_OPS_UNREG_CNT], before[CGROUP_ST_OPS_UNREG_CNT] + 2,
		  "unreg cnt after rmdir");
	ASSERT_EQ(after[CGROUP_ST_OPS_UNREG_CGID], cgid, "unreg cgroup id");

	if (!link_info(link, &info)) {
		ASSERT_EQ(info.struct_ops.map_id, 0, "info map_id after rmdir");
		ASSERT_EQ(info.struct_ops.cgroup_id, 0, "info cgroup_id after rmdir");
	}

	err = bpf_link__update_map(link, skel->maps.cgroup_ops);
	ASSERT_EQ(err, -ENOLINK, "update after rmdir");
	err = bpf_link__detach(link);
	ASSERT_OK(err, "detach after rmdir");

	/* a removed cgroup, still open, takes no new link */
	expect_attach_err(skel->maps.cgroup_ops, cg_fd, 0, -ENOENT, "removed cgroup");

out_link:
	bpf_link__destroy(link2);
	bpf_link__destroy(link);
	if (!read_testmod_info(skel, after))
		ASSERT_EQ(after[CGROUP_ST_OPS_UNREG_CNT], before[CGROUP_ST_OPS_UNREG_CNT] + 2,
			  "unreg cnt after close");
out:
	if (pid > 0) {
		close(release);
		waitpid(pid, NULL, 0);
	}
	close(cg_fd);
	if (!removed)
		remove_cgroup(CG_RMDIR);
}

struct race_arg {
	struct bpf_link *link;
	bool close_only;
};

static void *race_detach(void *arg)
{
	struct race_arg *ra = arg;

	if (!ra->close_only)
		bpf_link__detach(ra->link);
	bpf_link__destroy(ra->link);
	return NULL;
}

/*
 * rmdir racing with BPF_LINK_DETACH or the last close: whichever wins,
 * unreg() is called exactly once per reg().
 */
static void test_race(struct struct_ops_cgroup *skel)
{
	LIBBPF_OPTS(bpf_struct_ops_opts, opts);
	__u64 before[__CGROUP_ST_OPS_INFO_MAX], after[__CGROUP_ST_OPS_INFO_MAX];
	struct race_arg ra;
	pthread_t thread;
	int i, cg_fd, err;

	if (read_testmod_info(skel, before))
		return;

	for (i = 0; i < 20; i++) {
		cg_fd = create_and_get_cgroup(CG_RMDIR);
		if (!ASSERT_GE(cg_fd, 0, "create_and_get_cgroup"))
			return;
		opts.cgroup_fd = cg_fd;
		ra.link = bpf_map__attach_struct_ops_opts(skel->maps.cgroup_ops, &opts);
		close(cg_fd);
		if (!ASSERT_OK_PTR(ra.link, "attach_struct_ops_opts")) {
			remove_cgroup(CG_RMDIR);
			return;
		}
		ra.close_only = i & 1;
		err = pthread_create(&thread, NULL, race_detach, &ra);
		if (!ASSERT_OK(err, "pthread_create")) {
			bpf_link__destroy(ra.link);
			remove_cgroup(CG_RMDIR);
			return;
		}
		remove_cgroup(CG_RMDIR);
		pthread_join(thread, NULL);
	}

	/* a detach by rmdir is asynchronous: wait for it, up to 10 s */
	for (i = 0; i < 1000; i++) {
		if (read_testmod_info(skel, after))
			return;
		if (after[CGROUP_ST_OPS_UNREG_CNT] - before[CGROUP_ST_OPS_UNREG_CNT] >= 20)
			break;
		usleep(10000);
	}
	ASSERT_EQ(after[CGROUP_ST_OPS_REG_CNT] - before[CGROUP_ST_OPS_REG_CNT], 20, "reg cnt");
	ASSERT_EQ(after[CGROUP_ST_OPS_UNREG_CNT] - before[CGROUP_ST_OPS_UNREG_CNT], 20,
		  "unreg cnt");
}

void test_struct_ops_cgroup(void)
{
	struct struct_ops_cgroup *skel;

	if (!ASSERT_OK(setup_cgroup_environment(), "setup_cgroup_environment"))
		return;

	skel = struct_ops_cgroup__open_and_load();
	if (!ASSERT_OK_PTR(skel, "struct_ops_cgroup__open_and_load"))
		goto out;

	if (test__start_subtest("attach"))
		test_attach(skel);
	if (test__start_subtest("close"))
		test_close(skel);
	if (test__start_subtest("global"))
		test_global(skel);
	if (test__start_subtest("fd0"))
		test_fd0(skel);
	if (test__start_subtest("errors"))
		test_errors(skel);
	if (test__start_subtest("rmdir"))
		test_rmdir(skel);
	if (test__start_subtest("race"))
		test_race(skel);

	struct_ops_cgroup__destroy(skel);
out:
	cleanup_cgroup_environment();
}
