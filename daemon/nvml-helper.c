// SPDX-License-Identifier: GPL-2.0
/*
 * The NVML helper (see nvml-helper.h). The declarations below are the few
 * parts of NVML's public C ABI this needs, written from its API reference:
 * every call returns an int (0: success, 7: the buffer is too small), a
 * device is an opaque pointer, and a compute process entry is a pid and the
 * bytes it holds (newer entries add two MIG instance ids). A MIG instance
 * is a device handle of its own under its GPU's, found by index; a UUID
 * fits in 96 bytes (NVML_DEVICE_UUID_V2_BUFFER_SIZE).
 *
 * Newer libraries export versioned symbols next to the old ones; the
 * newest present is used, so the helper works with drivers of any age.
 */
#include <dlfcn.h>
#include <stdbool.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nvml-helper.h"

#define NV_SUCCESS		0
#define NV_INSUFFICIENT_SIZE	7
#define NV_UUID_SIZE		96

typedef void *nv_device;

struct nv_pci {
	char bus_id_legacy[16];
	unsigned int domain, bus, device, pci_device_id, pci_subsystem_id;
	char bus_id[32];
};

struct nv_proc_v1 {
	unsigned int pid;
	unsigned long long used;
};

struct nv_proc_v2 {
	unsigned int pid;
	unsigned long long used;
	unsigned int gpu_instance, compute_instance;
};

struct nv_api {
	int (*init)(void);
	int (*count)(unsigned int *);
	int (*handle)(unsigned int, nv_device *);
	int (*pci)(nv_device, struct nv_pci *);
	int (*procs_v2)(nv_device, unsigned int *, struct nv_proc_v2 *);	/* _v3 or _v2 */
	int (*procs_v1)(nv_device, unsigned int *, struct nv_proc_v1 *);
	/* Optional: UUIDs, and a GPU's MIG instances (drivers before MIG lack them). */
	int (*uuid)(nv_device, char *, unsigned int);
	int (*mig_count)(nv_device, unsigned int *);
	int (*mig_handle)(nv_device, unsigned int, nv_device *);
};

