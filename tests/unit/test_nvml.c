// SPDX-License-Identifier: GPL-2.0
/*
 * The NVML source against stand-in libraries (tests/nvml-stub): answers of
 * the current ABI and of the oldest, 0-byte entries left out, bus ids
 * mapped to sysfs names, and every way the library can fail: absent, init
 * failing, hanging, crashing, garbage counts, unknown bus ids. The source
 * must never block its caller and must come back when the library does.
 *
 * Arguments: the current stub's path, the legacy stub's path.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "clock.h"
#include "nvml.h"

static char cfg[256];

static void write_cfg(const char *text)
{
	char tmp[300];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", cfg);
	f = fopen(tmp, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) || rename(tmp, cfg))
		check_bail("writing %s: %s", cfg, strerror(errno));
}

static struct nvsrc *src(const char *lib, unsigned int timeout_ms, unsigned int retry_ms)
{
	struct nvsrc_opts o = { .lib = lib, .timeout_ms = timeout_ms, .retry_ms = retry_ms };
	struct nvsrc *nv = nvsrc_new(&o);

	if (!nv)
		check_bail("nvsrc_new: out of memory");
	return nv;
}

static const struct nv_use *find_use(const struct nv_snapshot *s, pid_t pid, int gpu)
{
	for (size_t i = 0; s && i < s->nr_uses; i++)
		if (s->use[i].pid == pid && s->use[i].gpu == gpu)
			return &s->use[i];
	return NULL;
}

static void test_bus_ids(void)
{
	char out[GPU_PCI_LEN];

	CHECK(!nvml_bus_to_sysfs("00000000:21:00.0", out, sizeof(out)) && !strcmp(out, "0000:21:00.0"),
	      "NVML's 8-digit domain bus id 00000000:21:00.0 is sysfs device 0000:21:00.0");
	CHECK(!nvml_bus_to_sysfs("00000001:3B:1F.7", out, sizeof(out)) && !strcmp(out, "0001:3b:1f.7"),
	      "upper-case hex and a non-zero domain map to sysfs's lower-case name");
	CHECK(!nvml_bus_to_sysfs("0000:c1:00.0", out, sizeof(out)) && !strcmp(out, "0000:c1:00.0"),
	      "a 4-digit domain (the legacy form) maps unchanged");
	CHECK(nvml_bus_to_sysfs("00000000:21:00", out, sizeof(out)) < 0 &&
	      nvml_bus_to_sysfs("000000000:21:00.0", out, sizeof(out)) < 0 &&
	      nvml_bus_to_sysfs("00000000:21:00.0x", out, sizeof(out)) < 0 &&
	      nvml_bus_to_sysfs("0000:zz:00.0", out, sizeof(out)) < 0 &&
	      nvml_bus_to_sysfs("0000:21:20.0", out, sizeof(out)) < 0 && nvml_bus_to_sysfs("", out, sizeof(out)) < 0,
	      "malformed bus ids (short, long domain, trailing bytes, non-hex, device > 31, empty) are refused");
}

static const char two_ranks[] =
	"mode ok\n"
	"gpu 00000000:21:00.0\n"
	"gpu 00000000:C1:00.0\n"
	"proc 0 100 1048576\n"
	"proc 1 100 0\n"
	"proc 0 200 0\n"
	"proc 1 200 2097152\n";

static void test_answers(const char *lib, const char *abi)
{
	struct nvsrc *nv = src(lib, 2000, 100);
	const struct nv_snapshot *s;
	char d[256];

	write_cfg(two_ranks);
	CHECK(nvsrc_sync(nv, 5000) == 1 && nvsrc_on(nv), "%s ABI: the helper answers", abi);
	s = nvsrc_snapshot(nv);
	CHECK(s && s->nr_gpus == 2 && !strcmp(s->pci[0], "0000:21:00.0") && !strcmp(s->pci[1], "0000:c1:00.0"),
	      "%s ABI: both GPUs, by their sysfs names", abi);
	CHECK(s && s->nr_uses == 2 && find_use(s, 100, 0) && find_use(s, 100, 0)->bytes == 1048576 &&
	      find_use(s, 200, 1) && find_use(s, 200, 1)->bytes == 2097152,
	      "%s ABI: each rank on its own GPU with the bytes it holds (entries read at the right size)", abi);
	CHECK(s && !find_use(s, 100, 1) && !find_use(s, 200, 0),
	      "%s ABI: the 0-byte entries (stray contexts on the other GPU) are left out", abi);
	nvsrc_describe(nv, d, sizeof(d));
	CHECK(!strncmp(d, "on", 2), "%s ABI: described as on ('%s')", abi, d);

	/* The answer follows the library: the next query sees what changed. */
	write_cfg("mode ok\ngpu 00000000:21:00.0\nproc 0 300 4096\n");
	CHECK(nvsrc_sync(nv, 5000) == 1 && (s = nvsrc_snapshot(nv)) && s->nr_gpus == 1 && s->nr_uses == 1 &&
	      find_use(s, 300, 0), "%s ABI: a later query sees a new process and the old ones gone", abi);

	/* NVML_VALUE_NOT_AVAILABLE: what NVML says under MIG, or without the permission to know. */
	write_cfg("mode ok\ngpu 00000000:21:00.0\nproc 0 400 18446744073709551615\n");
	CHECK(nvsrc_sync(nv, 5000) == 1 && (s = nvsrc_snapshot(nv)) && find_use(s, 400, 0) &&
	      find_use(s, 400, 0)->bytes == NV_BYTES_UNKNOWN,
	      "%s ABI: a process whose memory NVML does not know is kept, its bytes unknown", abi);
	nvsrc_free(nv);
}

