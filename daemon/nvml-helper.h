/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The NVML helper: what runs in the child process the daemon forks to talk
 * to NVIDIA's management library, so that a library call that blocks for
 * seconds on a sick GPU, or crashes, costs a child and not the daemon.
 *
 * The library is loaded at run time (no build or package dependency) and
 * only in the child. The daemon writes one byte ('q') to ask; the child
 * answers with text lines, each at most NVML_LINE_MAX bytes, no NUL byte
 * (the daemon refuses the whole answer for any line breaking this):
 *
 *   gpu IDX BUSID            a GPU, as NVML names its PCI address
 *   uuid IDX UUID            GPU IDX's UUID ("GPU-..."), when NVML says
 *   mig IDX UUID             a MIG instance on GPU IDX, by its UUID
 *                            ("MIG-..."), at most NVML_MIGS_MAX per GPU
 *   proc IDX PID BYTES       a compute process on GPU IDX and the memory it
 *                            holds there (18446744073709551615: unknown);
 *                            PID at most INT_MAX (a larger one makes the
 *                            GPU's list "bad")
 *   bad IDX WHAT             GPU IDX could not be read (WHAT: a reason)
 *   end                      the answer is complete: nothing follows it
 *   nolib REASON             the library is not there: the child exits
 *   fail REASON              the library does not work: the child exits
 */
#ifndef SCX_AI_NUMA_NVML_HELPER_H
#define SCX_AI_NUMA_NVML_HELPER_H

#define NVML_LINE_MAX		128
#define NVML_PROCS_MAX		4096	/* per GPU: more is a garbage count */
#define NVML_MIGS_MAX		16	/* MIG instances looked at per GPU; 7 is the most any offers */
#define NVML_BYTES_UNKNOWN	18446744073709551615ULL

#include <stddef.h>

/* Where the helper finds the library's entry points by name: dlsym, or a test's stand-in. */
typedef void *(*nvml_lookup_fn)(void *ctx, const char *name);

/*
 * One answer as the helper sends it, from the library whose entry points
 * @lookup finds: initialised, then asked once (a "fail" line when an entry
 * point is missing or init fails). The text is in *@buf (malloc()ed) of
 * *@len bytes. Returns 0 or -ENOMEM. For the fuzz target: the conversion
 * of the library's answers into lines, without a process or a socket.
 */
int nvml_helper_answer(nvml_lookup_fn lookup, void *ctx, char **buf, size_t *len);

/*
 * The child's whole life: load @lib, then answer requests on @fd until it
 * closes. Returns the exit status for _exit().
 */
int nvml_helper_main(int fd, const char *lib);

#endif
