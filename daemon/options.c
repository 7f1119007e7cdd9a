// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

void options_defaults(struct options *o)
{
	memset(o, 0, sizeof(*o));
	o->sysfs_root = "";
	o->max_failures = 5;
	o->failure_window_s = 60;
	o->backoff_ms = 250;
	o->socket_path = DEFAULT_SOCKET_PATH;
	o->config_path = DEFAULT_CONFIG_PATH;
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
		"  -v, --verbose            debug logging; print a per-node summary every second\n"
		"  -i, --interval SECONDS   print the per-node summary every SECONDS (1-3600)\n"
		"  -s, --socket PATH        control socket (default " DEFAULT_SOCKET_PATH ")\n"
		"  -g, --group NAME         group whose members may change tunables (default: root only)\n"
		"      --max-failures N     error exits tolerated within the window (1-1000, default 5)\n"
		"      --failure-window S   window for --max-failures in seconds (1-86400, default 60)\n"
		"      --backoff-ms MS      first retry delay after an error exit (10-60000, default 250)\n"
		"      --hotplug-restart    handle CPU hotplug by letting the kernel eject the\n"
		"                           scheduler and re-attaching (default: in place)\n"
		"      --global-idle        search idle CPUs in the kernel's single global idle\n"
		"                           mask even where it keeps one per node (comparison)\n"
		"      --sysfs-root DIR     read topology below DIR instead of / (testing)\n"
		"  -h, --help               show this help\n"
		"  -V, --version            show the version\n",
		prog);
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

int options_parse(int argc, char **argv, struct options *o, char *err, size_t errlen)
{
	enum { O_MAXFAIL = 256, O_WINDOW, O_BACKOFF, O_SYSFS, O_CHECK, O_HOTPLUG, O_GLOBAL_IDLE };
	static const struct option lopts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "interval", required_argument, NULL, 'i' },
		{ "socket", required_argument, NULL, 's' },
		{ "group", required_argument, NULL, 'g' },
		{ "max-failures", required_argument, NULL, O_MAXFAIL },
		{ "failure-window", required_argument, NULL, O_WINDOW },
		{ "backoff-ms", required_argument, NULL, O_BACKOFF },
		{ "sysfs-root", required_argument, NULL, O_SYSFS },
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, O_CHECK },
		{ "hotplug-restart", no_argument, NULL, O_HOTPLUG },
		{ "global-idle", no_argument, NULL, O_GLOBAL_IDLE },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	static const struct { int opt; unsigned int lo, hi; const char *name; } ranges[] = {
		{ 'i', 1, INTERVAL_S_MAX, "--interval" },
		{ O_MAXFAIL, MAX_FAILURES_MIN, MAX_FAILURES_MAX, "--max-failures" },
		{ O_WINDOW, FAILURE_WINDOW_S_MIN, FAILURE_WINDOW_S_MAX, "--failure-window" },
		{ O_BACKOFF, BACKOFF_MS_MIN, BACKOFF_MS_MAX, "--backoff-ms" },
	};
	int c;

	options_defaults(o);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":vi:s:g:c:hV", lopts, NULL)) != -1) {
		unsigned int *dst = NULL;

		switch (c) {
		case 'v':
			o->verbose = true;
			/* -v's summary is a command-line choice: the file's interval_s yields to it. */
			if (!o->interval_s) {
				o->interval_s = 1;
				o->given |= OPT_GIVEN(OPTF_INTERVAL);
			}
			continue;
		case 's': o->socket_path = optarg; o->given |= OPT_GIVEN(OPTF_SOCKET); continue;
		case 'g': o->ctl_group = optarg; o->given |= OPT_GIVEN(OPTF_GROUP); continue;
		case 'c': o->config_path = optarg; o->config_given = true; continue;
		case O_CHECK: o->check_config = true; continue;
		case O_HOTPLUG: o->hotplug_restart = true; continue;
		case O_GLOBAL_IDLE: o->global_idle = true; continue;
		case O_SYSFS: o->sysfs_root = optarg; continue;
		case 'h': o->help = true; continue;
		case 'V': o->version = true; continue;
		case 'i': dst = &o->interval_s; o->given |= OPT_GIVEN(OPTF_INTERVAL); break;
		case O_MAXFAIL: dst = &o->max_failures; o->given |= OPT_GIVEN(OPTF_MAX_FAILURES); break;
		case O_WINDOW: dst = &o->failure_window_s; o->given |= OPT_GIVEN(OPTF_FAILURE_WINDOW); break;
		case O_BACKOFF: dst = &o->backoff_ms; o->given |= OPT_GIVEN(OPTF_BACKOFF); break;
		case ':':
			snprintf(err, errlen, "option %s needs a value", argv[optind - 1]);
			return -EINVAL;
		default:
			/* getopt's '?' also covers "--flag=VALUE" for a flag that takes none. */
			if (!strncmp(argv[optind - 1], "--", 2) && strchr(argv[optind - 1], '='))
				snprintf(err, errlen, "option %.64s: unknown, or takes no value", argv[optind - 1]);
			else
				snprintf(err, errlen, "unknown option %s", argv[optind - 1]);
			return -EINVAL;
		}
		for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
			if (ranges[i].opt != c)
				continue;
			if (options_parse_uint(optarg, ranges[i].lo, ranges[i].hi, dst) < 0) {
				snprintf(err, errlen, "%s: invalid value '%.32s': expected %u..%u",
					 ranges[i].name, optarg, ranges[i].lo, ranges[i].hi);
				return -EINVAL;
			}
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%.64s'", argv[optind]);
		return -EINVAL;
	}
	if (!*o->socket_path || strlen(o->socket_path) > SOCKET_PATH_MAX) {
		snprintf(err, errlen, "--socket: path must be 1..%d bytes", SOCKET_PATH_MAX);
		return -EINVAL;
	}
	if (!*o->config_path) {
		snprintf(err, errlen, "--config: empty path");
		return -EINVAL;
	}
	return o->help || o->version ? OPT_EXIT : OPT_OK;
}
