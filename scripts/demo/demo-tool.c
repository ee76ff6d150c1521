// SPDX-License-Identifier: GPL-2.0
/*
 * Small measuring tools of the demo (scripts/demo/guest.sh), run in the
 * guest. Times are CLOCK_MONOTONIC, printed in ns so that the tools'
 * outputs can be compared with each other.
 *
 *   demo-tool faultlat MB MIN_MS
 *	Touch MB of fresh anonymous memory one page at a time; print the
 *	number of faults and the mean, sd, min and max of the faults that
 *	took at least MIN_MS (the delayed ones).
 *   demo-tool hold MB READY_FILE
 *	Touch MB of anonymous memory, create READY_FILE, wait for SIGUSR1,
 *	then touch the memory again and print when it woke and how long the
 *	pass took; exit.
 *   demo-tool reclaimd CGROUP TRIGGER_MB TARGET_MB INTERVAL_MS [HIGH_MB]
 *	Userspace reclaim agent: every INTERVAL_MS, if memory.current is
 *	above TRIGGER_MB, write the excess over TARGET_MB to memory.reclaim.
 *	With HIGH_MB, memory.high is HIGH_MB while it runs: the kernel then
 *	throttles the workload above it, the backpressure the BPF policy
 *	gets from delaying charges. Until SIGTERM; then print its counts
 *	and the CPU time it used (user and system: its memory.reclaim
 *	writes reclaim in its own context).
 *   demo-tool writer FILE MB RATE_MB_S
 *	Write MB to FILE in 1 MB writes, twice over, at most RATE_MB_S MB a
 *	second (0: as fast as it can); print the MB written and the seconds.
 *   demo-tool replay SEED WORKERS MEAN_MB MAX_MB GAP_MS SECS LATFILE
 *	A bursty synthetic trace: WORKERS processes, each replaying its own
 *	request stream (xorshift from SEED and its index): requests arrive
 *	after exponential gaps of mean GAP_MS; each maps a size drawn from
 *	a Pareto distribution of mean MEAN_MB (at most MAX_MB), touches it,
 *	holds it for as many ms as it has MB, and frees it. For SECS
 *	seconds. Each request's latency (map and touch, ms) goes to LATFILE
 *	("-": none); prints the requests done and the workers that did not
 *	finish (killed: the OOM killer); exit status 1 if any.
 *   demo-tool beat FAULTS_PER_S
 *	Fault in that many fresh pages a second (ten batches, each mapped,
 *	touched and unmapped), until SIGTERM: what keeps a workload whose
 *	memory is resident "active" for a policy that watches page faults.
 *   demo-tool lowagent HIGH_CGROUP FAULTS_PER_S INTERVAL_MS LOW_MB
 *	Userspace protection agent: every INTERVAL_MS, read the high
 *	cgroup's pgfault count; while its rate exceeds FAULTS_PER_S, set
 *	memory.low to LOW_MB, else to 0. Until SIGTERM; prints the time of
 *	each change.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MB (1024UL * 1024)

static volatile sig_atomic_t stop, woken;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		woken = 1;
	else
		stop = 1;
}

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void sleep_ms(unsigned long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR && !stop)
		;
}

static unsigned long arg_num(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || end == s) {
		fprintf(stderr, "demo-tool: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

static char *map_anon(unsigned long bytes)
{
	char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	return p;
}

static int faultlat(unsigned long mb, unsigned long min_ms)
{
	unsigned long bytes = mb * MB, psz = sysconf(_SC_PAGESIZE), off, n = 0;
	double sum = 0, sq = 0, lo = 0, hi = 0, ms, mean, sd;
	unsigned long long t0;
	char *p = map_anon(bytes);

	for (off = 0; off < bytes; off += psz) {
		t0 = now_ns();
		p[off] = 1;
		ms = (now_ns() - t0) / 1e6;
		if (ms < min_ms)
			continue;
		if (!n || ms < lo)
			lo = ms;
		if (ms > hi)
			hi = ms;
		sum += ms;
		sq += ms * ms;
		n++;
	}
	mean = n ? sum / n : 0;
	sd = n > 1 ? sqrt((sq - n * mean * mean) / (n - 1)) : 0;
	printf("faults %lu delayed %lu mean_ms %.3f sd_ms %.3f min_ms %.3f max_ms %.3f\n",
	       bytes / psz, n, mean, sd, lo, hi);
	return 0;
}

static void touch(char *p, unsigned long bytes)
{
	unsigned long psz = sysconf(_SC_PAGESIZE), off;

	for (off = 0; off < bytes; off += psz)
		p[off]++;
}

static int hold(unsigned long mb, const char *ready)
{
	unsigned long bytes = mb * MB;
	unsigned long long t0, t1;
	char *p = map_anon(bytes);
	sigset_t set, old;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, &old);
	touch(p, bytes);
	fd = open(ready, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		perror(ready);
		return 1;
	}
	close(fd);
	while (!woken && !stop)
		sigsuspend(&old);
	if (stop)
		return 0;
	t0 = now_ns();
	touch(p, bytes);
	t1 = now_ns();
	printf("woke_ns %llu pass_ms %.1f\n", t0, (t1 - t0) / 1e6);
	return 0;
}

static long long read_key(const char *path, const char *key)
{
	char line[256];
	size_t len = strlen(key);
	long long v = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!key[0]) {
			v = atoll(line);
			break;
		}
		if (!strncmp(line, key, len) && line[len] == ' ') {
			v = atoll(line + len + 1);
			break;
		}
	}
	fclose(f);
	return v;
}

static int write_num(const char *path, unsigned long long v)
{
	char buf[32];
	int fd, len, ret = 0;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%llu", v);
	if (write(fd, buf, len) != len)
		ret = -errno;
	close(fd);
	return ret;
}

static int reclaimd(const char *cg, unsigned long trig_mb, unsigned long target_mb,
		    unsigned long interval_ms, unsigned long high_mb)
{
	unsigned long long polls = 0, writes = 0, asked = 0, failed = 0;
	char cur[512], rec[512], high[512];
	struct rusage ru;
	long long usage;

	snprintf(cur, sizeof(cur), "%s/memory.current", cg);
	snprintf(rec, sizeof(rec), "%s/memory.reclaim", cg);
	snprintf(high, sizeof(high), "%s/memory.high", cg);
	if (high_mb && write_num(high, high_mb * MB)) {
		fprintf(stderr, "reclaimd: cannot set %s\n", high);
		return 1;
	}
	while (!stop) {
		usage = read_key(cur, "");
		polls++;
		if (usage > (long long)(trig_mb * MB)) {
			unsigned long long want = usage - target_mb * MB;

			writes++;
			asked += want;
			/* EAGAIN: less reclaimed than asked; the next poll retries */
			if (write_num(rec, want))
				failed++;
		}
		sleep_ms(interval_ms);
	}
	if (high_mb) {
		int fd = open(high, O_WRONLY);

		if (fd < 0 || write(fd, "max", 3) != 3)
			fprintf(stderr, "reclaimd: cannot reset %s\n", high);
		if (fd >= 0)
			close(fd);
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("polls %llu reclaim_writes %llu asked_mb %llu short %llu cpu_ms %llu\n",
	       polls, writes, asked / MB, failed,
	       (unsigned long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000);
	return 0;
}

static int writer(const char *path, unsigned long mb, unsigned long rate)
{
	static char buf[MB];
	unsigned long long start = now_ns(), done = 0, due;
	unsigned long i;
	int fd, pass;

	memset(buf, 0x5a, sizeof(buf));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		perror(path);
		return 1;
	}
	for (pass = 0; pass < 2 && !stop; pass++) {
		for (i = 0; i < mb && !stop; i++) {
			if (pwrite(fd, buf, MB, i * MB) != (ssize_t)MB) {
				perror("write");
				return 1;
			}
			done++;
			/* At most @rate MB a second since the start */
			due = start + done * 1000000000ULL / (rate ? rate : 1);
			if (rate && now_ns() < due)
				sleep_ms((due - now_ns()) / 1000000);
		}
	}
	printf("written_mb %llu seconds %.3f\n", done, (now_ns() - start) / 1e9);
	close(fd);
	return 0;
}

