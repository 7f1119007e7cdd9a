/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SCX_AI_NUMA_FILEIO_H
#define SCX_AI_NUMA_FILEIO_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Read a sysfs or /proc file into @buf (at most @len - 1 bytes, over as
 * many reads as the file gives them, NUL-terminated), dropping trailing
 * newlines and spaces when @trim. Returns 0 or -errno.
 */
int read_small_file(const char *path, char *buf, size_t len, bool trim);

#endif
