// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target for the NVML source: both untrusted inputs of the daemon's
 * NVIDIA side, the vendor library's answers and the helper's messages.
 *
 * Byte 0, bit 0 picks the side:
 *
 *  0: the rest is what the helper sent back (daemon/nvml.c
 *     nvml_answer_complete, nvml_answer_decode: the daemon's own code, the
 *     socket aside), decoded over a good answer taken before. Promises: a
 *     decoded snapshot has at most GPU_MAX GPUs, NV_MIG_MAX MIG instances
 *     and NVML_PROCS_MAX processes per GPU; every GPU index in it names a
 *     GPU of the answer, processes in GPU order, none with pid 0 or 0
 *     bytes; every string terminated inside its array, a PCI address ""
 *     or a canonical sysfs name, a UUID "" or one nvml_uuid_ok takes with
 *     the right prefix; "bad" lines count GPUs of the answer; nothing
 *     follows the end line and no NUL byte is taken; the reason or line
 *     said in the log is printable. A refused answer leaves the snapshot
 *     before it exactly as it was (nothing half-applied).
 *
 *  1: the rest drives a stand-in NVML, the few calls the helper makes
 *     (daemon/nvml-helper.c nvml_helper_answer): byte 1 says which entry
 *     points exist and whether init fails; then each call takes what it
 *     answers from the bytes in call order (see the stand-ins below):
 *     counts, return codes, raw PCI bus ids and UUIDs that may be
 *     unterminated garbage (up to the next 0x1e byte), process entries
 *     (4-byte pid, 8-byte size, little-endian). Promises: every line of
 *     the helper's answer fits NVML_LINE_MAX, and the daemon takes the
 *     answer as a whole (a snapshot, or "fail" when the library does not
 *     start): whatever the library says, the helper never sends what the
 *     daemon refuses as garbage, which would cost the helper its life and
 *     the source its answers; the daemon-side promises above hold for it,
 *     with one GPU per device the library counts, at most GPU_MAX.
 *
 * Built as a plain function it replays the checked-in corpus (replay.c);
 * tests/fuzz/run.sh builds and runs it as a libFuzzer binary (README.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-util.h"
#include "nvml-helper.h"
#include "nvml.h"

/* A good answer the fuzzed one comes after: what a refusal must leave alone. */
static const char before_text[] =
	"gpu 0 00000000:21:00.0\n"
	"uuid 0 GPU-5c1a4b2e-0f3d-4e6a-9b7c-1d2e3f405162\n"
	"mig 0 MIG-7e8f9a0b-1c2d-5e4f-8a9b-0c1d2e3f4a5b\n"
	"proc 0 4242 1073741824\n"
	"gpu 1 00000000:C1:00.0\n"
	"proc 1 4243 2147483648\n"
	"end\n";

static char last_why[128];	/* the decoder's reason, for reports */

static struct {
	const uint8_t *p;
	size_t len;
	const uint8_t *in;	/* the whole input, for reports */
	size_t in_len;
} feed;

__attribute__((noreturn))
static void broken(const char *what)
{
	fuzz_broken(feed.in, feed.in_len, "%s", what);
}

static bool terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

/* Is @s "" or a name nvml_bus_to_sysfs makes, which it maps to itself? */
static bool pci_ok(const char *s)
{
	char again[GPU_PCI_LEN];

	return !*s || (!nvml_bus_to_sysfs(s, again, sizeof(again)) && !strcmp(again, s));
}

/* The daemon-side promises for a snapshot it took. */
static void check_snapshot(const struct nv_snapshot *s, unsigned int nbad)
{
	int per_gpu = 0;

	if (s->nr_gpus < 0 || s->nr_gpus > GPU_MAX)
		broken("a GPU count out of range");
	if (nbad > (unsigned int)s->nr_gpus)
		broken("more GPUs unreadable than GPUs in the answer");
	for (int i = 0; i < s->nr_gpus; i++) {
		if (!terminated(s->pci[i], sizeof(s->pci[i])) || !pci_ok(s->pci[i]))
			broken("a PCI address unterminated or not a sysfs name");
		if (!terminated(s->uuid[i], sizeof(s->uuid[i])) ||
		    (s->uuid[i][0] && (!nvml_uuid_ok(s->uuid[i]) || strncmp(s->uuid[i], "GPU-", 4))))
			broken("a GPU UUID unterminated or malformed");
	}
	if (s->nr_migs < 0 || s->nr_migs > NV_MIG_MAX)
		broken("a MIG count out of range");
	for (int i = 0; i < s->nr_migs; i++) {
		if (s->mig[i].gpu < 0 || s->mig[i].gpu >= s->nr_gpus)
			broken("a MIG instance on a GPU not in the answer");
		if (!terminated(s->mig[i].uuid, sizeof(s->mig[i].uuid)) || !nvml_uuid_ok(s->mig[i].uuid) ||
		    strncmp(s->mig[i].uuid, "MIG-", 4))
			broken("a MIG UUID unterminated or malformed");
	}
	if (s->nr_uses > s->use_cap)
		broken("more processes than room");
	for (size_t i = 0; i < s->nr_uses; i++) {
		const struct nv_use *u = &s->use[i];

		if (u->gpu < 0 || u->gpu >= s->nr_gpus)
			broken("a process on a GPU not in the answer");
		if (i && u->gpu < s->use[i - 1].gpu)
			broken("processes out of GPU order");
		per_gpu = i && u->gpu == s->use[i - 1].gpu ? per_gpu + 1 : 1;
		if (per_gpu > NVML_PROCS_MAX)
			broken("more processes on a GPU than the protocol allows");
		if (u->pid <= 0 || !u->bytes)
			broken("a process with pid 0 or 0 bytes kept");
	}
}

/* Does anything follow the first line that reads "end" (blanks aside), or is there a NUL? */
static bool trailing(const char *buf, size_t len)
{
	if (memchr(buf, '\0', len))
		return true;
	for (size_t off = 0; off < len; ) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (buf + off)) : len - off;
		size_t a = 0, b = n;

		while (a < b && buf[off + a] == ' ')
			a++;
		while (b > a && buf[off + b - 1] == ' ')
			b--;
		if (b - a == 3 && !memcmp(buf + off + a, "end", 3))
			return off + n + 1 < len;
		off += n + 1;
	}
	return false;
}

