/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What /proc says of a process, read defensively: the process may exit
 * between any two reads, and its pid may be reused by the next one, which
 * the start time tells apart.
 */
#ifndef SCX_AI_NUMA_PROC_H
#define SCX_AI_NUMA_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define PROC_PF_KTHREAD	0x00200000	/* include/linux/sched.h: a kernel thread */

struct proc_stat {
	char state;		/* R, S, D, Z (zombie), X (dead), ... */
	pid_t ppid;
	unsigned long flags;	/* PF_* */
	uint64_t start_time;	/* clock ticks after boot */
	uint64_t cpu_ticks;	/* user + system CPU time so far, in clock ticks */
	int cpu;		/* the CPU it last ran on; -1 if the line is cut short */
};

/*
 * Fields of ROOT/proc/PID/stat ("" for the live system), counted after the
 * command name, which may itself hold blanks and parentheses. Returns 0,
 * -ESRCH when the process is gone, or -EINVAL for a line that does not parse.
 */
int proc_stat_read(const char *root, pid_t pid, struct proc_stat *out);

/* A user process that can still run: not a zombie, not dead, not a kernel thread. */
bool proc_stat_live(const struct proc_stat *s);

#endif
