// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgprocs.h"

/* cgroup.procs of one directory, read in pieces: a big job lists thousands of pids. */
static int read_procs(int dirfd, pid_t *out, size_t max, size_t *nr)
{
	char buf[4096];
	long v = -1;
	int fd = openat(dirfd, "cgroup.procs", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT || errno == ENODEV ? 0 : -errno;
	for (;;) {
		ssize_t got = read(fd, buf, sizeof(buf));

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		for (ssize_t i = 0; i < got; i++) {
			char c = buf[i];

			if (c >= '0' && c <= '9') {
				v = (v < 0 ? 0 : v) * 10 + (c - '0');
				if (v > INT_MAX)
					v = INT_MAX;
				continue;
			}
			if (v > 0 && *nr < max)
				out[(*nr)++] = (pid_t)v;
			v = -1;
		}
	}
	if (v > 0 && *nr < max)
		out[(*nr)++] = (pid_t)v;
	close(fd);
	return 0;
}

static int walk(int dirfd, int depth, pid_t *out, size_t max, size_t *nr)
{
	struct dirent *de;
	DIR *d;
	int ret = read_procs(dirfd, out, max, nr);

	if (ret || depth >= CGPROCS_MAX_DEPTH || *nr >= max)
		return ret;
	d = fdopendir(dup(dirfd));
	if (!d)
		return 0;
	while ((de = readdir(d)) && *nr < max) {
		int sub;

		if (de->d_name[0] == '.' || de->d_type != DT_DIR)
			continue;
		sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			continue;
		walk(sub, depth + 1, out, max, nr);
		close(sub);
	}
	closedir(d);
	return 0;
}

int cgprocs_list(const char *dir, pid_t *out, size_t max)
{
	size_t nr = 0;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = walk(fd, 0, out, max, &nr);
	close(fd);
	return ret ? ret : (int)nr;
}