struct out {
	char *buf;
	size_t len, cap;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	char line[NVML_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	if (o->len + (size_t)n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 4096;
		char *b;

		while (cap < o->len + (size_t)n + 1)
			cap *= 2;
		b = realloc(o->buf, cap);
		if (!b)
			return;
		o->buf = b;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, line, (size_t)n);
	o->len += (size_t)n;
	if (line[n - 1] != '\n')
		o->buf[o->len++] = '\n';
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void *dl_lookup(void *lib, const char *name)
{
	return dlsym(lib, name);
}

/* The first of @names the library exports. */
static void *sym(nvml_lookup_fn lookup, void *ctx, const char *const *names)
{
	for (; *names; names++) {
		void *p = lookup(ctx, *names);

		if (p)
			return p;
	}
	return NULL;
}

/*
 * Text from the library made safe for the daemon's parser: printable bytes
 * only; blanks only in a reason (the rest of its line), never in a bus id.
 */
static void token(const char *in, size_t max, char *out, size_t len, bool blanks)
{
	size_t i;

	for (i = 0; i + 1 < len && i < max && in[i]; i++)
		out[i] = ((in[i] > 0x20 || (blanks && in[i] == ' ')) && in[i] < 0x7f) ? in[i] : '?';
	out[i] = '\0';
	if (!i)
		snprintf(out, len, "-");
}

/* Entry @i of a process list in the layout @a reads. */
static void entry(const struct nv_api *a, const unsigned char *buf, unsigned int i, unsigned int *pid,
		  unsigned long long *used)
{
	if (a->procs_v2) {
		*pid = ((const struct nv_proc_v2 *)buf)[i].pid;
		*used = ((const struct nv_proc_v2 *)buf)[i].used;
	} else {
		*pid = ((const struct nv_proc_v1 *)buf)[i].pid;
		*used = ((const struct nv_proc_v1 *)buf)[i].used;
	}
}

static void query_procs(const struct nv_api *a, nv_device dev, unsigned int idx, struct out *o)
{
	unsigned long long used;
	unsigned int n = 0, cap = 64;
	int ret;

	for (;;) {
		size_t sz = a->procs_v2 ? sizeof(struct nv_proc_v2) : sizeof(struct nv_proc_v1);
		unsigned char *buf = calloc(cap, sz);

		if (!buf) {
			put(o, "bad %u out-of-memory", idx);
			return;
		}
		n = cap;
		ret = a->procs_v2 ? a->procs_v2(dev, &n, (struct nv_proc_v2 *)buf) :
				    a->procs_v1(dev, &n, (struct nv_proc_v1 *)buf);
		if (ret == NV_INSUFFICIENT_SIZE && n > cap && n <= NVML_PROCS_MAX) {
			/* More processes than room: ask again with room for them and a few new ones. */
			free(buf);
			cap = n + 16;
			continue;
		}
		if (ret != NV_SUCCESS) {
			free(buf);
			put(o, "bad %u error-%d", idx, ret);
			return;
		}
		if (n > cap) {
			free(buf);
			put(o, "bad %u count-%u", idx, n);
			return;
		}
		/*
		 * No kernel has a pid past INT_MAX, and the daemon refuses one as a
		 * broken answer: such an entry is a library that filled the list
		 * wrongly (another entry layout), so none of the GPU's is believed.
		 */
		for (unsigned int i = 0; i < n; i++) {
			unsigned int pid;

			entry(a, buf, i, &pid, &used);
			if (pid > INT_MAX) {
				free(buf);
				put(o, "bad %u pid-%u", idx, pid);
				return;
			}
		}
		for (unsigned int i = 0; i < n; i++) {
			unsigned int pid;

			entry(a, buf, i, &pid, &used);
			put(o, "proc %u %u %llu", idx, pid, used);
		}
		free(buf);
		return;
	}
}

/* "@what IDX UUID" for device @dev, when the library says. */
static void put_uuid(const struct nv_api *a, nv_device dev, const char *what, unsigned int idx, struct out *o)
{
	char raw[NV_UUID_SIZE], uuid[64];

	memset(raw, 0, sizeof(raw));
	if (!a->uuid || a->uuid(dev, raw, sizeof(raw)) != NV_SUCCESS)
		return;
	token(raw, sizeof(raw), uuid, sizeof(uuid), false);
	put(o, "%s %u %s", what, idx, uuid);
}

/* GPU @idx's MIG instances: CUDA_VISIBLE_DEVICES may name one by its UUID. */
static void query_migs(const struct nv_api *a, nv_device dev, unsigned int idx, struct out *o)
{
	unsigned int count = 0;

	/* Not supported (no MIG on this GPU or driver) is no MIG instance. */
	if (!a->mig_count || !a->mig_handle || a->mig_count(dev, &count) != NV_SUCCESS)
		return;
	for (unsigned int i = 0; i < count && i < NVML_MIGS_MAX; i++) {
		nv_device mig;

		/* An index without an instance (not created) answers an error. */
		if (a->mig_handle(dev, i, &mig) == NV_SUCCESS)
			put_uuid(a, mig, "mig", idx, o);
	}
}

static void query(const struct nv_api *a, struct out *o)
{
	unsigned int count = 0;
	int ret = a->count(&count);

	if (ret != NV_SUCCESS) {
		put(o, "fail device-count-error-%d", ret);
		return;
	}
	/* The daemon keeps at most 64 GPUs; a larger count is garbage it checks too. */
	for (unsigned int i = 0; i < count && i < 64; i++) {
		struct nv_pci pci;
		nv_device dev;
		char bus[40];

		memset(&pci, 0, sizeof(pci));
		if (a->handle(i, &dev) != NV_SUCCESS || a->pci(dev, &pci) != NV_SUCCESS) {
			put(o, "gpu %u -", i);
			put(o, "bad %u no-handle-or-pci-info", i);
			continue;
		}
		token(pci.bus_id, sizeof(pci.bus_id), bus, sizeof(bus), false);
		put(o, "gpu %u %s", i, bus);
		put_uuid(a, dev, "uuid", i, o);
		query_migs(a, dev, i, o);
		query_procs(a, dev, i, o);
	}
	put(o, "end");
}

/*
 * The library's entry points as @lookup finds them, initialised. Returns 0,
 * or -1 with the "fail" line in @o.
 */
static int bind(nvml_lookup_fn lookup, void *ctx, struct nv_api *a, struct out *o)
{
	static const char *const init[] = { "nvmlInit_v2", "nvmlInit", NULL };
	static const char *const count[] = { "nvmlDeviceGetCount_v2", "nvmlDeviceGetCount", NULL };
	static const char *const handle[] = { "nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex", NULL };
	static const char *const pci[] = { "nvmlDeviceGetPciInfo_v3", "nvmlDeviceGetPciInfo_v2",
					   "nvmlDeviceGetPciInfo", NULL };
	static const char *const procs_v2[] = { "nvmlDeviceGetComputeRunningProcesses_v3",
						"nvmlDeviceGetComputeRunningProcesses_v2", NULL };
	static const char *const procs_v1[] = { "nvmlDeviceGetComputeRunningProcesses", NULL };
	static const char *const uuid[] = { "nvmlDeviceGetUUID", NULL };
	static const char *const mig_count[] = { "nvmlDeviceGetMaxMigDeviceCount", NULL };
	static const char *const mig_handle[] = { "nvmlDeviceGetMigDeviceHandleByIndex", NULL };
	int ret;

	*a = (struct nv_api){ sym(lookup, ctx, init), sym(lookup, ctx, count), sym(lookup, ctx, handle),
			      sym(lookup, ctx, pci), sym(lookup, ctx, procs_v2), sym(lookup, ctx, procs_v1),
			      sym(lookup, ctx, uuid), sym(lookup, ctx, mig_count), sym(lookup, ctx, mig_handle) };
	if (!a->init || !a->count || !a->handle || !a->pci || (!a->procs_v2 && !a->procs_v1)) {
		put(o, "fail missing-symbols");
		return -1;
	}
	ret = a->init();
	if (ret != NV_SUCCESS) {
		put(o, "fail init-error-%d", ret);
		return -1;
	}
	return 0;
}

int nvml_helper_answer(nvml_lookup_fn lookup, void *ctx, char **buf, size_t *len)
{
	struct out o = { 0 };
	struct nv_api a;

	if (!bind(lookup, ctx, &a, &o))
		query(&a, &o);
	*buf = o.buf;
	*len = o.len;
	return o.buf ? 0 : -ENOMEM;
}

int nvml_helper_main(int fd, const char *lib)
{
	struct out o = { 0 };
	struct nv_api a;
	char why[NVML_LINE_MAX - 8];
	void *h;
	int ret;

	h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *e = dlerror();

		token(e ? e : "dlopen failed", sizeof(why), why, sizeof(why), true);
		put(&o, "nolib %s", why);
		goto out;
	}
	if (bind(dl_lookup, h, &a, &o) < 0)
		goto out;
	for (;;) {
		char req;
		ssize_t r = read(fd, &req, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		o.len = 0;
		query(&a, &o);
		if (send_all(fd, o.buf, o.len) < 0)
			break;
	}
	free(o.buf);
	return 0;
out:
	/* Answer the first request with why, then go. */
	while (read(fd, why, 1) < 0 && errno == EINTR)
		;
	ret = send_all(fd, o.buf, o.len);
	free(o.buf);
	return ret ? 1 : 0;
}