#define UUID0	"GPU-11111111-2222-3333-4444-555555555555"
#define UUID1	"GPU-66666666-7777-8888-9999-aaaaaaaaaaaa"
#define MIG0A	"MIG-0a0a0a0a-0000-4000-8000-000000000001"
#define MIG0B	"MIG-0b0b0b0b-0000-4000-8000-000000000002"
#define MIG1	"MIG-GPU-66666666-7777-8888-9999-aaaaaaaaaaaa/1/0"

/* Each GPU's UUID and its MIG instances', as CUDA_VISIBLE_DEVICES names them. */
static void test_uuids(const char *lib, const char *abi, bool migs)
{
	struct nvsrc *nv = src(lib, 2000, 100);
	const struct nv_snapshot *s;
	int on0 = 0, on1 = 0;

	write_cfg("mode ok\n"
		  "gpu 00000000:21:00.0\nuuid 0 " UUID0 "\nmig 0 " MIG0A "\nmig 0 " MIG0B "\n"
		  "gpu 00000000:C1:00.0\nuuid 1 " UUID1 "\nmig 1 " MIG1 "\nmig 1 MIG-zz;rm\n"
		  "gpu 00000000:E1:00.0\n");
	CHECK(nvsrc_sync(nv, 5000) == 1 && (s = nvsrc_snapshot(nv)) && s->nr_gpus == 3,
	      "%s ABI: an answer with UUIDs and MIG instances is a good answer", abi);
	s = nvsrc_snapshot(nv);
	CHECK(s && !strcmp(s->uuid[0], UUID0) && !strcmp(s->uuid[1], UUID1) && !s->uuid[2][0],
	      "%s ABI: each GPU's UUID (nvmlDeviceGetUUID), none for one that has none to give", abi);
	for (int i = 0; s && i < s->nr_migs; i++) {
		on0 += s->mig[i].gpu == 0 && (!strcmp(s->mig[i].uuid, MIG0A) || !strcmp(s->mig[i].uuid, MIG0B));
		on1 += s->mig[i].gpu == 1 && !strcmp(s->mig[i].uuid, MIG1);
	}
	if (migs)
		CHECK(s && s->nr_migs == 3 && on0 == 2 && on1 == 1,
		      "%s ABI: MIG instances under their GPU, found by index past the empty slots; the older "
		      "MIG-GPU-.../GI/CI form kept, a UUID that is no UUID dropped (%d)", abi, s ? s->nr_migs : -1);
	else
		CHECK(s && s->nr_migs == 0, "%s ABI: a library without MIG calls has no MIG instances, and answers",
		      abi);
	if (migs) {
		/* A garbage MIG count: the helper looks at its cap of slots, no more, and the answer stands. */
		write_cfg("mode garbage\ngpu 00000000:21:00.0\nuuid 0 " UUID0 "\nmig 0 " MIG0A "\n");
		CHECK(nvsrc_sync(nv, 5000) == 1 && (s = nvsrc_snapshot(nv)) && s->nr_migs == 1 &&
		      !strcmp(s->mig[0].uuid, MIG0A),
		      "%s ABI: a garbage MIG count costs nothing but the slots looked at", abi);
	}
	nvsrc_free(nv);
}

static void test_absent(void)
{
	struct nvsrc *nv = src("/nonexistent/libnvidia-ml.so.1", 2000, 100);
	char d[256];

	CHECK(nvsrc_sync(nv, 5000) == 0 && !nvsrc_on(nv) && !nvsrc_snapshot(nv),
	      "an absent library turns the source off, with no answer");
	nvsrc_describe(nv, d, sizeof(d));
	CHECK(strstr(d, "off") && strstr(d, "not loadable"), "the status says why: '%s'", d);
	nvsrc_free(nv);
}

