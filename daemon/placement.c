// SPDX-License-Identifier: GPL-2.0
/*
 * Placement: pins and GPU homes, mirrored into the scheduler's maps.
 *
 * The desired state is rebuilt from the rules and the last scan whenever
 * either changes, and compared with what this module installed: only the
 * difference reaches the kernel, so a steady host costs no map writes.
 * Process ids are transient: a pinned process is remembered with its start
 * time, so a pid reused by a new process does not inherit the rule, and the
 * rule goes when the process does. A pinned cgroup is remembered by path:
 * one that is removed and created again (a restarted service) is pinned
 * again under its new id.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "fileio.h"
#include "log.h"
#include "loop.h"
#include "nvml.h"
#include "placement.h"
#include "proc.h"
#include "sched.h"
#include "topology.h"

/*
 * The scan: a pass every PASS_MS, in steps STEP_MS apart of at most this
 * much work. The timer ticks every STEP_MS only while a pass is cut into
 * steps; most passes take one step, and then the daemon wakes once a pass.
 */
#define STEP_MS			200
#define IDLE_TICK_MS		1000	/* no GPU: only rules to look after */
#define PASS_MS			1000
#define DISCOVER_MS		30000	/* GPUs come and go rarely: look again this often */
static const struct scan_budget scan_budget = { .procs = 512, .fds = 8192, .fds_per_proc = 1024 };

struct installed {
	uint64_t key;		/* tgid or cgroup id */
	uint32_t dense;
	bool pinned;
};

/* A cgroup whose GPU processes all use one node (scope cgroup). */
struct gpu_cgroup {
	char path[PIN_PATH_MAX];
	uint64_t id;
	int node;
};

struct placement {
	struct placement_env env;
	struct gpu_list gpus;
	struct gpuscan *scan;
	int timer_fd;
	uint64_t tick_ms;
	uint64_t last_pass_ns, last_discover_ns;
	uint64_t denied_said_ns;	/* when unreadable open files were last said */
	bool started;

	struct pin pins[AN_MAX_PINS];
	size_t nr_pins;

	struct gpu_proc *procs;		/* from the last completed pass, by pid */
	size_t nr_procs;
	struct gpu_cgroup gpu_cg[AN_MAX_PINS];	/* scope cgroup: cgroups sharing a GPU home */
	size_t nr_gpu_cg;
	struct nvsrc *nv;		/* NULL: NVML off (or out of memory) */
	const struct nv_snapshot *nv_fixed;	/* placement_inject_nvml() */
	struct assoc *assoc;
	enum gpu_scope scope;

	struct mem_home *mem;		/* homes that follow memory (memfollow.c) */
	size_t nr_mem;

	/* What the scheduler's maps hold, sorted by key. */
	struct installed *tgid;
	size_t nr_tgid;
	struct installed cgroup[AN_MAX_PINS];
	size_t nr_cgroup;
	unsigned int map_errors;	/* in the current sync */
	bool map_error_logged;		/* the last sync failed too: do not log again */
};

static const char *root_of(const struct placement *pl)
{
	return pl->env.root ? pl->env.root : "";
}

struct placement *placement_new(const struct placement_env *env)
{
	struct placement *pl = calloc(1, sizeof(*pl));

	if (!pl)
		return NULL;
	pl->env = *env;
	pl->timer_fd = -1;
	pl->scope = GPU_SCOPE_TREE;
	return pl;
}

/* ---- processes ------------------------------------------------------------------ */

struct proc_info {
	pid_t tgid;
	struct proc_stat st;	/* state, flags, start time */
};

/*
 * /proc/PID/stat through proc.c, and the thread group id from
 * /proc/PID/status: /proc answers for thread ids too, which are not
 * processes.
 */
static int proc_read(struct placement *pl, pid_t pid, struct proc_info *out)
{
	char path[PATH_MAX], buf[4096], *line;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = proc_stat_read(root_of(pl), pid, &out->st);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/proc/%d/status", root_of(pl), (int)pid);
	ret = read_small_file(path, buf, sizeof(buf), false);
	if (ret)
		return ret;
	line = strstr(buf, "\nTgid:");
	if (!line)
		return -EINVAL;
	out->tgid = (pid_t)strtol(line + 6, NULL, 10);
	return 0;
}

static bool proc_exited(const struct proc_info *pi)
{
	return pi->st.state == 'Z' || pi->st.state == 'X';
}

/*
 * Why the process a rule names is not the one running under its pid now:
 * exited, a zombie, or the pid reused (another start time). NULL while it is.
 */
static const char *pin_proc_gone(struct placement *pl, const struct pin *p)
{
	struct proc_info pi;

	if (proc_read(pl, p->pid, &pi) < 0 || pi.tgid != p->pid)
		return "exited";
	if (pi.st.start_time != p->start_time)
		return "exited and its pid was reused";
	if (proc_exited(&pi))
		return "exited (a zombie)";
	return NULL;
}