static int lowagent(const char *cg, unsigned long rate, unsigned long interval_ms,
		    unsigned long low_mb)
{
	char stat[512], low[512];
	long long prev, cur;
	unsigned long long t, tprev;
	int active = 0;

	snprintf(stat, sizeof(stat), "%s/memory.stat", cg);
	snprintf(low, sizeof(low), "%s/memory.low", cg);
	prev = read_key(stat, "pgfault");
	tprev = now_ns();
	if (prev < 0 || write_num(low, 0)) {
		fprintf(stderr, "lowagent: cannot use %s\n", cg);
		return 1;
	}
	while (!stop) {
		sleep_ms(interval_ms);
		cur = read_key(stat, "pgfault");
		t = now_ns();
		/* faults per second over the last interval */
		if ((cur - prev) * 1000000000.0 / (t - tprev) > rate) {
			if (!active) {
				write_num(low, low_mb * MB);
				printf("protect_ns %llu\n", t);
				active = 1;
			}
		} else if (active) {
			write_num(low, 0);
			printf("unprotect_ns %llu\n", t);
			active = 0;
		}
		prev = cur;
		tprev = t;
		fflush(stdout);
	}
	return 0;
}

static unsigned long long xs_state;

static double xs_uniform(void)
{
	xs_state ^= xs_state >> 12;
	xs_state ^= xs_state << 25;
	xs_state ^= xs_state >> 27;
	return ((xs_state * 0x2545f4914f6cdd1dULL) >> 11) / 9007199254740992.0;
}