static void test_hang(const char *lib)
{
	struct nvsrc *nv = src(lib, 300, 200);
	uint64_t t0, worst = 0;
	char d[256];
	int fresh = 0;

	write_cfg(two_ranks);
	CHECK(nvsrc_sync(nv, 5000) == 1, "hang: the source answers before the library hangs");
	write_cfg("mode hang\ngpu 00000000:21:00.0\nproc 0 100 4096\n");
	/* Drive it the way the daemon's loop does: many short calls, none of which may wait. */
	t0 = mono_ns();
	while (mono_ns() - t0 < 1000000000ULL && nvsrc_on(nv)) {
		uint64_t c = mono_ns(), took;

		fresh |= nvsrc_poll(nv);
		took = mono_ns() - c;
		if (took > worst)
			worst = took;
		usleep(10000);
	}
	CHECK(!nvsrc_on(nv) && !nvsrc_snapshot(nv), "hang: a library that hangs turns the source off within the limit");
	CHECK(worst < 50000000ULL, "hang: no call waited for the hung library (longest %llu us)",
	      (unsigned long long)(worst / 1000));
	nvsrc_describe(nv, d, sizeof(d));
	CHECK(strstr(d, "hung") != NULL, "hang: the status says it hung: '%s'", d);

	/* The library recovers: the source comes back after its backoff. */
	write_cfg(two_ranks);
	usleep(250000);
	CHECK(nvsrc_sync(nv, 5000) == 1 && nvsrc_on(nv) && nvsrc_snapshot(nv)->nr_uses == 2,
	      "hang: after the backoff a new helper answers again");
	(void)fresh;
	nvsrc_free(nv);
}

static void test_failures(const char *lib)
{
	struct nvsrc *nv;
	const struct nv_snapshot *s;
	char d[256];

	nv = src(lib, 2000, 60000);
	write_cfg("mode crash\ngpu 00000000:21:00.0\nproc 0 100 4096\n");
	CHECK(nvsrc_sync(nv, 5000) == 0 && !nvsrc_on(nv), "crash: a library that crashes turns the source off");
	nvsrc_describe(nv, d, sizeof(d));
	CHECK(strstr(d, "died") || strstr(d, "crashed"), "crash: the status says the helper died: '%s'", d);
	nvsrc_free(nv);

	nv = src(lib, 2000, 60000);
	write_cfg("mode initfail\n");
	CHECK(nvsrc_sync(nv, 5000) == 0 && !nvsrc_on(nv), "init failure: a library that does not start is off");
	nvsrc_describe(nv, d, sizeof(d));
	CHECK(strstr(d, "does not work") != NULL, "init failure: the status says so: '%s'", d);
	nvsrc_free(nv);

	nv = src(lib, 2000, 60000);
	write_cfg("mode garbage\ngpu 00000000:21:00.0\nproc 0 100 4096\n");
	CHECK(nvsrc_sync(nv, 5000) == 1 && (s = nvsrc_snapshot(nv)) && s->nr_gpus == 1 && s->nr_uses == 0,
	      "garbage count: the GPU is known but nothing is believed of its processes");
	nvsrc_free(nv);

	nv = src(lib, 2000, 60000);
	write_cfg("mode ok\ngpu 0000:21:00\ngpu 00000000:C1:00.0\nproc 0 100 4096\nproc 1 200 4096\n");
	CHECK(nvsrc_sync(nv, 5000) == 1 && (s = nvsrc_snapshot(nv)) && s->nr_gpus == 2 && !s->pci[0][0] &&
	      !strcmp(s->pci[1], "0000:c1:00.0"),
	      "an unreadable bus id names no GPU; the other GPU is still read");
	nvsrc_free(nv);
}

int main(int argc, char **argv)
{
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";

	if (argc != 3)
		check_bail("usage: %s STUB LEGACY-STUB", argv[0]);
	snprintf(cfg, sizeof(cfg), "%s/test-nvml.%d.cfg", dir, (int)getpid());
	setenv("NVML_STUB_CONFIG", cfg, 1);
	test_bus_ids();
	test_answers(argv[1], "current");
	test_answers(argv[2], "legacy");
	test_uuids(argv[1], "current", true);
	test_uuids(argv[2], "legacy", false);
	test_absent();
	test_hang(argv[1]);
	test_failures(argv[1]);
	unlink(cfg);
	return check_done();
}