void placement_comm(struct placement *pl, pid_t pid, char *out, size_t len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/proc/%d/comm", root_of(pl), (int)pid);
	if (read_small_file(path, out, len, false) < 0)
		snprintf(out, len, "?");
	out[strcspn(out, "\n")] = '\0';
	/* A process names itself: keep what it chose out of log lines and replies as bytes it cannot abuse. */
	for (char *c = out; *c; c++)
		if (*c < 0x20 || *c > 0x7e)
			*c = '?';
}

/* ---- cgroups ----------------------------------------------------------------------- */

/*
 * "/sys/fs/cgroup/a/b", "/a/b" and "a/b" all name cgroup "/a/b". Empty
 * and "." components are dropped; ".." is refused rather than resolved,
 * so a rule never names anything outside the hierarchy.
 */
static int cgroup_normalize(const char *in, char *out, size_t len, char *err, size_t errlen)
{
	size_t o = 0, mlen = strlen(CGROUP_MOUNT);
	const char *p = in;

	if (!strncmp(p, CGROUP_MOUNT, mlen) && (p[mlen] == '/' || !p[mlen]))
		p += mlen;
	while (*p) {
		const char *e;
		size_t n;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		e = strchr(p, '/');
		n = e ? (size_t)(e - p) : strlen(p);
		if (n == 2 && !strncmp(p, "..", 2)) {
			snprintf(err, errlen, "cgroup path '%.200s': '..' is not allowed", in);
			return -EINVAL;
		}
		if (!(n == 1 && *p == '.')) {
			for (size_t i = 0; i < n; i++) {
				unsigned char c = (unsigned char)p[i];

				if (c < 0x20 || c == 0x7f) {
					snprintf(err, errlen, "cgroup path: control character 0x%02x", c);
					return -EINVAL;
				}
			}
			if (o + 1 + n >= len) {
				snprintf(err, errlen, "cgroup path '%.200s': longer than %zu bytes", in, len - 1);
				return -ENAMETOOLONG;
			}
			out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
		}
		p += n;
	}
	out[o] = '\0';
	if (!o) {
		snprintf(err, errlen, "cgroup path '%.200s' names the root cgroup, which holds every task; "
			 "pin a cgroup below it", in);
		return -EINVAL;
	}
	return 0;
}

/* @pid's cgroup v2 path ("/a/b"), from the "0::/path" line of /proc/PID/cgroup. */
static int proc_cgroup(struct placement *pl, pid_t pid, char *out, size_t len)
{
	char path[PATH_MAX], *cg;
	int ret;

	snprintf(path, sizeof(path), "%s/proc/%d/cgroup", root_of(pl), (int)pid);
	ret = read_small_file(path, out, len, false);
	if (ret < 0)
		return ret;
	cg = strstr(out, "0::");
	if (!cg || (cg != out && cg[-1] != '\n'))
		return -EINVAL;
	cg += 3;
	cg[strcspn(cg, "\n")] = '\0';
	memmove(out, cg, strlen(cg) + 1);
	return 0;
}

/* The id of cgroup @path ("/a/b"): the inode number of its directory. */
static int cgroup_id(struct placement *pl, const char *path, uint64_t *id, char *err, size_t errlen)
{
	char full[PATH_MAX + 32], probe[PATH_MAX + 64];
	struct stat st;
	int ret;

	snprintf(full, sizeof(full), "%s" CGROUP_MOUNT "%s", root_of(pl), path);
	if (stat(full, &st) < 0) {
		ret = -errno;
		snprintf(err, errlen, "no cgroup %s (%s: %s)", path, full, strerror(errno));
		return ret;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s is not a cgroup directory", full);
		return -ENOTDIR;
	}
	/* Only cgroup v2 directories have cgroup.controllers. */
	snprintf(probe, sizeof(probe), "%s/cgroup.controllers", full);
	if (access(probe, F_OK) < 0) {
		snprintf(err, errlen, "%s is not a cgroup v2 directory (no cgroup.controllers)", full);
		return -EINVAL;
	}
	*id = (uint64_t)st.st_ino;
	return 0;
}

/* ---- the scheduler's maps ----------------------------------------------------------- */

static int cmp_installed(const void *a, const void *b)
{
	uint64_t x = ((const struct installed *)a)->key, y = ((const struct installed *)b)->key;

	return (x > y) - (x < y);
}

/* Dense node of kernel node @node under the current topology; AN_NO_NODE if it has none. */
/* Logged once until a sync succeeds: a full map would otherwise log every pass. */
static void map_error(struct placement *pl, const char *what, uint64_t key, int ret)
{
	if (!pl->map_errors++ && !pl->map_error_logged)
		log_warn("placement: %s %" PRIu64 ": %s", what, key, strerror(-ret));
}

/*
 * Bring the map from @have (what it holds) to @want, both sorted by key:
 * deletions first, so a full map has room for the additions. What the map
 * holds afterwards goes to @out (room for @nw). Returns its count.
 */
