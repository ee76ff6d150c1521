// SPDX-License-Identifier: GPL-2.0
/* Enable and disable a static key through a sysctl, as fast as it goes,
 * for argv[2] seconds: toggle /proc/sys/kernel/sched_schedstats 60
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec t0, t;
	unsigned long n = 0;
	int fd, secs;

	if (argc != 3)
		return 2;
	secs = atoi(argv[2]);
	fd = open(argv[1], O_WRONLY);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		if (pwrite(fd, "1\n", 2, 0) != 2 || pwrite(fd, "0\n", 2, 0) != 2) {
			perror("write");
			return 1;
		}
		n++;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (t.tv_sec - t0.tv_sec < secs);
	printf("%s enabled and disabled %lu times in %d s (%.1f/s)\n", argv[1], n, secs,
	       (double)n / secs);
	return 0;
}
