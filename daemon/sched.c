// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "fileio.h"
#include "kcompat.h"
#include "log.h"
#include "sched.h"
#include "tunables.h"
#ifdef AN_FAULT_INJECTION
#include "scx_ai_numa-faults.skel.h"
#else
#include "scx_ai_numa.skel.h"
#endif

struct sched {
	struct scx_ai_numa *skel;
	struct bpf_link *link;
	int nr_cpus;		/* libbpf's possible CPUs, per-CPU map stride */
};

/*
 * libbpf prints the verifier log through its print callback on a failed
 * load. Keep the tail of everything it says so a load failure can show the
 * lines that matter instead of pages of instructions.
 */
static char libbpf_tail[16384];
static size_t libbpf_tail_len;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	static char line[16384];
	char *big = NULL;
	va_list aq;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n <= 0) {
		va_end(aq);
		return 0;
	}
	if ((size_t)n >= sizeof(line)) {
		big = malloc((size_t)n + 1);
		if (big && vsnprintf(big, (size_t)n + 1, fmt, aq) == n)
			memcpy(line, big + n - (sizeof(line) - 1), sizeof(line) - 1);
		free(big);
		n = sizeof(line) - 1;
		line[n] = '\0';
	}
	va_end(aq);
	if (libbpf_tail_len + n >= sizeof(libbpf_tail)) {
		size_t drop = libbpf_tail_len + n - sizeof(libbpf_tail) + 1;

		memmove(libbpf_tail, libbpf_tail + drop, libbpf_tail_len - drop);
		libbpf_tail_len -= drop;
	}
	memcpy(libbpf_tail + libbpf_tail_len, line, n);
	libbpf_tail_len += n;
	libbpf_tail[libbpf_tail_len] = '\0';
	if (level == LIBBPF_DEBUG)
		log_debug("libbpf: %.*s", n && line[n - 1] == '\n' ? n - 1 : n, line);
	return 0;
}

/*
 * The lines worth showing from what libbpf said: the verifier's complaint
 * stands just above its "processed N insns" trailer; without a verifier
 * log, the last lines libbpf printed. Joined by " | " into one log line.
 */
static void libbpf_tail_lines(char *out, size_t len, int lines)
{
	const char *end = libbpf_tail + libbpf_tail_len, *p, *mark;
	size_t o = 0;
	int seen = 0;

	mark = NULL;
	for (p = libbpf_tail; (p = strstr(p, "\nprocessed ")); p++)
		mark = p;
	if (mark)
		end = mark;
	for (p = end; p > libbpf_tail && seen < lines; ) {
		p--;
		/* Count only non-empty lines. */
		if (*p == '\n' && p + 1 < end && p[1] != '\n')
			seen++;
	}
	if (*p == '\n')
		p++;
	for (; p < end && *p && o + 4 < len; p++) {
		if (*p != '\n')
			out[o++] = *p;
		else if (o && p + 1 < end && p[1] != '\n')
			o += snprintf(out + o, len - o, " | ");
	}
	out[o < len ? o : len - 1] = '\0';
}

/*
 * How much of the verifier's budget each program used (it gives up at one
 * million instructions processed per program, and the count grows with the
 * machine's shape: nodes, CPUs), for the debug log: a change that brings a
 * program near the limit shows here before a bigger machine fails to load.
 */
static void log_verified_insns(struct bpf_object *obj)
{
	struct bpf_program *prog;
	unsigned long total = 0;
	char line[2048];
	size_t o = 0;

	line[0] = '\0';
	bpf_object__for_each_program(prog, obj) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(prog), n;

		memset(&info, 0, sizeof(info));
		if (fd < 0 || bpf_prog_get_info_by_fd(fd, &info, &len))
			continue;
		total += info.verified_insns;
		n = snprintf(line + o, sizeof(line) - o, " %s=%u", bpf_program__name(prog), info.verified_insns);
		if (n > 0 && (size_t)n < sizeof(line) - o)
			o += n;
	}
	log_debug("sched_attach: verifier processed %lu insns:%s", total, line);
}