static int replay_worker(unsigned long long seed, double mean_mb, double max_mb,
			 double gap_ms, unsigned long secs, FILE *lat)
{
	unsigned long long end = now_ns() + secs * 1000000000ULL, t0;
	const double alpha = 2.5;	/* Pareto shape: a heavy tail */
	double xm = mean_mb * (alpha - 1) / alpha, mb, u;
	unsigned long bytes, n = 0;
	char *p;

	xs_state = seed ? seed : 1;
	while (now_ns() < end && !stop) {
		u = xs_uniform();
		sleep_ms((unsigned long)(-log(1 - u) * gap_ms));
		mb = xm / pow(1 - xs_uniform(), 1 / alpha);
		if (mb > max_mb)
			mb = max_mb;
		bytes = (unsigned long)(mb * MB);
		t0 = now_ns();
		p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return 1;
		touch(p, bytes);
		if (lat)
			fprintf(lat, "%.3f\n", (now_ns() - t0) / 1e6);
		sleep_ms((unsigned long)mb);
		munmap(p, bytes);
		n++;
	}
	return 0;
}

static int replay(unsigned long seed, unsigned long workers, unsigned long mean_mb,
		  unsigned long max_mb, unsigned long gap_ms, unsigned long secs,
		  const char *latfile)
{
	unsigned long i, failed = 0;
	int status;
	pid_t pid;

	for (i = 0; i < workers; i++) {
		pid = fork();
		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (!pid) {
			char path[512];
			FILE *lat = NULL;

			if (strcmp(latfile, "-")) {
				snprintf(path, sizeof(path), "%s.%lu", latfile, i);
				lat = fopen(path, "w");
			}
			status = replay_worker(seed * 1000 + i + 1, mean_mb, max_mb, gap_ms,
					       secs, lat);
			if (lat)
				fclose(lat);
			_exit(status);
		}
	}
	while ((pid = wait(&status)) > 0)
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			failed++;
	printf("workers %lu failed %lu\n", workers, failed);
	return failed ? 1 : 0;
}

static int beat(unsigned long rate)
{
	unsigned long i, n = rate / 10 ? rate / 10 : 1;
	long psz = sysconf(_SC_PAGESIZE);
	char *p;

	while (!stop) {
		p = mmap(NULL, n * psz, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		for (i = 0; i < n; i++)
			p[i * psz] = 1;
		munmap(p, n * psz);
		sleep_ms(100);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (argc == 4 && !strcmp(argv[1], "faultlat"))
		return faultlat(arg_num(argv[2]), arg_num(argv[3]));
	if (argc == 4 && !strcmp(argv[1], "hold"))
		return hold(arg_num(argv[2]), argv[3]);
	if ((argc == 6 || argc == 7) && !strcmp(argv[1], "reclaimd"))
		return reclaimd(argv[2], arg_num(argv[3]), arg_num(argv[4]),
				arg_num(argv[5]), argc == 7 ? arg_num(argv[6]) : 0);
	if (argc == 5 && !strcmp(argv[1], "writer"))
		return writer(argv[2], arg_num(argv[3]), arg_num(argv[4]));
	if (argc == 9 && !strcmp(argv[1], "replay"))
		return replay(arg_num(argv[2]), arg_num(argv[3]), arg_num(argv[4]),
			      arg_num(argv[5]), arg_num(argv[6]), arg_num(argv[7]), argv[8]);
	if (argc == 3 && !strcmp(argv[1], "beat"))
		return beat(arg_num(argv[2]));
	if (argc == 6 && !strcmp(argv[1], "lowagent"))
		return lowagent(argv[2], arg_num(argv[3]), arg_num(argv[4]),
				arg_num(argv[5]));
	fprintf(stderr,
		"usage: demo-tool faultlat MB MIN_MS | hold MB READY_FILE |\n"
		"       reclaimd CGROUP TRIGGER_MB TARGET_MB INTERVAL_MS [HIGH_MB] |\n"
		"       writer FILE MB RATE_MB_S | beat FAULTS_PER_S |\n"
		"       replay SEED WORKERS MEAN_MB MAX_MB GAP_MS SECS LATFILE |\n"
		"       lowagent HIGH_CGROUP FAULTS_PER_S INTERVAL_MS LOW_MB\n");
	return 2;
}
