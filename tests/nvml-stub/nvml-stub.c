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
 *
 * Built twice: the current ABI (versioned symbols, MIG fields in process
 * entries) and, with STUB_LEGACY, the oldest (plain symbols, short entries),
 * so the helper's fallback is proved against the layout it reads.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OK		0
#define E_INVALID	2
#define E_SIZE		7
#define E_NO_DRIVER	9

#define MAX_GPUS	8
#define MAX_PROCS	64

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
} cfg;

static int gpu_ids[MAX_GPUS];

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
		char word[16], arg[32];
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
#endif
int nvmlShutdown(void) { return OK; }