static size_t apply_diff(struct placement *pl, struct sched *s, bool cgroup, const struct installed *have,
			 size_t nh, const struct installed *want, size_t nw, struct installed *out)
{
	size_t i, j, n = 0;
	int ret;

	for (i = 0, j = 0; i < nh; i++) {
		while (j < nw && want[j].key < have[i].key)
			j++;
		if (j < nw && want[j].key == have[i].key)
			continue;
		ret = cgroup ? sched_clear_cgroup_home(s, have[i].key) : sched_clear_tgid_home(s, (uint32_t)have[i].key);
		if (ret)
			map_error(pl, cgroup ? "clearing the home of cgroup" : "clearing the home of process",
				  have[i].key, ret);
	}
	for (i = 0, j = 0; j < nw; j++) {
		while (i < nh && have[i].key < want[j].key)
			i++;
		if (i < nh && have[i].key == want[j].key && have[i].dense == want[j].dense &&
		    have[i].pinned == want[j].pinned) {
			out[n++] = want[j];
			continue;
		}
		ret = cgroup ? sched_set_cgroup_home(s, want[j].key, want[j].dense) :
			       sched_set_tgid_home(s, (uint32_t)want[j].key, want[j].dense, want[j].pinned);
		if (ret) {
			map_error(pl, cgroup ? "setting the home of cgroup" : "setting the home of process",
				  want[j].key, ret);
			continue;
		}
		out[n++] = want[j];
	}
	return n;
}

/* Mirror the rules and the last scan into the scheduler. */
static void sync_maps(struct placement *pl)
{
	struct installed *want, *next, cg[AN_MAX_PINS], cg_out[AN_MAX_PINS];
	const struct topology *topo;
	size_t nw = 0, ncg = 0, cap, n;

	if (!pl || !*pl->env.sched)
		return;
	topo = pl->env.topo;
	/* Cannot happen while attached: the attach needed the same map. */
	if (!topo->indexed) {
		log_warn("placement: the topology has no node map; homes not installed");
		return;
	}
	cap = pl->nr_pins + pl->nr_procs + pl->nr_mem;
	want = calloc(cap ? cap : 1, sizeof(*want));
	if (!want) {
		log_warn("placement: out of memory");
		return;
	}
	for (size_t i = 0; i < pl->nr_pins; i++) {
		const struct pin *p = &pl->pins[i];
		uint32_t dense = topology_dense_node(topo, p->node);

		if (!p->active || dense == AN_NO_NODE)
			continue;
		/* Its pid may be another process's since the rules were checked. */
		if (p->kind == PIN_PROCESS && pin_proc_gone(pl, p))
			continue;
		if (p->kind == PIN_PROCESS)
			want[nw++] = (struct installed){ .key = (uint64_t)p->pid, .dense = dense, .pinned = true };
		else
			cg[ncg++] = (struct installed){ .key = p->cgroup_id, .dense = dense, .pinned = true };
	}
	qsort(want, nw, sizeof(*want), cmp_installed);
	/* GPU homes of processes without a process pin (a cgroup pin wins inside the scheduler). */
	for (size_t i = 0, npin = nw; i < pl->nr_procs && nw < AN_MAX_TGID_HOMES; i++) {
		const struct gpu_proc *gp = &pl->procs[i];
		struct installed key = { .key = (uint64_t)gp->pid };
		uint32_t dense = topology_dense_node(topo, gp->node);

		if (gp->alone || dense == AN_NO_NODE || bsearch(&key, want, npin, sizeof(*want), cmp_installed))
			continue;
		want[nw++] = (struct installed){ .key = (uint64_t)gp->pid, .dense = dense, .pinned = false };
	}
	qsort(want, nw, sizeof(*want), cmp_installed);
	/* Homes that follow memory, for processes with neither a pin nor a GPU home. */
	for (size_t i = 0, nprev = nw; i < pl->nr_mem && nw < AN_MAX_TGID_HOMES; i++) {
		struct installed key = { .key = (uint64_t)pl->mem[i].pid };
		uint32_t dense = topology_dense_node(topo, pl->mem[i].node);

		if (dense == AN_NO_NODE || bsearch(&key, want, nprev, sizeof(*want), cmp_installed))
			continue;
		want[nw++] = (struct installed){ .key = (uint64_t)pl->mem[i].pid, .dense = dense, .pinned = false };
	}
	qsort(want, nw, sizeof(*want), cmp_installed);
	/* Scope cgroup: a GPU home for the cgroup, where no pin decides it (pins were checked when taken). */
	for (size_t i = 0; i < pl->nr_gpu_cg && ncg < AN_MAX_PINS; i++) {
		uint32_t dense = topology_dense_node(topo, pl->gpu_cg[i].node);
		bool dup = false;

		for (size_t k = 0; k < ncg; k++)
			dup |= cg[k].key == pl->gpu_cg[i].id;
		if (dense != AN_NO_NODE && !dup)
			cg[ncg++] = (struct installed){ .key = pl->gpu_cg[i].id, .dense = dense, .pinned = false };
	}
	qsort(cg, ncg, sizeof(*cg), cmp_installed);

	next = calloc(nw ? nw : 1, sizeof(*next));
	if (!next) {
		free(want);
		log_warn("placement: out of memory");
		return;
	}
	pl->map_errors = 0;
	n = apply_diff(pl, *pl->env.sched, false, pl->tgid, pl->nr_tgid, want, nw, next);
	free(pl->tgid);
	pl->tgid = next;
	pl->nr_tgid = n;
	pl->nr_cgroup = apply_diff(pl, *pl->env.sched, true, pl->cgroup, pl->nr_cgroup, cg, ncg, cg_out);
	memcpy(pl->cgroup, cg_out, pl->nr_cgroup * sizeof(*cg_out));
	sched_set_home_counts(*pl->env.sched, (uint32_t)pl->nr_tgid, (uint32_t)pl->nr_cgroup);
	pl->map_error_logged = pl->map_errors > 0;
	free(want);
}

