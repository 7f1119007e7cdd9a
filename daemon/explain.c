// SPDX-License-Identifier: GPL-2.0
/*
 * The dry run (see explain.h). It drives the placement module exactly as
 * the daemon does, without a scheduler: placement keeps what it would
 * install and installs nothing while there is none.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "explain.h"
#include "placement.h"
#include "topology.h"

static void print_topology(FILE *f, const struct topology *t)
{
	fprintf(f, "topology: %d CPUs, %d nodes\n", t->nr_cpus, t->nr_nodes);
	for (int i = 0; i < t->nr_nodes && i < AN_MAX_NODE_ID; i++) {
		int n = 0;

		for (int c = 0; c < t->nr_cpus && c < AN_MAX_CPUS; c++)
			n += t->cpu_node[c] == t->nodes[i].id;
		fprintf(f, "  node %d: %d CPUs\n", t->nodes[i].id, n);
	}
}

static void print_gpus(FILE *f, const struct gpu_list *l)
{
	fprintf(f, "\n%d GPUs and accelerators\n", l->nr);
	for (int i = 0; i < l->nr; i++) {
		const struct gpu *g = &l->gpu[i];
		const char *v = gpu_vendor_name(g->vendor);

		fprintf(f, "  %s  %s [%04x:%04x]  node %d%s  %s%s%s\n", g->pci, v ? v : "vendor", g->vendor, g->device,
			g->node, g->node < 0 ? " (unknown)" : "", g->nr_dev ? g->dev[0] : "no device node",
			*g->uuid ? "  " : "", g->uuid);
	}
}

/* Why @gp gets what it gets, in words. */
static void reason(const struct gpu_proc *gp, enum gpu_scope scope, const char *by, char *buf, size_t len)
{
	static const char *const what[] = {
		[GSRC_NONE] = "no evidence",
		[GSRC_NVML] = "NVML lists it holding memory there",
		[GSRC_KFD] = "KFD shows its compute queues or VRAM there",
		[GSRC_FDINFO] = "its DRM client holds memory there or its engine time grew",
		[GSRC_ACCEL] = "it holds the accelerator open",
		[GSRC_ENVIRON] = "its device list (environment) names that GPU",
		[GSRC_FDSCAN] = "it holds the GPU's device node open",
	};
	const char *w = gp->source < sizeof(what) / sizeof(what[0]) ? what[gp->source] : "?";

	if (by)
		snprintf(buf, len, "a %s rule decides its node instead", by);
	else if (gp->alone && gp->node >= 0)
		snprintf(buf, len, "left alone: %s", gp->alone);
	else if (gp->alone || gp->node < 0)
		snprintf(buf, len, "left to the policy: %s", gp->alone ? gp->alone : "no node");
	else if (gp->via)
		snprintf(buf, len, "would share node %d with GPU process %d (scope %s)", gp->node, (int)gp->via,
			 gpu_scope_name(scope));
	else
		snprintf(buf, len, "would run on node %d: %s", gp->node, w);
}

int explain_run(FILE *f, const char *root, unsigned int scope, char *err, size_t errlen)
{
	struct sched *none = NULL;
	struct topology topo;
	struct placement *pl;
	struct placement_info pi;
	const struct gpu_list *gl;
	const struct gpu_proc *gp;
	size_t n;
	int ret;

	ret = topology_read(root, &topo, err, errlen);
	if (ret)
		return ret;
	pl = placement_new(&(struct placement_env){ .topo = &topo, .sched = &none, .root = root });
	if (!pl) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	placement_set_scope(pl, (enum gpu_scope)scope);
	ret = placement_scan_now(pl);
	if (ret) {
		snprintf(err, errlen, "the GPU scan: reading /proc: %s", strerror(-ret));
		placement_free(pl);
		return ret;
	}
	print_topology(f, &topo);
	gl = placement_gpus(pl);
	print_gpus(f, gl);
	placement_get_info(pl, &pi);
	fprintf(f, "\nsources: nvml %s; kfd, fdinfo, accel, environ and open device nodes on\nscope: %s\n", pi.nvml,
		gpu_scope_name(pi.scope));
	n = placement_gpu_procs(pl, &gp);
	fprintf(f, "\n%zu processes using GPUs or sharing their home\n", n);
	if (n)
		fprintf(f, "  %7s  %-16s %4s  %-7s  %-7s %s\n", "PID", "COMMAND", "NODE", "SOURCE", "VIA", "WHAT AND WHY");
	for (size_t i = 0; i < n; i++) {
		char comm[32], why[256], node[16], via[16];

		placement_comm(pl, gp[i].pid, comm, sizeof(comm));
		reason(&gp[i], pi.scope, placement_overridden_by(pl, gp[i].pid), why, sizeof(why));
		snprintf(node, sizeof(node), "-");
		snprintf(via, sizeof(via), "-");
		if (gp[i].node >= 0)
			snprintf(node, sizeof(node), "%d", gp[i].node);
		if (gp[i].via)
			snprintf(via, sizeof(via), "%d", (int)gp[i].via);
		fprintf(f, "  %7d  %-16s %4s  %-7s  %-7s %s", (int)gp[i].pid, comm, node,
			gpu_source_name(gp[i].source), via, why);
		for (int g = 0; g < gl->nr && g < GPU_MAX; g++)
			if (gp[i].gpus & (1ULL << g))
				fprintf(f, " %s", gl->gpu[g].pci);
		fputc('\n', f);
	}
	fprintf(f, "\nnothing was loaded or changed\n");
	placement_free(pl);
	return 0;
}
