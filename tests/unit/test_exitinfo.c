// SPDX-License-Identifier: GPL-2.0
/* Which scheduler exits make the daemon re-attach, retry, or stop. */
#include <string.h>

#include "check.h"
#include "exitinfo.h"

int main(void)
{
	/* What the kernel reports when a CPU goes offline under a scheduler without hotplug ops. */
	const int64_t hotplug = (int64_t)(AN_ECODE_ACT_RESTART | AN_ECODE_RSN_HOTPLUG);

	CHECK_INT(exit_classify(AN_EXIT_UNREG_KERN, hotplug), EXIT_ACT_RESTART,
		  "hotplug ejection (unreg by kernel, restart code) re-attaches");
	CHECK_INT(exit_classify(AN_EXIT_ERROR, (int64_t)AN_ECODE_ACT_RESTART), EXIT_ACT_RESTART,
		  "any exit carrying the restart action re-attaches");
	CHECK_INT(exit_classify(AN_EXIT_ERROR, 0), EXIT_ACT_RETRY, "kernel-detected error retries");
	CHECK_INT(exit_classify(AN_EXIT_ERROR + 1, 0), EXIT_ACT_RETRY, "BPF scx_bpf_error() retries");
	CHECK_INT(exit_classify(AN_EXIT_ERROR + 2, 0), EXIT_ACT_RETRY, "watchdog stall retries");
	CHECK_INT(exit_classify(AN_EXIT_UNREG_KERN, 0), EXIT_ACT_RETRY,
		  "kernel unregistration without restart retries");
	CHECK_INT(exit_classify(AN_EXIT_SYSRQ, 0), EXIT_ACT_STOP, "sysrq-S is respected: stop");
	CHECK_INT(exit_classify(AN_EXIT_UNREG, 0), EXIT_ACT_STOP, "unregistered from user space: stop");
	CHECK_INT(exit_classify(AN_EXIT_UNREG_BPF, 0), EXIT_ACT_STOP, "BPF-requested exit: stop");
	CHECK_INT(exit_classify(AN_EXIT_DONE, 0), EXIT_ACT_STOP, "done: stop");

	CHECK(!strcmp(exit_kind_str(AN_EXIT_ERROR + 2), "runnable task stall (watchdog)"),
	      "stall exit named as a stall");
	CHECK(!strcmp(exit_kind_str(AN_EXIT_SYSRQ), "disabled by sysrq-S"), "sysrq exit named");
	CHECK(exit_kind_str(12345) != NULL && exit_kind_str(-1) != NULL, "unknown kinds still get a name");
	return check_done();
}
