/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a scheduler exit means for the daemon: pure functions of the kernel's
 * exit kind and code (exitinfo.c), apart from the BPF plumbing (sched.h).
 */
#ifndef SCX_AI_NUMA_EXITINFO_H
#define SCX_AI_NUMA_EXITINFO_H

#include <stdint.h>
#include "intf.h"

/* What the daemon should do after an exit. */
enum exit_action {
	EXIT_ACT_RESTART,	/* the kernel asked for a re-attach (hotplug) */
	EXIT_ACT_RETRY,		/* an error: retry with backoff, bounded */
	EXIT_ACT_STOP,		/* unregistered on purpose (sysrq, done): stop */
};
enum exit_action exit_classify(int32_t kind, int64_t exit_code);
/* "error", "unregistered by the kernel (sysrq)" ...; never NULL. */
const char *exit_kind_str(int32_t kind);

#endif
