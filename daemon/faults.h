/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Faults injected on request, for the tests: only scx_ai_numad-faults (meson
 * -Dfault_injection, never installed) has them; in the installed daemon
 * every hook is inert whatever the environment says.
 *
 *   SCX_AI_NUMA_DEBUG_MOVE_PAGES=page:EBUSY   every page a move asks for stays, with this status
 *   SCX_AI_NUMA_DEBUG_MOVE_PAGES=call:ENOMEM  every move call fails with this error
 *        (EBUSY, ENOMEM, EPERM, EACCES, ESRCH, EFAULT; queries are left alone)
 *   SCX_AI_NUMA_DEBUG_DETACH_DELAY_MS=N       detaching takes N ms longer, as if the
 *                                             kernel's disable were stuck
 */
#ifndef SCX_AI_NUMA_FAULTS_H
#define SCX_AI_NUMA_FAULTS_H

#include "memory.h"

/* The page mover's kernel calls with the requested fault; NULL: the real ones. */
const struct mem_ops *faults_mem_ops(void);
/* Extra time detaching takes, in ms; 0 without the fault. */
unsigned int faults_detach_delay_ms(void);

#endif