/* ---- rules ---------------------------------------------------------------------------------- */

static bool node_exists(const struct topology *t, int node)
{
	for (int i = 0; i < t->nr_nodes && i < AN_MAX_NODE_ID; i++)
		if (t->nodes[i].id == node)
			return true;
	return false;
}

static void node_list(const struct topology *t, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int i = 0; i < t->nr_nodes && i < AN_MAX_NODE_ID && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%d", i ? ", " : "", t->nodes[i].id);
}

static struct pin *find_pin(struct placement *pl, enum pin_kind kind, pid_t pid, const char *path)
{
	for (size_t i = 0; i < pl->nr_pins; i++) {
		struct pin *p = &pl->pins[i];

		if (p->kind == kind && (kind == PIN_PROCESS ? p->pid == pid : !strcmp(p->path, path)))
			return p;
	}
	return NULL;
}

static void drop_pin(struct placement *pl, struct pin *p)
{
	size_t i = (size_t)(p - pl->pins);

	memmove(&pl->pins[i], &pl->pins[i + 1], (pl->nr_pins - i - 1) * sizeof(*p));
	pl->nr_pins--;
}

static void describe(const struct pin *p, char *buf, size_t len)
{
	if (p->kind == PIN_PROCESS)
		snprintf(buf, len, "process %d", (int)p->pid);
	else
		snprintf(buf, len, "cgroup %s", p->path);
}

/* Check @t and fill @p's target fields; nothing changes. */
static int resolve_target(struct placement *pl, const struct pin_target *t, struct pin *p, bool must_exist,
			  const char **param, char *err, size_t errlen)
{
	struct proc_info pi;
	int ret;

	memset(p, 0, sizeof(*p));
	p->kind = t->kind;
	if (t->kind == PIN_CGROUP) {
		*param = "cgroup";
		if (!t->cgroup || !*t->cgroup) {
			snprintf(err, errlen, "no cgroup path given");
			return -EINVAL;
		}
		ret = cgroup_normalize(t->cgroup, p->path, sizeof(p->path), err, errlen);
		if (ret || !must_exist)
			return ret;
		ret = cgroup_id(pl, p->path, &p->cgroup_id, err, errlen);
		p->active = !ret;
		return ret;
	}
	*param = "pid";
	if (t->pid <= 0 || t->pid > INT_MAX) {
		snprintf(err, errlen, "pid %lld: not a process id (1..%d)", t->pid, INT_MAX);
		return -EINVAL;
	}
	p->pid = (pid_t)t->pid;
	if (!must_exist)
		return 0;
	ret = proc_read(pl, p->pid, &pi);
	if (ret == -ENOENT || ret == -ESRCH) {
		snprintf(err, errlen, "no process with pid %d", (int)p->pid);
		return -ESRCH;
	}
	if (ret) {
		snprintf(err, errlen, "process %d: reading /proc: %s", (int)p->pid, strerror(-ret));
		return ret;
	}
	if (pi.tgid != p->pid) {
		snprintf(err, errlen, "pid %d is a thread of process %d: pin the process", (int)p->pid, (int)pi.tgid);
		return -EINVAL;
	}
	if (pi.st.flags & PROC_PF_KTHREAD) {
		snprintf(err, errlen, "pid %d is a kernel thread: only processes can be pinned", (int)p->pid);
		return -EINVAL;
	}
	if (proc_exited(&pi)) {
		snprintf(err, errlen, "process %d has exited (a zombie): nothing to pin", (int)p->pid);
		return -ESRCH;
	}
	p->start_time = pi.st.start_time;
	p->active = true;
	return 0;
}

static int pin_one(struct placement *pl, const struct pin_target *t, int node, enum pin_origin origin,
		   struct pin *out, const char **param, char *err, size_t errlen)
{
	struct pin p, *cur;
	char nodes[256], what[PIN_PATH_MAX + 16];
	int ret;

