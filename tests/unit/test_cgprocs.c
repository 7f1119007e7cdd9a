// SPDX-License-Identifier: GPL-2.0
/* The processes of a cgroup subtree (daemon/cgprocs.c) from a fixture tree. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cgprocs.h"
#include "check.h"
#include "fixture.h"

static char root[64];

int main(void)
{
	pid_t pids[16];
	char path[256];
	int n, sum = 0;

	snprintf(root, sizeof(root), "/tmp/test-cgprocs-XXXXXX");
	if (!mkdtemp(root))
		check_bail("mkdtemp");
	fixture_puts(root, "job/cgroup.procs", "");
	fixture_puts(root, "job/rank0/cgroup.procs", "100\n101\n");
	fixture_puts(root, "job/rank0/loader/cgroup.procs", "102\n");
	fixture_puts(root, "job/rank1/cgroup.procs", "200");
	fixture_puts(root, "job/rank1/cgroup.controllers", "cpu");
	snprintf(path, sizeof(path), "%s/job", root);
	n = cgprocs_list(path, pids, 16);
	for (int i = 0; i < n; i++)
		sum += pids[i];
	CHECK(n == 4 && sum == 100 + 101 + 102 + 200, "every process of the subtree, at any depth (%d)", n);
	n = cgprocs_list(path, pids, 2);
	CHECK_INT(n, 2, "no more than the caller has room for");
	snprintf(path, sizeof(path), "%s/job/rank1", root);
	n = cgprocs_list(path, pids, 16);
	CHECK(n == 1 && pids[0] == 200, "a leaf cgroup: its own processes, last line without a newline");
	snprintf(path, sizeof(path), "%s/gone", root);
	CHECK(cgprocs_list(path, pids, 16) < 0, "a cgroup that does not exist: an error");
	snprintf(path, sizeof(path), "rm -rf %s", root);
	if (system(path))
		check_bail("cleanup");
	return check_done();
}
