// SPDX-License-Identifier: GPL-2.0
/*
 * A stand-in libnvidia-ml.so.1 for the tests: the few entry points of
 * NVML's public C ABI the daemon's helper calls, answering from a text file
 * the test writes and names in NVML_STUB_CONFIG, read again on every query
 * so a test can change the answer (or the mode) while the daemon runs:
 *
 *   mode ok|hang|crash|garbage|initfail
 *   gpu BUSID                  the next GPU, e.g. 00000000:21:00.0
 *   proc GPU PID BYTES         a compute process on GPU number GPU
 *   uuid GPU UUID              GPU number GPU's UUID (none: it has none to give)
 *   mig GPU UUID               a MIG instance on GPU number GPU
 *
 * Built twice: the current ABI (versioned symbols, MIG fields in process
 * entries, MIG instances) and, with STUB_LEGACY, the oldest (plain
 * symbols, short entries, no MIG calls), so the helper's fallbacks are
 * proved against the layout it reads and the calls it may not find. MIG
 * instances sit at every other index of a GPU's seven, as on a GPU where
 * some were destroyed: the indices between answer "not found".
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OK		0
#define E_INVALID	2
#define E_NOT_FOUND	6
#define E_SIZE		7
#define E_NO_DRIVER	9

#define MAX_GPUS	8
#define MAX_PROCS	64
#define MIG_SLOTS	7	/* MIG instances a GPU may have, as an A100's or H100's */

struct pci {
	char legacy[16];
	unsigned int domain, bus, device, id, subsys;
	char bus_id[32];
};

struct proc_v1 {
	unsigned int pid;
	unsigned long long used;
};

struct proc_v2 {
	unsigned int pid;
	unsigned long long used;
	unsigned int gi, ci;
};

static struct {
	char mode[16];
	int nr_gpus;
	char bus[MAX_GPUS][32];
	int nr_procs;
	struct { int gpu; unsigned int pid; unsigned long long bytes; } proc[MAX_PROCS];
	char uuid[MAX_GPUS][96];
	int nr_migs[MAX_GPUS];
	char mig[MAX_GPUS][MIG_SLOTS][96];
} cfg;

/* Device handles: GPU i is &gpu_ids[i], its MIG instance at slot j is &mig_ids[i * MIG_SLOTS + j]. */
static int gpu_ids[MAX_GPUS];
static int mig_ids[MAX_GPUS * MIG_SLOTS];

static void load(void)
{
	const char *path = getenv("NVML_STUB_CONFIG");
	char line[256];
	FILE *f;

	memset(&cfg, 0, sizeof(cfg));
	strcpy(cfg.mode, "ok");
	f = path ? fopen(path, "r") : NULL;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char word[16], arg[32], id[96];
		unsigned long long b;
		unsigned int pid;
		int g;

		if (sscanf(line, "mode %15s", word) == 1)
			strcpy(cfg.mode, word);
		else if (sscanf(line, "gpu %31s", arg) == 1 && cfg.nr_gpus < MAX_GPUS)
			snprintf(cfg.bus[cfg.nr_gpus++], sizeof(cfg.bus[0]), "%s", arg);
		else if (sscanf(line, "proc %d %u %llu", &g, &pid, &b) == 3 && cfg.nr_procs < MAX_PROCS) {
			cfg.proc[cfg.nr_procs].gpu = g;
			cfg.proc[cfg.nr_procs].pid = pid;
			cfg.proc[cfg.nr_procs++].bytes = b;
		} else if (sscanf(line, "uuid %d %95s", &g, id) == 2 && g >= 0 && g < MAX_GPUS) {
			snprintf(cfg.uuid[g], sizeof(cfg.uuid[g]), "%s", id);
		} else if (sscanf(line, "mig %d %95s", &g, id) == 2 && g >= 0 && g < MAX_GPUS &&
			   cfg.nr_migs[g] * 2 < MIG_SLOTS) {
			snprintf(cfg.mig[g][cfg.nr_migs[g] * 2], sizeof(cfg.mig[g][0]), "%s", id);
			cfg.nr_migs[g]++;
		}
	}
	fclose(f);
}

static int init(void)
{
	load();
	return strcmp(cfg.mode, "initfail") ? OK : E_NO_DRIVER;
}

static int count(unsigned int *n)
{
	load();
	*n = (unsigned int)cfg.nr_gpus;
	return OK;
}

static int handle(unsigned int i, void **dev)
{
	if (i >= (unsigned int)cfg.nr_gpus)
		return E_INVALID;
	gpu_ids[i] = (int)i;
	*dev = &gpu_ids[i];
	return OK;
}