	*param = "";
	if (!pl) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = resolve_target(pl, t, &p, true, param, err, errlen);
	if (ret)
		return ret;
	if (!node_exists(pl->env.topo, node)) {
		*param = "node";
		node_list(pl->env.topo, nodes, sizeof(nodes));
		snprintf(err, errlen, "node %d does not exist (nodes: %s)", node, nodes);
		return -EINVAL;
	}
	p.node = node;
	p.origin = origin;
	cur = find_pin(pl, p.kind, p.pid, p.path);
	if (!cur && pl->nr_pins == AN_MAX_PINS) {
		snprintf(err, errlen, "already %d rules, the most there can be: unpin some first", AN_MAX_PINS);
		return -ENOSPC;
	}
	describe(&p, what, sizeof(what));
	if (cur && cur->node != node)
		log_info("pin: %s: node %d -> %d", what, cur->node, node);
	else if (!cur)
		log_info("pin: %s -> node %d", what, node);
	if (!cur)
		cur = &pl->pins[pl->nr_pins++];
	*cur = p;
	if (out)
		*out = p;
	return 0;
}

int placement_pin(struct placement *pl, const struct pin_target *t, int node, enum pin_origin origin,
		  struct pin *out, const char **param, char *err, size_t errlen)
{
	int ret = pin_one(pl, t, node, origin, out, param, err, errlen);

	if (!ret)
		sync_maps(pl);
	return ret;
}

int placement_unpin(struct placement *pl, const struct pin_target *t, struct pin *out, const char **param,
		    char *err, size_t errlen)
{
	struct pin p, *cur;
	char what[PIN_PATH_MAX + 16];
	int ret;

	*param = "";
	if (!pl) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = resolve_target(pl, t, &p, false, param, err, errlen);
	if (ret)
		return ret;
	cur = find_pin(pl, p.kind, p.pid, p.path);
	describe(&p, what, sizeof(what));
	if (!cur) {
		snprintf(err, errlen, "no rule for %s", what);
		return -ENOENT;
	}
	if (out)
		*out = *cur;
	log_info("unpin: %s (was node %d)", what, cur->node);
	drop_pin(pl, cur);
	sync_maps(pl);
	return 0;
}

void placement_set_config_pins(struct placement *pl, const struct pin_rule *rules, size_t n, const char *file)
{
	size_t i = 0;

	if (!pl)
		return;
	/* The file's rules replace the previous file's; rules given on the socket stay. */
	while (i < pl->nr_pins) {
		if (pl->pins[i].origin == PIN_FROM_CONFIG)
			drop_pin(pl, &pl->pins[i]);
		else
			i++;
	}
	for (i = 0; i < n; i++) {
		const char *param;
		char err[512];

		if (pin_one(pl, &rules[i].target, rules[i].node, PIN_FROM_CONFIG, NULL, &param, err, sizeof(err)) < 0)
			log_warn("%s:%u: %s; rule skipped", file, rules[i].line, err);
	}
	sync_maps(pl);
}

/*
 * Processes that exited take their rule with them; cgroups are looked up
 * again by path. Returns whether anything changed.
 */
static bool refresh_pins(struct placement *pl)
{
	bool changed = false;
	size_t i = 0;

	while (i < pl->nr_pins) {
		struct pin *p = &pl->pins[i];
		const char *gone;
		char err[256];
		uint64_t id = 0;
		bool active;

		if (p->kind == PIN_PROCESS) {
			gone = pin_proc_gone(pl, p);
			if (gone) {
				log_info("pin: process %d %s; its rule (node %d) is gone", (int)p->pid, gone, p->node);
				drop_pin(pl, p);
				changed = true;
				continue;
			}
			i++;
			continue;
		}
		active = cgroup_id(pl, p->path, &id, err, sizeof(err)) == 0;
		if (active != p->active || id != p->cgroup_id) {
			log_info("pin: cgroup %s %s", p->path,
				 !active ? "is gone; the rule waits for it to come back" :
				 p->active ? "was created again; pinned under its new id" : "is back; pinned again");
			p->active = active;
			p->cgroup_id = id;
			changed = true;
		}
		i++;
	}
	return changed;
}

/* ---- GPUs and the scan ---------------------------------------------------------------------- */

static void log_gpu_change(struct placement *pl, const struct gpu_proc *old, const struct gpu_proc *now)
{
	char comm[32];

	if (old && now && old->node == now->node && old->source == now->source && old->via == now->via &&
	    !old->alone == !now->alone)
		return;
	placement_comm(pl, now ? now->pid : old->pid, comm, sizeof(comm));
	if (!now)
		log_info("gpu: process %d (%s) no longer uses a GPU", (int)old->pid, comm);
	else if (now->node >= 0 && now->via && !now->alone)
		log_info("gpu: process %d (%s) shares the home of GPU process %d: node %d (%s)", (int)now->pid, comm,
			 (int)now->via, now->node, gpu_source_name(now->source));
	else if (now->node >= 0 && !now->alone)
		log_info("gpu: process %d (%s) uses a GPU: home node %d (by %s)", (int)now->pid, comm, now->node,
			 gpu_source_name(now->source));
	else
		log_info("gpu: process %d (%s) uses GPUs (by %s), left alone: %s", (int)now->pid, comm,
			 gpu_source_name(now->source), now->alone ? now->alone : "no node");
}