static bool same_snapshot(const struct nv_snapshot *a, const struct nv_snapshot *b)
{
	return !memcmp(a, b, sizeof(*a)) ||
	       (a->nr_gpus == b->nr_gpus && a->nr_migs == b->nr_migs && a->nr_uses == b->nr_uses && a->seq == b->seq &&
		!memcmp(a->pci, b->pci, sizeof(a->pci)) && !memcmp(a->uuid, b->uuid, sizeof(a->uuid)) &&
		!memcmp(a->mig, b->mig, sizeof(a->mig)) &&
		(!a->nr_uses || !memcmp(a->use, b->use, a->nr_uses * sizeof(*a->use))));
}

/*
 * Decode @len bytes of @msg as the daemon does, over a good answer; check
 * the promises. Returns the decoder's verdict (-1: not complete).
 */
static int decode(const char *msg, size_t len, int *nr_gpus)
{
	struct nv_snapshot s = { 0 }, tmp = { 0 }, copy;
	char buf[sizeof(before_text)], why[128], *text;
	unsigned int nbad;
	int ret;

	memcpy(buf, before_text, sizeof(buf));
	if (nvml_answer_decode(buf, sizeof(buf) - 1, &s, &tmp, &nbad, why, sizeof(why)) != NV_ANSWER_OK)
		broken("the good answer refused");
	s.seq = 7;
	copy = s;
	copy.use = malloc(s.nr_uses * sizeof(*s.use));
	if (!copy.use)
		abort();
	memcpy(copy.use, s.use, s.nr_uses * sizeof(*s.use));

	ret = -1;
	if (nvml_answer_complete(msg, len)) {
		text = malloc(len + 1);
		if (!text)
			abort();
		memcpy(text, msg, len);
		memset(why, 0x55, sizeof(why));
		ret = nvml_answer_decode(text, len, &s, &tmp, &nbad, why, sizeof(why));
		free(text);
		memcpy(last_why, why, sizeof(last_why));
		last_why[sizeof(last_why) - 1] = '\0';
		if (ret != NV_ANSWER_OK && ret != NV_ANSWER_NOLIB && ret != NV_ANSWER_FAIL && ret != NV_ANSWER_GARBAGE)
			broken("a verdict outside enum nv_answer");
		if (ret != NV_ANSWER_OK) {
			if (!terminated(why, sizeof(why)) || !fuzz_printable(why))
				broken("a reason for the log unterminated or not printable");
			if (!same_snapshot(&s, &copy))
				broken("a refused answer changed the snapshot");
		} else {
			if (s.seq != 7)
				broken("decoding changed the answer count");
			if (trailing(msg, len))
				broken("an answer taken with bytes after its end line or a NUL");
			check_snapshot(&s, nbad);
			*nr_gpus = s.nr_gpus;
		}
	}
	free(copy.use);
	free(s.use);
	free(tmp.use);
	return ret;
}

