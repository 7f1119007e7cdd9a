/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The NVML source: which processes NVIDIA's driver says run compute work on
 * which GPU, and how much memory each holds there. The most authoritative
 * answer there is for NVIDIA GPUs: every CUDA process holds every visible
 * /dev/nvidiaN open, but only uses the GPUs NVML lists it on.
 *
 * The library runs in a forked helper (nvml-helper.h) that the daemon asks
 * over a socket and never waits for: a request goes out, the answer is read
 * as it arrives (from the event loop, or when nvsrc_poll() is called), and
 * an answer later than the time limit gets the helper killed. A helper that
 * hangs, crashes, or answers garbage turns the source off, said once, and
 * it is tried again later, backing off; a missing library turns it off too,
 * said once, and is looked for again every few minutes.
 */
#ifndef SCX_AI_NUMA_NVML_H
#define SCX_AI_NUMA_NVML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gpu.h"

#define NVML_LIB		"libnvidia-ml.so.1"
#define NV_BYTES_UNKNOWN	UINT64_MAX

struct loop;
struct nvsrc;

/* A process NVML lists on a GPU with memory in use (entries with 0 bytes are left out). */
struct nv_use {
	pid_t pid;
	int gpu;		/* index into nv_snapshot.pci */
	uint64_t bytes;		/* NV_BYTES_UNKNOWN when the driver does not say */
};

/* MIG instances kept from one answer: 7 per GPU is the most any GPU offers yet. */
#define NV_MIG_MAX		256

/* A MIG instance: its UUID, as CUDA_VISIBLE_DEVICES names it, and its GPU. */
struct nv_mig {
	int gpu;		/* index into nv_snapshot.pci */
	char uuid[GPU_UUID_LEN];
};

struct nv_snapshot {
	int nr_gpus;
	char pci[GPU_MAX][GPU_PCI_LEN];	/* each GPU's PCI address as sysfs names it; "" if unparsable */
	char uuid[GPU_MAX][GPU_UUID_LEN];	/* each GPU's "GPU-..." UUID; "" if NVML did not say */
	int nr_migs;
	struct nv_mig mig[NV_MIG_MAX];
	size_t nr_uses;
	struct nv_use *use;		/* in GPU order */
	size_t use_cap;			/* room in use */
	uint64_t seq;			/* counts answers: a new one is a new number */
};

struct nvsrc_opts {
	const char *lib;		/* NULL: NVML_LIB, found the dynamic linker's way */
	struct loop *loop;		/* read answers as they come; NULL: in nvsrc_poll() only */
	unsigned int timeout_ms;	/* per request; 0: 2000 */
	unsigned int retry_ms;		/* first retry after a failure, doubling; 0: 10000 */
};

/* The source, not started yet. NULL when out of memory. */
struct nvsrc *nvsrc_new(const struct nvsrc_opts *o);
/* Kill the helper and free everything. */
void nvsrc_free(struct nvsrc *nv);

/*
 * Drive the source: read what the helper answered, kill it past the time
 * limit, start it when due, and send a new request when none is out.
 * Never blocks. Returns 1 when a new answer came in, 0 otherwise.
 */
int nvsrc_poll(struct nvsrc *nv);

/*
 * Wait up to @timeout_ms for a fresh answer (a request sent now): for the
 * tests and the dry run, never the event loop. Returns 1 on a fresh answer,
 * 0 when the source is off or the time ran out.
 */
int nvsrc_sync(struct nvsrc *nv, unsigned int timeout_ms);

/* The last good answer; NULL while there is none or the source is off. */
const struct nv_snapshot *nvsrc_snapshot(const struct nvsrc *nv);

/* Is the source answering? */
bool nvsrc_on(const struct nvsrc *nv);

/* "on, 2 GPUs", "off: library not found (...)", "off: hung, retrying in 40 s", ... */
void nvsrc_describe(const struct nvsrc *nv, char *buf, size_t len);

/*
 * NVML's PCI bus id ("00000000:21:00.0", 8-digit domain, upper-case hex)
 * as sysfs names the device ("0000:21:00.0"). Returns 0 or -EINVAL.
 */
int nvml_bus_to_sysfs(const char *bus, char *out, size_t len);

/*
 * Is @s a UUID as NVML prints one: "GPU-" or "MIG-" (or the older
 * "MIG-GPU-.../GI/CI"), then hex digits and dashes, shorter than
 * GPU_UUID_LEN?
 */
bool nvml_uuid_ok(const char *s);

/* What an answer of the helper says (nvml_answer_decode). */
enum nv_answer {
	NV_ANSWER_OK,		/* a snapshot */
	NV_ANSWER_NOLIB,	/* the library is not there */
	NV_ANSWER_FAIL,		/* the library does not work */
	NV_ANSWER_GARBAGE,	/* the answer breaks the protocol (nvml-helper.h) */
};

/* Is @buf (@len bytes) a whole answer: lines up to "end", or a nolib or fail line? */
bool nvml_answer_complete(const char *buf, size_t len);

/*
 * Decode the whole answer of the helper in @buf: @len bytes with room for a
 * NUL after them, cut up in place. The I/O-free part of the daemon's side,
 * apart so the fuzz target runs it as the daemon does. It is decoded into
 * the scratch @tmp; only a good answer goes into @s (swapped with @tmp,
 * keeping @s->seq), so anything else leaves @s as it was. Returns an
 * enum nv_answer with @why the reason (nolib, fail) or the first offending
 * line (garbage), and *@nbad the GPUs the helper could not read; or -ENOMEM.
 */
int nvml_answer_decode(char *buf, size_t len, struct nv_snapshot *s, struct nv_snapshot *tmp, unsigned int *nbad,
		       char *why, size_t whylen);

#endif
