// SPDX-License-Identifier: GPL-2.0
/*
 * The load-time choice of kfunc names and ops/enqueue flags
 * (daemon/kcompat.c) against the sched_ext API of real kernels: 6.12 (the
 * oldest the README promises), 6.15 (per-node idle masks arrive) and 7.3
 * (the VM suite's kernel). Each fixture (tests/unit/kcompat/, see its
 * README) lists a kernel's sched_ext kfuncs and SCX_* enumerators; the test
 * turns it back into BTF, so the choice reads it through the same libbpf
 * calls as on a live kernel.
 *
 *   test_kcompat FIXTURE_DIR
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>

#include "check.h"
#include "kcompat.h"

static char fixture_dir[4096];

/* The fixture @version as BTF: each func with an empty prototype, each enum with its values. */
static struct btf *load_fixture(const char *version)
{
	char path[4200], line[512], kind[16], type[128], name[128], val[32], cur[160] = "";
	struct btf *btf = btf__new_empty();
	int proto, lineno = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.txt", fixture_dir, version);
	f = fopen(path, "r");
	if (!f || !btf)
		check_bail("fixture %s: %s", path, strerror(errno));
	proto = btf__add_func_proto(btf, 0);
	if (proto < 0)
		check_bail("btf__add_func_proto: %s", strerror(-proto));
	while (fgets(line, sizeof(line), f)) {
		int ret = 0;

		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "func %127s", name) == 1) {
			ret = btf__add_func(btf, name, BTF_FUNC_STATIC, proto);
			cur[0] = '\0';
		} else if (sscanf(line, "enum %15s %127s %127s %31s", kind, type, name, val) == 4) {
			char key[160];
			bool e64 = !strcmp(kind, "enum64");

			/* Consecutive lines of one enum type add to it; sorted input keeps them together. */
			snprintf(key, sizeof(key), "%s %s", kind, type);
			if (strcmp(key, cur) || !strcmp(type, "-")) {
				const char *tn = strcmp(type, "-") ? type : NULL;

				ret = e64 ? btf__add_enum64(btf, tn, 8, val[0] != '-') : btf__add_enum(btf, tn, 4);
				snprintf(cur, sizeof(cur), "%s", key);
			}
			if (ret >= 0)
				ret = e64 ? btf__add_enum64_value(btf, name, val[0] == '-' ? (uint64_t)strtoll(val, NULL, 0)
										   : strtoull(val, NULL, 0))
					  : btf__add_enum_value(btf, name, strtoll(val, NULL, 0));
		} else {
			check_bail("%s:%d: cannot parse '%s'", path, lineno, line);
		}
		if (ret < 0)
			check_bail("%s:%d: building BTF: %s", path, lineno, strerror(-ret));
	}
	fclose(f);
	return btf;
}

/* An enumerator's value straight from the fixture's BTF, or ~0 if absent. */
static uint64_t fixture_enum(const struct btf *btf, const char *name)
{
	for (uint32_t id = 1; id < btf__type_cnt(btf); id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);

		for (uint16_t i = 0; btf_is_enum64(t) && i < btf_vlen(t); i++)
			if (!strcmp(btf__name_by_offset(btf, btf_enum64(t)[i].name_off), name))
				return btf_enum64_value(&btf_enum64(t)[i]);
		for (uint16_t i = 0; btf_is_enum(t) && i < btf_vlen(t); i++)
			if (!strcmp(btf__name_by_offset(btf, btf_enum(t)[i].name_off), name))
				return (uint32_t)btf_enum(t)[i].val;
	}
	return ~0ULL;
}

