// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "proc.h"

int proc_stat_read(const char *root, pid_t pid, struct proc_stat *out)
{
	char path[PATH_MAX], buf[1024], *p, *save = NULL;
	int field = 4, ret;

	if (pid <= 0)
		return -ESRCH;
	snprintf(path, sizeof(path), "%s/proc/%d/stat", root ? root : "", (int)pid);
	ret = read_small_file(path, buf, sizeof(buf), true);
	if (ret)
		return ret == -ENOENT ? -ESRCH : ret;
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2])
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->cpu = -1;
	out->state = p[2];
	for (p = strtok_r(p + 3, " ", &save); p; p = strtok_r(NULL, " ", &save), field++) {
		if (field == 4)
			out->ppid = (pid_t)strtol(p, NULL, 10);
		else if (field == 9)
			out->flags = strtoul(p, NULL, 10);
		else if (field == 14 || field == 15)
			out->cpu_ticks += strtoull(p, NULL, 10);
		else if (field == 22)
			out->start_time = strtoull(p, NULL, 10);
		else if (field == 39) {
			out->cpu = (int)strtol(p, NULL, 10);
			return 0;
		}
	}
	/* Older or cut lines end before the CPU: what came before still counts. */
	return field > 22 ? 0 : -EINVAL;
}

bool proc_stat_live(const struct proc_stat *s)
{
	return s->state != 'Z' && s->state != 'X' && s->state != 'x' && !(s->flags & PROC_PF_KTHREAD);
}