int sched_preflight(const char *root, char *err, size_t errlen)
{
	char path[4096], state[64], ops[128];

	if (geteuid() != 0) {
		snprintf(err, errlen, "must run as root (loading a sched_ext scheduler needs CAP_SYS_ADMIN and CAP_BPF)");
		return -EPERM;
	}
	snprintf(path, sizeof(path), "%s/sys/kernel/sched_ext", root);
	if (access(path, F_OK) < 0) {
		snprintf(err, errlen,
			 "this kernel has no sched_ext (%s missing; needs Linux >= 6.12 with CONFIG_SCHED_CLASS_EXT=y); "
			 "the kernel's default scheduler stays in charge", path);
		return -EOPNOTSUPP;
	}
	snprintf(path, sizeof(path), "%s/sys/kernel/sched_ext/state", root);
	if (read_small_file(path, state, sizeof(state), true) < 0) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		return -EIO;
	}
	if (strcmp(state, "disabled")) {
		snprintf(path, sizeof(path), "%s/sys/kernel/sched_ext/root/ops", root);
		if (read_small_file(path, ops, sizeof(ops), true) < 0)
			snprintf(ops, sizeof(ops), "unknown");
		snprintf(err, errlen, "another sched_ext scheduler is active (%s, state %s); not touching it",
			 ops, state);
		return -EBUSY;
	}
	return 0;
}

uint64_t sched_hotplug_seq(const char *root)
{
	char path[4096], buf[32];

	snprintf(path, sizeof(path), "%s/sys/kernel/sched_ext/hotplug_seq", root);
	if (read_small_file(path, buf, sizeof(buf), true) < 0)
		return 0;
	return strtoull(buf, NULL, 10);
}

/*
 * What this kernel offers the scheduler (kcompat.h), from its BTF. The
 * answer cannot change while we run: chosen once for each idle setting.
 */
static int kernel_compat(bool want_idle_per_node, struct kcompat *out, char *err, size_t errlen)
{
	static struct kcompat chosen[2];
	static bool known[2];
	struct btf *btf;
	int ret;

	if (known[want_idle_per_node]) {
		*out = chosen[want_idle_per_node];
		return 0;
	}
	btf = btf__load_vmlinux_btf();
	if (!btf) {
		ret = -errno ? -errno : -ENOENT;
		snprintf(err, errlen, "sched_attach: kernel BTF (sched_ext needs CONFIG_DEBUG_INFO_BTF): %s",
			 strerror(-ret));
		return ret;
	}
	ret = kcompat_choose(btf, want_idle_per_node, out, err, errlen);
	btf__free(btf);
	if (ret)
		return ret;
	chosen[want_idle_per_node] = *out;
	known[want_idle_per_node] = true;
	return 0;
}

int sched_attach(const struct an_topo *topo, const struct an_tunables *tun, const struct sched_opts *o,
		 struct sched **out, char *err, size_t errlen)
{
	struct sched *s;
	struct kcompat kc;
	char tail[1400];
	int ret;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	libbpf_set_print(libbpf_print);
	libbpf_tail_len = 0;
	libbpf_tail[0] = '\0';

	s->nr_cpus = libbpf_num_possible_cpus();
	if (s->nr_cpus <= 0) {
		ret = s->nr_cpus ? s->nr_cpus : -EINVAL;
		snprintf(err, errlen, "sched_attach: possible CPUs: %s", strerror(-ret));
		goto fail;
	}
	s->skel = scx_ai_numa__open();
	if (!s->skel) {
		ret = -errno ? -errno : -EINVAL;
		snprintf(err, errlen, "sched_attach: open BPF object: %s", strerror(-ret));
		goto fail;
	}
	memcpy((void *)&s->skel->rodata->setup.topo, topo, sizeof(*topo));
	memcpy((void *)s->skel->rodata->setup.near_nodes, o->near_nodes, sizeof(o->near_nodes));
	s->skel->data->tun = *tun;
	s->skel->struct_ops.ai_numa_ops->hotplug_seq = o->hotplug_seq;
#ifdef AN_FAULT_INJECTION
	/* The test daemon only (meson -Dfault_injection): fail on request. */
	if (getenv("SCX_AI_NUMA_DEBUG_INJECT_ERROR")) {
		log_warn("sched_attach: SCX_AI_NUMA_DEBUG_INJECT_ERROR set: the scheduler will raise an error");
		s->skel->bss->shared.inject_error = 1;
	}
#endif
	if (o->hotplug_restart) {
		/* Without the callbacks the kernel handles hotplug by ejecting us. */
		s->skel->struct_ops.ai_numa_ops->cpu_online = NULL;
		s->skel->struct_ops.ai_numa_ops->cpu_offline = NULL;
		bpf_program__set_autoload(s->skel->progs.an_cpu_online, false);
		bpf_program__set_autoload(s->skel->progs.an_cpu_offline, false);
	}
	ret = kernel_compat(!o->global_idle, &kc, err, errlen);
	if (ret)
		goto fail;
	/* The kernel's numbers, not the ones the program was compiled with. */
	s->skel->struct_ops.ai_numa_ops->flags = kc.ops_flags;
	s->skel->rodata->setup.enq_head = kc.enq_head;
	s->skel->rodata->setup.idle_per_node = kc.idle_per_node;
	log_debug("sched_attach: kernel API: %s", kcompat_describe(&kc, tail, sizeof(tail)));