static void test_612(void)
{
	/* bpf/vmlinux/x86/vmlinux.h, the numbers compiled into the program, is 7.3's. */
	struct btf *btf = load_fixture("6.12"), *built = load_fixture("7.3");
	struct kcompat k;
	char err[256] = "";

	CHECK_INT(kcompat_choose(btf, true, &k, err, sizeof(err)), 0, "6.12: the scheduler can load (%s)", err);
	CHECK(!k.names_613, "6.12: the 6.12 kfunc names (scx_bpf_dispatch & co.) are chosen");
	CHECK(!k.idle_per_node, "6.12: no per-node idle masks even when asked: the global mask");
	CHECK_INT(k.ops_flags, fixture_enum(btf, "SCX_OPS_ENQ_LAST"), "6.12: ops flags are SCX_OPS_ENQ_LAST alone");
	CHECK_INT(k.enq_head, fixture_enum(btf, "SCX_ENQ_HEAD"), "6.12: SCX_ENQ_HEAD in 6.12's numbering");
	CHECK(k.enq_head != fixture_enum(built, "SCX_ENQ_HEAD"),
	      "6.12 numbers SCX_ENQ_HEAD differently from the vmlinux.h the program is built with");
	btf__free(btf);
	btf__free(built);
}

static void test_615(void)
{
	struct btf *btf = load_fixture("6.15");
	struct kcompat k;
	char err[256] = "";

	CHECK_INT(kcompat_choose(btf, true, &k, err, sizeof(err)), 0, "6.15: the scheduler can load (%s)", err);
	CHECK(k.names_613, "6.15: the renamed kfuncs (scx_bpf_dsq_insert & co.) are chosen");
	CHECK(k.idle_per_node, "6.15: per-node idle masks");
	CHECK_INT(k.enq_head, fixture_enum(btf, "SCX_ENQ_HEAD"), "6.15: SCX_ENQ_HEAD in 6.15's numbering");
	CHECK_INT(k.ops_flags, fixture_enum(btf, "SCX_OPS_ENQ_LAST") | fixture_enum(btf, "SCX_OPS_BUILTIN_IDLE_PER_NODE"),
		  "6.15: ops flags are SCX_OPS_ENQ_LAST | SCX_OPS_BUILTIN_IDLE_PER_NODE");
	CHECK_INT(kcompat_choose(btf, false, &k, err, sizeof(err)), 0, "6.15 with --global-idle loads");
	CHECK(!k.idle_per_node && k.ops_flags == fixture_enum(btf, "SCX_OPS_ENQ_LAST"),
	      "6.15 with --global-idle: no per-node flag");
	btf__free(btf);
}

static void test_73(void)
{
	struct btf *btf = load_fixture("7.3");
	struct kcompat k;
	char err[256] = "";

	CHECK_INT(kcompat_choose(btf, true, &k, err, sizeof(err)), 0, "7.3: the scheduler can load (%s)", err);
	CHECK(k.names_613, "7.3: the renamed kfuncs are chosen (7.3 has only those)");
	CHECK(k.idle_per_node, "7.3: per-node idle masks");
	CHECK_INT(k.enq_head, fixture_enum(btf, "SCX_ENQ_HEAD"), "7.3: SCX_ENQ_HEAD in 7.3's numbering");
	CHECK_INT(k.ops_flags, fixture_enum(btf, "SCX_OPS_ENQ_LAST") | fixture_enum(btf, "SCX_OPS_BUILTIN_IDLE_PER_NODE"),
		  "7.3: ops flags are SCX_OPS_ENQ_LAST | SCX_OPS_BUILTIN_IDLE_PER_NODE");
	btf__free(btf);
}

