// SPDX-License-Identifier: GPL-2.0
/*
 * The fault hooks of faults.h. Built twice: inert for the installed daemon,
 * live (AN_FAULT_INJECTION) for scx_ai_numad-faults.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "faults.h"
#include "log.h"

#ifndef AN_FAULT_INJECTION

const struct mem_ops *faults_mem_ops(void)
{
	return NULL;
}

unsigned int faults_detach_delay_ms(void)
{
	return 0;
}

#else

static int move_err;		/* -errno */
static bool move_per_page;	/* per-page status, else the whole call */

static long faulty_move_pages(pid_t pid, unsigned long count, void **pages, const int *nodes, int *status,
			      int flags)
{
	if (!nodes)
		return mem_sys_ops.move_pages(pid, count, pages, nodes, status, flags);
	if (!move_per_page)
		return move_err;
	for (unsigned long i = 0; i < count; i++)
		status[i] = move_err;
	return 0;
}

static const struct mem_ops faulty_ops = { .move_pages = faulty_move_pages };

static int errno_by_name(const char *s)
{
	static const struct { const char *name; int err; } names[] = {
		{ "EBUSY", EBUSY }, { "ENOMEM", ENOMEM }, { "EPERM", EPERM },
		{ "EACCES", EACCES }, { "ESRCH", ESRCH }, { "EFAULT", EFAULT },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i].name))
			return names[i].err;
	return 0;
}

const struct mem_ops *faults_mem_ops(void)
{
	const char *v = getenv("SCX_AI_NUMA_DEBUG_MOVE_PAGES");
	int err;

	if (!v)
		return NULL;
	if (!strncmp(v, "page:", 5))
		move_per_page = true;
	else if (strncmp(v, "call:", 5))
		v = "";
	err = *v ? errno_by_name(v + 5) : 0;
	if (!err) {
		log_warn("faults: SCX_AI_NUMA_DEBUG_MOVE_PAGES=%s: want page:ERR or call:ERR; no fault injected",
			 getenv("SCX_AI_NUMA_DEBUG_MOVE_PAGES"));
		return NULL;
	}
	move_err = -err;
	log_warn("faults: every page move fails: %s (%s)", strerror(err), move_per_page ? "per page" : "the call");
	return &faulty_ops;
}

unsigned int faults_detach_delay_ms(void)
{
	const char *v = getenv("SCX_AI_NUMA_DEBUG_DETACH_DELAY_MS");
	unsigned long ms = v ? strtoul(v, NULL, 10) : 0;

	return ms > 3600000 ? 3600000 : (unsigned int)ms;
}

#endif