	ret = scx_ai_numa__load(s->skel);
	if (ret) {
		libbpf_tail_lines(tail, sizeof(tail), 12);
		snprintf(err, errlen, "sched_attach: BPF load/verify failed: %s: %s", strerror(-ret), tail);
		goto fail;
	}
	log_verified_insns(s->skel->obj);
	s->link = bpf_map__attach_struct_ops(s->skel->maps.ai_numa_ops);
	if (!s->link) {
		ret = -errno;
		if (ret == -EBUSY || ret == -EEXIST)
			snprintf(err, errlen, "sched_attach: another sched_ext scheduler is already attached");
		else
			snprintf(err, errlen, "sched_attach: attach struct_ops: %s", strerror(-ret));
		goto fail;
	}
	*out = s;
	return 0;
fail:
	sched_destroy(s);
	return ret ? ret : -EINVAL;
}

void sched_destroy(struct sched *s)
{
	if (!s)
		return;
	bpf_link__destroy(s->link);
	scx_ai_numa__destroy(s->skel);
	free(s);
}

bool sched_idle_per_node(const struct sched *s)
{
	return s && s->skel && s->skel->rodata->setup.idle_per_node;
}

int sched_exit_fd(const struct sched *s)
{
	return s && s->link ? bpf_link__fd(s->link) : -1;
}

bool sched_exited(const struct sched *s, struct an_exit_info *out)
{
	const volatile struct an_exit_info *ei = &s->skel->bss->shared.exit_info;

	if (!ei->kind)
		return false;
	if (!out)
		return true;
	__sync_synchronize();
	memcpy(out, (const void *)ei, sizeof(*out));
	out->reason[sizeof(out->reason) - 1] = '\0';
	out->msg[sizeof(out->msg) - 1] = '\0';
	out->dump[sizeof(out->dump) - 1] = '\0';
	return true;
}

void sched_apply_tunables(struct sched *s, const struct an_tunables *tun)
{
	struct an_tunables *live = (struct an_tunables *)&s->skel->data->tun;

	/* Field by field, from the table: the BPF side reads each on its own. */
	for (size_t i = 0; i < nr_tunables; i++)
		tunable_store(live, &tunables[i], tunable_get(tun, &tunables[i]));
}

int sched_read_counters(const struct sched *s, struct an_node_stats *out, uint32_t nr_nodes)
{
	struct an_node_stats *per_cpu;
	int fd = bpf_map__fd(s->skel->maps.node_stats);

	per_cpu = calloc(s->nr_cpus, sizeof(*per_cpu));
	if (!per_cpu)
		return -ENOMEM;
	for (uint32_t n = 0; n < nr_nodes && n < AN_MAX_NODES; n++) {
		memset(&out[n], 0, sizeof(out[n]));
		if (bpf_map_lookup_elem(fd, &n, per_cpu)) {
			int err = -errno;

			free(per_cpu);
			return err;
		}
		for (int c = 0; c < s->nr_cpus; c++) {
			for (int i = 0; i < AN_NR_STATS; i++)
				out[n].cnt[i] += per_cpu[c].cnt[i];
			for (int b = 0; b < AN_WAIT_BUCKETS; b++) {
				out[n].wait_hist[b] += per_cpu[c].wait_hist[b];
				out[n].lat_wake_hist[b] += per_cpu[c].lat_wake_hist[b];
			}
		}
	}
	free(per_cpu);
	return 0;
}

void sched_read_queued(const struct sched *s, uint32_t *out, uint32_t nr_nodes)
{
	for (uint32_t n = 0; n < nr_nodes && n < AN_MAX_NODES; n++)
		out[n] = s->skel->bss->shared.node_queued[n];
}