/* ---- the stand-in NVML: every call answers from the input, in call order ---- */

#define E_OK		0
#define E_INVALID	2
#define E_SIZE		7
#define E_UNKNOWN	999

struct fake_pci {
	char legacy[16];
	unsigned int domain, bus, device, id, subsys;
	char bus_id[32];
};

struct fake_proc_v1 {
	unsigned int pid;
	unsigned long long used;
};

struct fake_proc_v2 {
	unsigned int pid;
	unsigned long long used;
	unsigned int gi, ci;
};

static int gpu_handles[256];

static unsigned int take(size_t n)
{
	unsigned int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (!feed.len)
			break;
		v |= (unsigned int)feed.p[0] << (8 * i);
		feed.p++;
		feed.len--;
	}
	return v;
}

static unsigned long long take64(void)
{
	unsigned long long lo = take(4);

	return lo | (unsigned long long)take(4) << 32;
}

/* A return code: mostly success, sometimes an error the helper must pass on. */
static int take_rc(void)
{
	unsigned int b = take(1);

	return b < 0xf0 ? E_OK : b < 0xf8 ? E_INVALID : E_UNKNOWN;
}

/* Raw bytes up to the next FUZZ_SEP into @out of @size: unterminated when they fill it. */
static void take_text(char *out, size_t size)
{
	const uint8_t *end = memchr(feed.p, FUZZ_SEP, feed.len);
	size_t n = end ? (size_t)(end - feed.p) : feed.len;

	memset(out, 0, size);
	memcpy(out, feed.p, n < size ? n : size);
	feed.p += n + (end ? 1 : 0);
	feed.len -= n + (end ? 1 : 0);
}

static int fake_init(void) { return E_OK; }
static int fake_init_fails(void) { return 9; }

static int fake_count(unsigned int *n)
{
	int rc = take_rc();

	*n = take(1);
	return rc;
}

static int fake_handle(unsigned int i, void **dev)
{
	int rc = take_rc();

	if (rc == E_OK)
		*dev = &gpu_handles[i % 256];
	return rc;
}

static int fake_pci(void *dev, struct fake_pci *p)
{
	int rc = take_rc();

	(void)dev;
	memset(p, 0, sizeof(*p));
	take_text(p->bus_id, sizeof(p->bus_id));
	return rc;
}

static int fake_uuid(void *dev, char *out, unsigned int len)
{
	int rc = take_rc();

	(void)dev;
	take_text(out, len);
	return rc;
}

static int fake_mig_count(void *dev, unsigned int *n)
{
	int rc = take_rc();
	unsigned int b = take(1);

	(void)dev;
	*n = b == 0xff ? 1000000 : b;
	return rc;
}

static int fake_mig_handle(void *dev, unsigned int i, void **mig)
{
	int rc = take_rc();

	(void)i;
	if (rc == E_OK)
		*mig = dev;
	return rc;
}

/*
 * Byte: what to answer (0-0xef: the entries; 0xf0-0xf7: "too small" with
 * the count; else an error), then a 2-byte count and the entries that fit.
 */
static int fake_procs(unsigned int *n, void *out, size_t size)
{
	unsigned int mode = take(1), claim = take(2), room = *n;

	*n = claim;
	if (mode >= 0xf8)
		return E_UNKNOWN;
	if (mode >= 0xf0)
		return E_SIZE;
	for (unsigned int i = 0; i < claim && i < room; i++) {
		unsigned char *e = (unsigned char *)out + (size_t)i * size;

		memset(e, 0xa5, size);
		((struct fake_proc_v1 *)e)->pid = take(4);
		((struct fake_proc_v1 *)e)->used = take64();
	}
	return E_OK;
}

