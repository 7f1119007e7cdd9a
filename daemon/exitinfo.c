// SPDX-License-Identifier: GPL-2.0
/*
 * What a scheduler exit means for the daemon. Pure functions of the kernel's
 * exit kind and code, kept apart from the BPF plumbing so they are tested
 * on any host.
 */
#include "exitinfo.h"

enum exit_action exit_classify(int32_t kind, int64_t exit_code)
{
	if ((uint64_t)exit_code & AN_ECODE_ACT_RESTART)
		return EXIT_ACT_RESTART;
	switch (kind) {
	case AN_EXIT_DONE:
	case AN_EXIT_UNREG:
	case AN_EXIT_UNREG_BPF:
	case AN_EXIT_SYSRQ:
		/* Someone asked for the default scheduler: respect it. */
		return EXIT_ACT_STOP;
	default:
		return EXIT_ACT_RETRY;
	}
}

const char *exit_kind_str(int32_t kind)
{
	switch (kind) {
	case AN_EXIT_NONE: return "none";
	case AN_EXIT_DONE: return "done";
	case AN_EXIT_UNREG: return "unregistered from user space";
	case AN_EXIT_UNREG_BPF: return "unregistered by the BPF program";
	case AN_EXIT_UNREG_KERN: return "unregistered by the kernel";
	case AN_EXIT_SYSRQ: return "disabled by sysrq-S";
	}
	if (kind == AN_EXIT_ERROR_STALL)
		return "runnable task stall (watchdog)";
	if (kind == AN_EXIT_ERROR_BPF)
		return "error raised by the BPF program";
	if (kind >= AN_EXIT_ERROR)
		return "error detected by the kernel";
	return "unknown";
}