static int map_result(int ret)
{
	/* libbpf returns -errno; a missing entry on delete is what was wanted. */
	return ret == -ENOENT ? 0 : ret;
}

int sched_set_tgid_home(struct sched *s, uint32_t tgid, uint32_t dense_node, bool pinned)
{
	struct an_home h = { .node = dense_node, .src = pinned ? AN_HOME_PIN : AN_HOME_GPU };

	return bpf_map__update_elem(s->skel->maps.tgid_homes, &tgid, sizeof(tgid), &h, sizeof(h), BPF_ANY);
}

int sched_clear_tgid_home(struct sched *s, uint32_t tgid)
{
	return map_result(bpf_map__delete_elem(s->skel->maps.tgid_homes, &tgid, sizeof(tgid), 0));
}

int sched_set_cgroup_home(struct sched *s, uint64_t cgroup_id, uint32_t dense_node)
{
	struct an_home h = { .node = dense_node, .src = AN_HOME_PIN };

	return bpf_map__update_elem(s->skel->maps.cgroup_homes, &cgroup_id, sizeof(cgroup_id), &h, sizeof(h),
				    BPF_ANY);
}

int sched_clear_cgroup_home(struct sched *s, uint64_t cgroup_id)
{
	return map_result(bpf_map__delete_elem(s->skel->maps.cgroup_homes, &cgroup_id, sizeof(cgroup_id), 0));
}

size_t sched_balanced_homes(const struct sched *s, pid_t *pid, int *node, size_t max)
{
	struct bpf_map *map = s->skel->maps.bal_homes;
	uint32_t key, next, *prev = NULL;
	struct an_home h;
	size_t n = 0;

	while (n < max && !bpf_map__get_next_key(map, prev, &next, sizeof(next))) {
		key = next;
		prev = &key;
		if (bpf_map__lookup_elem(map, &key, sizeof(key), &h, sizeof(h), 0) || h.node >= AN_MAX_NODES ||
		    h.node >= s->skel->rodata->setup.topo.nr_nodes)
			continue;
		pid[n] = (pid_t)key;
		node[n++] = (int)s->skel->rodata->setup.topo.node_id[h.node];
	}
	return n;
}

uint64_t sched_cpumask_changes(const struct sched *s)
{
	/* The scheduler adds to it on any CPU at any time. */
	const volatile struct an_shared *sh = &s->skel->bss->shared;

	return sh->cpumask_changes;
}

void sched_set_home_counts(struct sched *s, uint32_t nr_tgid, uint32_t nr_cgroup)
{
	s->skel->bss->shared.nr_tgid_homes = nr_tgid;
	s->skel->bss->shared.nr_cgroup_homes = nr_cgroup;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int sched_proc_run_sync(struct sched *s, const uint32_t *tgids, size_t n)
{
	int fd = bpf_map__fd(s->skel->maps.proc_run), ret = 0, held = 0;
	uint32_t key, next, *prev = NULL;
	struct an_proc_run *zero;

	/* Drop the processes no longer placed; a deleted key is not a place to continue from. */
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		if (bsearch(&next, tgids, n, sizeof(*tgids), cmp_u32)) {
			key = next;
			prev = &key;
			continue;
		}
		if (bpf_map_delete_elem(fd, &next) && errno != ENOENT) {
			ret = -errno;
			break;
		}
	}
	zero = calloc(s->nr_cpus, sizeof(*zero));
	if (!zero)
		ret = -ENOMEM;
	for (size_t i = 0; !ret && i < n; i++) {
		if (!bpf_map_update_elem(fd, &tgids[i], zero, BPF_NOEXIST) || errno == EEXIST)
			held++;
		else if (errno != E2BIG)
			ret = -errno;
		else
			break;
	}
	free(zero);
	s->skel->bss->shared.nr_proc_run = (uint32_t)held;
	return ret ? ret : held;
}

int sched_proc_run_read(const struct sched *s, uint32_t tgid, struct an_proc_run *out)
{
	struct an_proc_run *per_cpu = calloc(s->nr_cpus, sizeof(*per_cpu));
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (!per_cpu)
		return -ENOMEM;
	if (bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.proc_run), &tgid, per_cpu))
		ret = -errno;
	for (int c = 0; !ret && c < s->nr_cpus; c++) {
		out->home_ns += per_cpu[c].home_ns;
		out->away_ns += per_cpu[c].away_ns;
	}
	free(per_cpu);
	return ret;
}
