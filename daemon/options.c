// SPDX-License-Identifier: GPL-2.0
/*
 * The command line: the settings table's options (settings.c) plus the flags
 * that exist only here. getopt's tables and the usage text are built from the
 * settings table, so an option's range and default are written once.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

/* getopt values of settings without a short option: O_SETTING + id. */
enum { O_SYSFS = 256, O_CHECK, O_HOTPLUG, O_GLOBAL_IDLE, O_EXPLAIN, O_NODE_QUEUES, O_SETTING = 512 };

static const struct option flag_opts[] = {
	{ "verbose", no_argument, NULL, 'v' },
	{ "sysfs-root", required_argument, NULL, O_SYSFS },
	{ "config", required_argument, NULL, 'c' },
	{ "check-config", no_argument, NULL, O_CHECK },
	{ "explain", no_argument, NULL, O_EXPLAIN },
	{ "hotplug-restart", no_argument, NULL, O_HOTPLUG },
	{ "global-idle", no_argument, NULL, O_GLOBAL_IDLE },
	{ "node-queues", no_argument, NULL, O_NODE_QUEUES },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
};
#define NR_FLAG_OPTS	(sizeof(flag_opts) / sizeof(flag_opts[0]))

unsigned int *options_uint(struct options *o, const struct setting *s)
{
	return (unsigned int *)((char *)o + s->off);
}

const char **options_str(struct options *o, const struct setting *s)
{
	return (const char **)((char *)o + s->off);
}

void options_format(const struct options *o, const struct setting *s, char *buf, size_t len)
{
	const char *p = (const char *)o + s->off;
	const char *str;

	if (s->type == SETTING_UINT) {
		snprintf(buf, len, "%u", *(const unsigned int *)p);
		return;
	}
	str = *(const char *const *)p;
	snprintf(buf, len, "%s", str ? str : "");
}

void options_defaults(struct options *o)
{
	memset(o, 0, sizeof(*o));
	o->sysfs_root = "";
	o->config_path = DEFAULT_CONFIG_PATH;
	for (size_t i = 0; i < NR_SETTINGS; i++) {
		const struct setting *s = &settings[i];

		if (s->type == SETTING_UINT)
			*options_uint(o, s) = s->def;
		else
			*options_str(o, s) = *s->def_str ? s->def_str : NULL;
	}
}

void options_usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s [OPTIONS]\n"
		"Load the scx_ai_numa sched_ext scheduler and keep it attached.\n\n"
		"  -c, --config PATH        configuration file (default " DEFAULT_CONFIG_PATH ";\n"
		"                           a missing default file means built-in defaults)\n"
		"      --check-config       validate the configuration, print the effective\n"
		"                           settings and exit (needs neither root nor sched_ext)\n"
		"      --explain            find GPUs and the processes using them, print what\n"
		"                           would be placed where and why, and exit (no sched_ext)\n"
		"  -v, --verbose            debug logging; print a per-node summary every second\n",
		prog);
	for (size_t i = 0; i < NR_SETTINGS; i++) {
		const struct setting *s = &settings[i];
		char head[64], range[96];

		snprintf(head, sizeof(head), "%c%c%c --%s %s", s->short_opt ? '-' : ' ',
			 s->short_opt ? s->short_opt : ' ', s->short_opt ? ',' : ' ', s->opt, s->arg);
		setting_range_text(s, range, sizeof(range));
		fprintf(f, "  %-24s %s (%s)\n", head, s->help, range);
	}
	fprintf(f,
		"      --hotplug-restart    handle CPU hotplug by letting the kernel eject the\n"
		"                           scheduler and re-attaching (default: in place)\n"
		"      --global-idle        search idle CPUs in the kernel's single global idle\n"
		"                           mask even where it keeps one per node (comparison)\n"
		"      --node-queues        one dispatch queue per node, not per last-level\n"
		"                           cache (comparison)\n"
		"      --sysfs-root DIR     read topology below DIR instead of / (testing)\n"
		"  -h, --help               show this help\n"
		"  -V, --version            show the version\n");
}