static int fake_procs_v2(void *dev, unsigned int *n, struct fake_proc_v2 *o)
{
	(void)dev;
	return fake_procs(n, o, sizeof(*o));
}

static int fake_procs_v1(void *dev, unsigned int *n, struct fake_proc_v1 *o)
{
	(void)dev;
	return fake_procs(n, o, sizeof(*o));
}

/* Byte 1: which entry points the library has, and whether it starts. */
enum {
	HAS_V2 = 1,		/* the _v2/_v3 names, else only the oldest */
	HAS_PROCS_V3 = 2,	/* the long process entries */
	HAS_UUID = 4,
	HAS_MIG = 8,
	INIT_FAILS = 16,
	NO_PCI = 32,		/* a needed entry point missing */
};

static void *fake_lookup(void *ctx, const char *name)
{
	unsigned int has = *(unsigned int *)ctx;
	static const struct {
		const char *name;
		unsigned int needs;
		void *fn;
	} table[] = {
		{ "nvmlInit_v2", HAS_V2, (void *)fake_init },
		{ "nvmlInit", 0, (void *)fake_init },
		{ "nvmlDeviceGetCount_v2", HAS_V2, (void *)fake_count },
		{ "nvmlDeviceGetCount", 0, (void *)fake_count },
		{ "nvmlDeviceGetHandleByIndex_v2", HAS_V2, (void *)fake_handle },
		{ "nvmlDeviceGetHandleByIndex", 0, (void *)fake_handle },
		{ "nvmlDeviceGetPciInfo_v3", HAS_V2, (void *)fake_pci },
		{ "nvmlDeviceGetPciInfo", 0, (void *)fake_pci },
		{ "nvmlDeviceGetComputeRunningProcesses_v3", HAS_PROCS_V3, (void *)fake_procs_v2 },
		{ "nvmlDeviceGetComputeRunningProcesses", 0, (void *)fake_procs_v1 },
		{ "nvmlDeviceGetUUID", HAS_UUID, (void *)fake_uuid },
		{ "nvmlDeviceGetMaxMigDeviceCount", HAS_MIG, (void *)fake_mig_count },
		{ "nvmlDeviceGetMigDeviceHandleByIndex", HAS_MIG, (void *)fake_mig_handle },
	};

	if ((has & NO_PCI) && !strncmp(name, "nvmlDeviceGetPciInfo", 20))
		return NULL;
	if ((has & INIT_FAILS) && !strncmp(name, "nvmlInit", 8))
		return (void *)fake_init_fails;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (!strcmp(table[i].name, name))
			return (table[i].needs & ~has) ? NULL : table[i].fn;
	return NULL;
}

static void helper_side(void)
{
	unsigned int has = take(1), count;
	char *answer;
	size_t len;
	int ret, nr_gpus = -1;

	/* The count is the first thing the library is asked: peek at it for the promise. */
	count = feed.len >= 2 && feed.p[0] < 0xf0 ? feed.p[1] : 0;
	if (nvml_helper_answer(fake_lookup, &has, &answer, &len) < 0)
		return;
	for (size_t off = 0; off < len; ) {
		const char *nl = memchr(answer + off, '\n', len - off);

		if (!nl)
			broken("a line of the helper without its newline");
		if ((size_t)(nl - (answer + off)) + 1 > NVML_LINE_MAX)
			broken("a line of the helper longer than NVML_LINE_MAX");
		off = (size_t)(nl - answer) + 1;
	}
	ret = decode(answer, len, &nr_gpus);
	if (ret == -1)
		broken("the helper's answer is not complete");
	if (ret != NV_ANSWER_OK && ret != NV_ANSWER_FAIL)
		fuzz_broken(feed.in, feed.in_len, "the daemon refuses what the helper sent: '%s'", last_why);
	if (ret == NV_ANSWER_OK && (has & (INIT_FAILS | NO_PCI)))
		broken("an answer from a library that does not start");
	if (ret == NV_ANSWER_OK && nr_gpus != (int)(count < GPU_MAX ? count : GPU_MAX))
		broken("not one GPU per device the library counts");
	free(answer);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	feed.in = data;
	feed.in_len = size;
	feed.p = data + 1;
	feed.len = size - 1;
	if (data[0] & 1)
		helper_side();
	else
		decode((const char *)data + 1, size - 1, &(int){ 0 });
	return 0;
}
