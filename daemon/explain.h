/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The dry run (scx_ai_numad --explain): topology, GPU discovery, every
 * source of GPU evidence and the association, once, printed with what
 * would be placed where and why, and nothing loaded. It needs no sched_ext
 * and no root beyond what reading other processes' /proc files takes, so
 * an operator can check a GPU host before switching the scheduler on.
 */
#ifndef SCX_AI_NUMA_EXPLAIN_H
#define SCX_AI_NUMA_EXPLAIN_H

#include <stdio.h>

/*
 * Explain to @f what the daemon would place on the host below @root ("" for
 * the live system), with GPU homes extending as @scope (enum gpu_scope).
 * Returns 0, or -errno when the topology cannot be read (said in @err).
 */
int explain_run(FILE *f, const char *root, unsigned int scope, char *err, size_t errlen);

#endif