int options_parse_uint(const char *s, unsigned int lo, unsigned int hi, unsigned int *out)
{
	unsigned long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno || v < lo || v > hi)
		return -ERANGE;
	*out = (unsigned int)v;
	return 0;
}

static int setting_val(size_t id)
{
	return settings[id].short_opt ? settings[id].short_opt : O_SETTING + (int)id;
}

/* A setting given on the command line: checked as the file's value would be, and marked given. */
static int take_setting(struct options *o, size_t id, const char *arg, char *err, size_t errlen)
{
	const struct setting *s = &settings[id];
	char name[40];
	unsigned int v;
	int ret;

	snprintf(name, sizeof(name), "--%s", s->opt);
	/* An empty path says what it wants better than "not absolute". */
	if (s->type == SETTING_PATH && (!*arg || strlen(arg) > s->max)) {
		snprintf(err, errlen, "%s: path must be 1..%u bytes", name, s->max);
		return -EINVAL;
	}
	/* A group is checked against the group database when the socket is made. */
	if (s->type == SETTING_UINT || s->type == SETTING_OPT_PATH) {
		ret = setting_parse(s, name, true, arg, &v, err, errlen);
		if (ret)
			return -EINVAL;
	}
	if (s->type == SETTING_UINT)
		*options_uint(o, s) = v;
	else
		*options_str(o, s) = arg;
	o->given |= OPT_GIVEN(id);
	return 0;
}

int options_parse(int argc, char **argv, struct options *o, char *err, size_t errlen)
{
	struct option lopts[NR_FLAG_OPTS + NR_SETTINGS + 1];
	char shorts[64] = ":vc:hV";
	size_t n = 0, ns = strlen(shorts);
	int c;

	for (size_t i = 0; i < NR_FLAG_OPTS; i++)
		lopts[n++] = flag_opts[i];
	for (size_t i = 0; i < NR_SETTINGS; i++) {
		lopts[n++] = (struct option){ settings[i].opt, required_argument, NULL, setting_val(i) };
		if (settings[i].short_opt && ns + 3 < sizeof(shorts)) {
			shorts[ns++] = settings[i].short_opt;
			shorts[ns++] = ':';
			shorts[ns] = '\0';
		}
	}
	lopts[n] = (struct option){ 0 };

	options_defaults(o);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shorts, lopts, NULL)) != -1) {
		switch (c) {
		case 'v':
			o->verbose = true;
			/* -v's summary is a command-line choice: the file's interval_s yields to it. */
			if (!o->interval_s) {
				o->interval_s = 1;
				o->given |= OPT_GIVEN(SETTING_INTERVAL);
			}
			continue;
		case 'c': o->config_path = optarg; o->config_given = true; continue;
		case O_CHECK: o->check_config = true; continue;
		case O_EXPLAIN: o->explain = true; continue;
		case O_HOTPLUG: o->hotplug_restart = true; continue;
		case O_GLOBAL_IDLE: o->global_idle = true; continue;
		case O_NODE_QUEUES: o->node_queues = true; continue;
		case O_SYSFS: o->sysfs_root = optarg; continue;
		case 'h': o->help = true; continue;
		case 'V': o->version = true; continue;
		case ':':
			snprintf(err, errlen, "option %s needs a value", argv[optind - 1]);
			return -EINVAL;
		}
		for (size_t i = 0; i < NR_SETTINGS; i++) {
			if (setting_val(i) != c)
				continue;
			if (take_setting(o, i, optarg, err, errlen))
				return -EINVAL;
			goto next;
		}
		/* getopt's '?' also covers "--flag=VALUE" for a flag that takes none. */
		if (!strncmp(argv[optind - 1], "--", 2) && strchr(argv[optind - 1], '='))
			snprintf(err, errlen, "option %.64s: unknown, or takes no value", argv[optind - 1]);
		else
			snprintf(err, errlen, "unknown option %s", argv[optind - 1]);
		return -EINVAL;
next:;
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%.64s'", argv[optind]);
		return -EINVAL;
	}
	if (!*o->config_path) {
		snprintf(err, errlen, "--config: empty path");
		return -EINVAL;
	}
	return o->help || o->version ? OPT_EXIT : OPT_OK;
}