/* Is cgroup @cg ("/a/b") at or below an active cgroup pin? */
static bool cgroup_pinned(struct placement *pl, const char *cg)
{
	for (size_t i = 0; i < pl->nr_pins; i++) {
		const struct pin *p = &pl->pins[i];
		size_t n = strlen(p->path);

		if (p->kind == PIN_CGROUP && p->active && !strncmp(cg, p->path, n) && (cg[n] == '/' || !cg[n]))
			return true;
	}
	return false;
}

/*
 * Scope cgroup: the cgroups of GPU processes with a home, each getting that
 * home when all of its GPU processes agree on it. The root cgroup holds
 * every task and never gets one; a cgroup a pin covers is the pin's.
 */
static void take_cgroups(struct placement *pl)
{
	struct gpu_cgroup next[AN_MAX_PINS];
	bool conflict[AN_MAX_PINS] = { false };
	size_t n = 0;

	for (size_t i = 0; pl->scope == GPU_SCOPE_CGROUP && i < pl->nr_procs; i++) {
		const struct gpu_proc *gp = &pl->procs[i];
		char cg[4096], err[256];
		size_t k;

		if (gp->via || gp->node < 0 || gp->alone || proc_cgroup(pl, gp->pid, cg, sizeof(cg)) < 0 ||
		    !strcmp(cg, "/") || !*cg || strlen(cg) >= PIN_PATH_MAX || cgroup_pinned(pl, cg))
			continue;
		for (k = 0; k < n && strcmp(next[k].path, cg); k++)
			;
		if (k < n) {
			conflict[k] |= next[k].node != gp->node;
			continue;
		}
		if (n == AN_MAX_PINS)
			continue;
		memcpy(next[n].path, cg, strlen(cg) + 1);
		next[n].node = gp->node;
		if (cgroup_id(pl, cg, &next[n].id, err, sizeof(err)) < 0)
			continue;	/* gone meanwhile */
		n++;
	}
	/* Several nodes in one cgroup: its processes keep their own homes, the cgroup gets none. */
	for (size_t k = 0; k < n;) {
		if (conflict[k]) {
			log_info("gpu: cgroup %s holds GPU processes of several nodes; no home for it", next[k].path);
			next[k] = next[--n];
			conflict[k] = conflict[n];
			continue;
		}
		k++;
	}
	for (size_t k = 0; k < n; k++) {
		bool had = false;

		for (size_t j = 0; j < pl->nr_gpu_cg; j++)
			had |= pl->gpu_cg[j].id == next[k].id && pl->gpu_cg[j].node == next[k].node;
		if (!had)
			log_info("gpu: cgroup %s shares its GPU processes' home: node %d", next[k].path, next[k].node);
	}
	memcpy(pl->gpu_cg, next, n * sizeof(*next));
	pl->nr_gpu_cg = n;
}

/* Unreadable open files with GPUs here: said once every DENIED_SAY_NS at most. */
#define DENIED_SAY_NS	(600ULL * 1000000000ULL)

static void say_denied(struct placement *pl)
{
	const struct scan_stats *st = gpuscan_stats(pl->scan);
	uint64_t now = mono_ns();

	if (!pl->gpus.nr || !st->last_denied)
		return;
	if (pl->denied_said_ns && now - pl->denied_said_ns < DENIED_SAY_NS)
		return;
	pl->denied_said_ns = now;
	log_warn("placement: the open files of %u processes could not be read (permission denied: the daemon needs "
		 "CAP_SYS_PTRACE for other users' processes); which GPUs they use is not known; said once every "
		 "10 minutes", st->last_denied);
}

/* A completed pass: associate the processes using GPUs now. */
static void take_pass(struct placement *pl)
{
	const struct scan_hit *hits;
	struct gpu_proc *next = NULL;
	struct assoc_in in = {
		.root = root_of(pl),
		.gpus = &pl->gpus,
		.nv = pl->nv_fixed ? pl->nv_fixed : nvsrc_snapshot(pl->nv),
		.kernel_sources = true,
		.scope = pl->scope,
		.cpu_node = pl->env.topo->cpu_node,
		.nr_cpus = pl->env.topo->nr_cpus,
		.aff_get = pl->env.aff_get,
	};
	ssize_t n;
	size_t i, j;

	say_denied(pl);
	in.nr_hits = gpuscan_hits(pl->scan, &hits);
	in.hits = hits;
	if (!pl->assoc)
		pl->assoc = assoc_new();
	n = pl->assoc ? assoc_run(pl->assoc, &in, &next) : -ENOMEM;
	if (n < 0) {
		log_warn("placement: out of memory associating GPU processes");
		return;
	}
	/* Both lists are in pid order: log what changed. */
	for (i = 0, j = 0; i < pl->nr_procs || j < (size_t)n; ) {
		if (j == (size_t)n || (i < pl->nr_procs && pl->procs[i].pid < next[j].pid)) {
			log_gpu_change(pl, &pl->procs[i++], NULL);
		} else if (i == pl->nr_procs || next[j].pid < pl->procs[i].pid) {
			log_gpu_change(pl, NULL, &next[j++]);
		} else {
			log_gpu_change(pl, &pl->procs[i++], &next[j++]);
		}
	}
	free(pl->procs);
	pl->procs = next;
	pl->nr_procs = (size_t)n;
	take_cgroups(pl);
}

