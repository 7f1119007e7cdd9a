/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Placement: which node a process runs on when someone other than the
 * policy knows better. Two sources, in order of precedence:
 *
 *   pins          rules from the configuration file and the control socket:
 *                 a process (by pid) or a cgroup v2 (and everything below
 *                 it) to a node;
 *   GPU homes     found by the daemon: a process using GPUs gets the node
 *                 they sit on, by the evidence assoc.h weighs (NVML, KFD,
 *                 DRM fdinfo, accelerators, its device list, its open
 *                 device nodes), and its descendants with it (gpu_scope
 *                 tree), or its whole cgroup (gpu_scope cgroup: a cgroup
 *                 entry, where its GPU processes agree on the node).
 *
 * The module keeps the desired state and mirrors it into the scheduler's
 * maps (through sched.h), diffing against what it installed; after a
 * re-attach (a new BPF object with empty maps) everything is installed
 * again. The GPU scan runs on a timer of the daemon's event loop, in bounded
 * steps (see gpuscan.h); NVML answers from its helper process (nvml.h).
 *
 * Paths below the daemon's root prefix (--sysfs-root): sys/bus/pci,
 * sys/fs/cgroup and proc, so tests can feed fake trees.
 */
#ifndef SCX_AI_NUMA_PLACEMENT_H
#define SCX_AI_NUMA_PLACEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "assoc.h"
#include "gpu.h"
#include "gpuscan.h"

struct loop;
struct placement;
struct sched;
struct topology;

#define PIN_PATH_MAX	256	/* a cgroup path below the cgroup2 mount, NUL included */
#define CGROUP_MOUNT	"/sys/fs/cgroup"

enum pin_kind {
	PIN_PROCESS,
	PIN_CGROUP,
};

enum pin_origin {
	PIN_FROM_CONTROL,	/* scx-ai-numactl pin: until unpinned or the daemon restarts */
	PIN_FROM_CONFIG,	/* the configuration file: replaced on reload */
};

struct pin {
	enum pin_kind kind;
	enum pin_origin origin;
	int node;			/* kernel node id */
	bool active;			/* its target exists: a cgroup may come and go; an
					 * exited process (a zombie too) is inactive until
					 * the timer drops its rule */
	pid_t pid;			/* PIN_PROCESS */
	uint64_t start_time;		/* the process's start, to tell a reused pid */
	char path[PIN_PATH_MAX];	/* PIN_CGROUP: "/a/b", below the cgroup2 mount */
	uint64_t cgroup_id;		/* inode number of its directory; 0 while inactive */
};

/* What a request names: a process, or a cgroup path as the user wrote it. */
struct pin_target {
	enum pin_kind kind;
	long long pid;
	const char *cgroup;
};

/* A rule of the configuration file, with its line for messages. */
struct pin_rule {
	struct pin_target target;
	int node;
	unsigned int line;
};

struct placement_info {
	int nr_gpus;
	size_t nr_pins;
	size_t nr_gpu_procs;		/* processes with a GPU home or left alone (struct gpu_proc) */
	enum gpu_scope scope;
	char nvml[192];			/* the NVML source's state, nvsrc_describe() */
	size_t nr_tgid_homes;		/* process entries in the scheduler's map */
	size_t nr_cgroup_homes;		/* cgroup entries in the scheduler's map */
	struct scan_stats scan;
};

/*
 * What placement needs of the daemon. The pointers must stay valid while
 * the module lives; what they point at may change (a re-read topology, a
 * new scheduler, NULL while detached).
 */
struct placement_env {
	struct loop *loop;		/* for the scan timer; NULL: the caller ticks (tests) */
	const struct topology *topo;	/* the topology the scheduler runs on */
	struct sched *const *sched;	/* the scheduler's maps; *sched NULL while detached */
	const char *root;		/* prefix of sys/ and proc/ paths, "" for the live system */
	const char *nvml_lib;		/* NULL: NVML_LIB; "": the NVML source off (tests) */
	aff_get_fn aff_get;		/* a process's CPUs; NULL: sched_getaffinity(2) (tests fake it) */
};

/*
 * The module's state, before any attach (the control plane may ask at any
 * time). NULL when out of memory: every function below takes NULL and then
 * does nothing, reports nothing, or fails with -ENOMEM.
 */
struct placement *placement_new(const struct placement_env *env);
/* Stop the timer and free everything (the scheduler's maps go with it). */
void placement_free(struct placement *pl);

/*
 * After every successful attach: a new scheduler has empty maps. The first
 * call also starts the module: discovers GPUs and starts the scan timer.
 * Never fails; problems are logged.
 */
void placement_attached(struct placement *pl);

/*
 * Add or replace the rule for @t. The node must exist, the process must be
 * running (and be a process, not a thread of one), the cgroup must exist
 * below the cgroup2 mount. On error nothing changes, @param names the bad
 * part ("pid", "cgroup" or "node") and @err says why. Returns 0 or -errno.
 */
int placement_pin(struct placement *pl, const struct pin_target *t, int node, enum pin_origin origin,
		  struct pin *out, const char **param, char *err, size_t errlen);
/* Remove the rule for @t; -ENOENT with @err set when there is none. */
int placement_unpin(struct placement *pl, const struct pin_target *t, struct pin *out, const char **param,
		    char *err, size_t errlen);

/*
 * Take the configuration file @file's pins, replacing the previous file's
 * (pins given on the socket stay); rules that cannot apply are logged,
 * naming their line, and skipped.
 */
void placement_set_config_pins(struct placement *pl, const struct pin_rule *rules, size_t n, const char *file);

/* A home that follows the process's memory (memfollow.c): the weakest kind. */
struct mem_home {
	pid_t pid;
	int node;		/* kernel node id */
};

/*
 * The processes whose home follows their memory, replacing the previous
 * list. They come after pins and GPU homes: a process with either keeps
 * it. Installed at once when the list changed. Returns 0 or -ENOMEM (the
 * previous list stays).
 */
int placement_set_memory_homes(struct placement *pl, const struct mem_home *h, size_t n);

size_t placement_pins(struct placement *pl, const struct pin **out);
/*
 * The processes of the last association pass, in pid order: each one's GPU
 * home (node), the source that decided it, the GPU process whose home it
 * shares (via), or why it is left alone.
 */
size_t placement_gpu_procs(struct placement *pl, const struct gpu_proc **out);
/* How far a GPU home extends (the gpu_scope tunable); applied from the next pass. */
void placement_set_scope(struct placement *pl, enum gpu_scope scope);
const struct gpu_list *placement_gpus(struct placement *pl);
/* The rule that decides @pid's node over its GPUs: "process", "cgroup", or NULL. */
const char *placement_overridden_by(struct placement *pl, pid_t pid);
void placement_get_info(struct placement *pl, struct placement_info *out);
/* A process's command name, "?" if it is gone. */
void placement_comm(struct placement *pl, pid_t pid, char *out, size_t len);

/*
 * What the module's timer does on every tick (every 200 ms with GPUs, every
 * second without): a scan step, a new pass when one is due, rules looked
 * after, the maps synced. Exposed so tests can drive it without a loop.
 */
void placement_tick(struct placement *pl);
/* Take @snap as NVML's answer instead of the source's (the benchmark); NULL: the source's again. */
void placement_inject_nvml(struct placement *pl, const struct nv_snapshot *snap);
/* Run GPU scan steps until a pass completes, then apply it (tests). Returns 0 or -errno. */
int placement_scan_now(struct placement *pl);

#endif