/* A kernel missing something the program needs is refused by name, not by the verifier. */
static void test_refusals(void)
{
	struct btf *btf = btf__new_empty();
	struct kcompat k;
	char err[256] = "";
	int proto = btf__add_func_proto(btf, 0);

	CHECK_INT(kcompat_choose(btf, true, &k, err, sizeof(err)), -EOPNOTSUPP, "a kernel without sched_ext is refused");
	CHECK(strstr(err, "scx_bpf_dsq_insert") != NULL, "the refusal names the missing kfunc: %s", err);
	/* 6.11-era sched_ext out of tree: dispatch and consume, no move from an iterator. */
	btf__add_func(btf, "scx_bpf_dispatch", BTF_FUNC_STATIC, proto);
	btf__add_func(btf, "scx_bpf_dispatch_vtime", BTF_FUNC_STATIC, proto);
	btf__add_func(btf, "scx_bpf_consume", BTF_FUNC_STATIC, proto);
	CHECK_INT(kcompat_choose(btf, true, &k, err, sizeof(err)), -EOPNOTSUPP,
		  "a kernel without scx_bpf_dispatch_from_dsq (before 6.12) is refused");
	CHECK(strstr(err, "scx_bpf_dsq_move") != NULL, "the refusal names it: %s", err);
	btf__free(btf);

	/* 6.15 as it is, but for the per-node kfunc: the flag alone does not buy per-node masks. */
	btf = load_fixture("6.15");
	{
		struct btf *cut = btf__new_empty();
		int p2 = btf__add_func_proto(cut, 0);

		for (uint32_t id = 1; id < btf__type_cnt(btf); id++) {
			const struct btf_type *t = btf__type_by_id(btf, id);
			const char *n = btf__name_by_offset(btf, t->name_off);

			if (btf_is_func(t) && strcmp(n, "scx_bpf_pick_idle_cpu_node"))
				btf__add_func(cut, n, BTF_FUNC_STATIC, p2);
			else if (btf_is_enum64(t) || btf_is_enum(t))
				btf__add_type(cut, btf, t);
		}
		CHECK_INT(kcompat_choose(cut, true, &k, err, sizeof(err)), 0, "6.15 without the per-node kfunc loads");
		CHECK(!k.idle_per_node && !(k.ops_flags & fixture_enum(btf, "SCX_OPS_BUILTIN_IDLE_PER_NODE")),
		      "the per-node flag without its kfunc: the global idle mask");
		btf__free(cut);
	}
	btf__free(btf);
}

/*
 * The other SCX_* values the program is compiled with from vmlinux.h must
 * mean the same on every kernel it loads on: they are not chosen at load.
 */
static void test_constants_agree(void)
{
	static const char *const fixed[] = {
		"SCX_DSQ_LOCAL", "SCX_DSQ_LOCAL_ON", "SCX_KICK_IDLE", "SCX_ENQ_LAST", "SCX_WAKE_TTWU",
		"SCX_ECODE_RSN_HOTPLUG", "SCX_ECODE_ACT_RESTART", "SCX_EXIT_NONE", "SCX_EXIT_DONE",
		"SCX_EXIT_UNREG", "SCX_EXIT_UNREG_BPF", "SCX_EXIT_UNREG_KERN", "SCX_EXIT_SYSRQ",
		"SCX_EXIT_ERROR", "SCX_EXIT_ERROR_BPF", "SCX_EXIT_ERROR_STALL",
	};
	struct btf *v612 = load_fixture("6.12"), *v615 = load_fixture("6.15"), *v73 = load_fixture("7.3");

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		uint64_t a = fixture_enum(v612, fixed[i]), b = fixture_enum(v615, fixed[i]), c = fixture_enum(v73, fixed[i]);

		CHECK(a != ~0ULL && a == b && b == c, "%s is the same on 6.12, 6.15 and 7.3 (%#llx %#llx %#llx)", fixed[i],
		      (unsigned long long)a, (unsigned long long)b, (unsigned long long)c);
	}
	btf__free(v612);
	btf__free(v615);
	btf__free(v73);
}

int main(int argc, char **argv)
{
	if (argc != 2)
		check_bail("usage: %s FIXTURE_DIR", argv[0]);
	snprintf(fixture_dir, sizeof(fixture_dir), "%s", argv[1]);
	test_612();
	test_615();
	test_73();
	test_refusals();
	test_constants_agree();
	return check_done();
}