static void discover(struct placement *pl)
{
	struct gpu_list *now = malloc(sizeof(*now));
	char err[512];

	pl->last_discover_ns = mono_ns();
	if (!now)
		return;
	if (gpu_discover(root_of(pl), now, err, sizeof(err)) < 0) {
		log_warn("%s", err);
		free(now);
		return;
	}
	if (!pl->started || !gpu_list_equal(now, &pl->gpus)) {
		for (int i = 0; i < now->nr; i++) {
			const struct gpu *g = &now->gpu[i];
			const char *vendor = gpu_vendor_name(g->vendor);

			log_info("gpu: %s %s [%04x:%04x] class %06x node %d%s%s%s%s", g->pci, vendor ? vendor : "vendor",
				 g->vendor, g->device, g->class, g->node, g->node < 0 ? " (unknown)" : "",
				 g->nr_dev ? ", " : ", no device node", g->nr_dev ? g->dev[0] : "",
				 g->nr_dev > 1 ? " ..." : "");
		}
		if (now->truncated)
			log_warn("gpu: more than %d GPUs; the rest are not looked after", GPU_MAX);
		if (pl->started)
			log_info("gpu: %d GPUs now", now->nr);
		/* GPU indices in a pass in progress would be stale. */
		if (pl->scan)
			gpuscan_restart(pl->scan);
		for (size_t i = 0; i < pl->nr_procs; i++)
			pl->procs[i].gpus = 0;
		pl->gpus = *now;
	}
	free(now);
}

static void set_tick(struct placement *pl, uint64_t ms)
{
	if (pl->timer_fd < 0 || pl->tick_ms == ms)
		return;
	if (loop_timer_set(pl->timer_fd, ms, ms) < 0)
		log_warn("placement: timerfd_settime: %s", strerror(errno));
	else
		pl->tick_ms = ms;
}

static void start_nvml(struct placement *pl)
{
	struct nvsrc_opts o = { .lib = pl->env.nvml_lib, .loop = pl->env.loop };

	if (pl->nv || (pl->env.nvml_lib && !*pl->env.nvml_lib))
		return;
	pl->nv = nvsrc_new(&o);
	if (!pl->nv)
		log_warn("placement: out of memory; the NVML source is off");
}

/* One step of the scan; returns 1 when a pass completed. */
static int scan_step(struct placement *pl)
{
	int ret;

	if (!pl->scan) {
		ret = gpuscan_new(root_of(pl), &pl->scan);
		if (ret)
			return ret;
	}
	if (!gpuscan_busy(pl->scan)) {
		pl->last_pass_ns = mono_ns();
		/* Collect NVML's last answer and ask again: it answers while the scan runs. */
		nvsrc_poll(pl->nv);
	}
	ret = gpuscan_step(pl->scan, &pl->gpus, &scan_budget);
	if (ret == 1)
		take_pass(pl);
	return ret;
}

int placement_scan_now(struct placement *pl)
{
	int ret;

	if (!pl)
		return -ENOMEM;
	if (!pl->started && !pl->gpus.nr)
		discover(pl);
	start_nvml(pl);
	nvsrc_sync(pl->nv, 3000);
	do
		ret = scan_step(pl);
	while (ret == 0);
	if (ret < 0)
		return ret;
	refresh_pins(pl);
	sync_maps(pl);
	return 0;
}

void placement_tick(struct placement *pl)
{
	uint64_t now = mono_ns();
	bool changed = false;
	int ret;

	if (!pl || !pl->started)
		return;
	if (now - pl->last_discover_ns >= DISCOVER_MS * 1000000ULL)
		discover(pl);
	/* Half a step of slack: a tick a little early still starts the pass that is due. */
	if (pl->gpus.nr && ((pl->scan && gpuscan_busy(pl->scan)) ||
			    now - pl->last_pass_ns + STEP_MS * 500000ULL >= PASS_MS * 1000000ULL)) {
		ret = scan_step(pl);
		if (ret < 0)
			log_warn("gpu scan: reading /proc: %s", strerror(-ret));
		changed = ret == 1;
	} else if (!pl->gpus.nr && pl->nr_procs) {
		/* The GPUs went away: so did every GPU home. */
		free(pl->procs);
		pl->procs = NULL;
		pl->nr_procs = 0;
		changed = true;
	}
	/* Rules are checked once a pass, or once a tick when there is nothing to scan. */
	if (changed || !pl->gpus.nr)
		changed |= refresh_pins(pl);
	if (changed)
		sync_maps(pl);
	set_tick(pl, !pl->gpus.nr ? IDLE_TICK_MS : gpuscan_busy(pl->scan) ? STEP_MS : PASS_MS);
}

