/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The processes of a cgroup v2 subtree, for moving a pinned cgroup's memory
 * (a pin covers the cgroup's descendants, as it does in the scheduler).
 */
#ifndef SCX_AI_NUMA_CGPROCS_H
#define SCX_AI_NUMA_CGPROCS_H

#include <stddef.h>
#include <sys/types.h>

/* Levels below the pinned cgroup looked into; deeper ones are left out. */
#define CGPROCS_MAX_DEPTH	16

/*
 * The process ids in cgroup.procs of @dir (a cgroup directory, absolute)
 * and every cgroup below it, at most @max of them into @out. Returns how
 * many were stored, or -errno when @dir cannot be read. A cgroup removed
 * while it is read is not an error: it holds no process any more.
 */
int cgprocs_list(const char *dir, pid_t *out, size_t max);

#endif