static int pci(void *dev, struct pci *p)
{
	int i = *(int *)dev;

	memset(p, 0, sizeof(*p));
	snprintf(p->bus_id, sizeof(p->bus_id), "%s", cfg.bus[i]);
	return OK;
}

static int uuid(void *dev, char *out, unsigned int len)
{
	uintptr_t off = (uintptr_t)dev - (uintptr_t)mig_ids;
	const char *u;

	if ((uintptr_t)dev >= (uintptr_t)mig_ids && off < sizeof(mig_ids))
		u = cfg.mig[off / sizeof(int) / MIG_SLOTS][off / sizeof(int) % MIG_SLOTS];
	else
		u = cfg.uuid[*(int *)dev];
	if (!*u)
		return E_NOT_FOUND;
	if (strlen(u) >= len)
		return E_SIZE;
	snprintf(out, len, "%s", u);
	return OK;
}

#ifndef STUB_LEGACY
/* In mode garbage, a count no GPU has: the helper must look at no more than its cap. */
static int mig_count(void *dev, unsigned int *n)
{
	int g = *(int *)dev;

	*n = cfg.nr_migs[g] ? MIG_SLOTS : 0;
	if (!strcmp(cfg.mode, "garbage") && cfg.nr_migs[g])
		*n = 1000000;
	return OK;
}

static int mig_handle(void *dev, unsigned int i, void **mig)
{
	int g = *(int *)dev;

	if (i >= MIG_SLOTS)
		return E_INVALID;
	if (!cfg.mig[g][i][0])
		return E_NOT_FOUND;
	*mig = &mig_ids[g * MIG_SLOTS + (int)i];
	return OK;
}
#endif

/* Fill @out (entries of @size bytes) the way NVML does: the count first, then the entries if they fit. */
static int procs(void *dev, unsigned int *n, void *out, size_t size)
{
	int g = *(int *)dev;
	unsigned int have = 0, room = *n;

	if (!strcmp(cfg.mode, "hang"))
		for (;;)
			pause();
	if (!strcmp(cfg.mode, "crash")) {
		/*
		 * Die of SIGSEGV as a crashing library would, past any handler a
		 * sanitizer installed: its report would read as a failure of the
		 * test that provokes the crash on purpose.
		 */
		signal(SIGSEGV, SIG_DFL);
		raise(SIGSEGV);
	}
	if (!strcmp(cfg.mode, "garbage")) {
		*n = 1000000;
		return OK;
	}
	for (int i = 0; i < cfg.nr_procs; i++)
		have += cfg.proc[i].gpu == g;
	*n = have;
	if (have > room)
		return E_SIZE;
	for (int i = 0, k = 0; i < cfg.nr_procs; i++) {
		unsigned char *e = (unsigned char *)out + (size_t)k * size;

		if (cfg.proc[i].gpu != g)
			continue;
		memset(e, 0xa5, size);	/* the MIG fields: whatever the helper must not read as anything */
		((struct proc_v1 *)e)->pid = cfg.proc[i].pid;
		((struct proc_v1 *)e)->used = cfg.proc[i].bytes;
		k++;
	}
	return OK;
}

int nvmlDeviceGetUUID(void *d, char *out, unsigned int len) { return uuid(d, out, len); }
#ifdef STUB_LEGACY
int nvmlInit(void) { return init(); }
int nvmlDeviceGetCount(unsigned int *n) { return count(n); }
int nvmlDeviceGetHandleByIndex(unsigned int i, void **d) { return handle(i, d); }
int nvmlDeviceGetPciInfo(void *d, struct pci *p) { return pci(d, p); }
int nvmlDeviceGetComputeRunningProcesses(void *d, unsigned int *n, struct proc_v1 *o)
{
	return procs(d, n, o, sizeof(*o));
}
#else
int nvmlInit_v2(void) { return init(); }
int nvmlDeviceGetCount_v2(unsigned int *n) { return count(n); }
int nvmlDeviceGetHandleByIndex_v2(unsigned int i, void **d) { return handle(i, d); }
int nvmlDeviceGetPciInfo_v3(void *d, struct pci *p) { return pci(d, p); }
int nvmlDeviceGetComputeRunningProcesses_v3(void *d, unsigned int *n, struct proc_v2 *o)
{
	return procs(d, n, o, sizeof(*o));
}
int nvmlDeviceGetMaxMigDeviceCount(void *d, unsigned int *n) { return mig_count(d, n); }
int nvmlDeviceGetMigDeviceHandleByIndex(void *d, unsigned int i, void **m) { return mig_handle(d, i, m); }
#endif
int nvmlShutdown(void) { return OK; }