static void on_tick(void *arg, uint32_t events)
{
	struct placement *pl = arg;

	(void)events;
	loop_timer_drain(pl->timer_fd);
	placement_tick(pl);
}

static void start(struct placement *pl)
{
	int fd;

	if (!pl || pl->started)
		return;
	discover(pl);
	start_nvml(pl);
	pl->started = true;
	/* Without a loop (tests) the caller drives the scan with placement_scan_now(). */
	/* The first tick soon: a GPU job started before the daemon gets its home at once. */
	fd = pl->env.loop ? loop_add_timer(pl->env.loop, STEP_MS, on_tick, pl) : -ENOTCONN;
	if (fd == -ENOTCONN) {
		/* nothing to do */
	} else if (fd < 0) {
		log_warn("placement: timer: %s; GPU homes are not looked after", strerror(-fd));
	} else {
		pl->timer_fd = fd;
		pl->tick_ms = STEP_MS;
	}
	/* The first pass starts at the first tick, in steps like every other. */
}

void placement_attached(struct placement *pl)
{
	if (!pl) {
		log_warn("placement: out of memory; GPU homes and pins are off");
		return;
	}
	/* A new BPF object: its maps are empty whatever we installed in the last one. */
	pl->nr_tgid = 0;
	pl->nr_cgroup = 0;
	if (!pl->started)
		start(pl);
	sync_maps(pl);
}

void placement_free(struct placement *pl)
{
	if (!pl)
		return;
	if (pl->timer_fd >= 0) {
		loop_del(pl->env.loop, pl->timer_fd);
		close(pl->timer_fd);
	}
	gpuscan_free(pl->scan);
	nvsrc_free(pl->nv);
	assoc_free(pl->assoc);
	free(pl->procs);
	free(pl->mem);
	free(pl->tgid);
	free(pl);
}

/* ---- queries -------------------------------------------------------------------------------- */

int placement_set_memory_homes(struct placement *pl, const struct mem_home *h, size_t n)
{
	struct mem_home *copy = NULL;

	if (!pl)
		return -ENOMEM;
	if (n == pl->nr_mem && (!n || !memcmp(h, pl->mem, n * sizeof(*h))))
		return 0;
	if (n) {
		copy = malloc(n * sizeof(*copy));
		if (!copy)
			return -ENOMEM;
		memcpy(copy, h, n * sizeof(*copy));
	}
	free(pl->mem);
	pl->mem = copy;
	pl->nr_mem = n;
	sync_maps(pl);
	return 0;
}

size_t placement_pins(struct placement *pl, const struct pin **out)
{
	/* Rules are checked on the timer; whoever asks in between sees what runs now. */
	for (size_t i = 0; pl && i < pl->nr_pins; i++)
		if (pl->pins[i].kind == PIN_PROCESS)
			pl->pins[i].active = !pin_proc_gone(pl, &pl->pins[i]);

	*out = pl ? pl->pins : NULL;
	return pl ? pl->nr_pins : 0;
}

size_t placement_gpu_procs(struct placement *pl, const struct gpu_proc **out)
{

	*out = pl ? pl->procs : NULL;
	return pl ? pl->nr_procs : 0;
}

void placement_inject_nvml(struct placement *pl, const struct nv_snapshot *snap)
{
	if (pl)
		pl->nv_fixed = snap;
}

void placement_set_scope(struct placement *pl, enum gpu_scope scope)
{
	if (!pl || pl->scope == scope)
		return;
	log_info("gpu: homes extend to: %s (from the next pass)", gpu_scope_name(scope));
	pl->scope = scope;
}

const struct gpu_list *placement_gpus(struct placement *pl)
{
	static const struct gpu_list none;

	return pl ? &pl->gpus : &none;
}

const char *placement_overridden_by(struct placement *pl, pid_t pid)
{
	char cg[4096];

	if (!pl)
		return NULL;
	if (find_pin(pl, PIN_PROCESS, pid, NULL))
		return "process";
	if (proc_cgroup(pl, pid, cg, sizeof(cg)) < 0)
		return NULL;
	return cgroup_pinned(pl, cg) ? "cgroup" : NULL;
}

void placement_get_info(struct placement *pl, struct placement_info *out)
{

	memset(out, 0, sizeof(*out));
	if (!pl)
		return;
	out->nr_gpus = pl->gpus.nr;
	out->nr_pins = pl->nr_pins;
	out->nr_gpu_procs = pl->nr_procs;
	out->scope = pl->scope;
	if (pl->nv)
		nvsrc_describe(pl->nv, out->nvml, sizeof(out->nvml));
	else
		snprintf(out->nvml, sizeof(out->nvml), "off: disabled");
	out->nr_tgid_homes = pl->nr_tgid;
	out->nr_cgroup_homes = pl->nr_cgroup;
	if (pl->scan)
		out->scan = *gpuscan_stats(pl->scan);
}
