// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target for /proc/PID/stat: the input is the file. The command name
 * in it is the process's to choose (blanks, parentheses, any bytes), so
 * nothing the process writes there may shift the fields read after it or
 * make the reader look past the file.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fuzz-util.h"
#include "proc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *root = fuzz_tree_reset();
	struct proc_stat st;
	int ret;

	fuzz_tree_put("proc/42/stat", data, size);
	memset(&st, 0, sizeof(st));
	ret = proc_stat_read(root, 42, &st);
	if (ret != 0 && ret != -EINVAL)
		fuzz_broken(data, size, "proc_stat_read returned %d", ret);
	if (ret == 0 && !st.state)
		fuzz_broken(data, size, "a stat line read without a state");
	(void)proc_stat_live(&st);
	return 0;
}
