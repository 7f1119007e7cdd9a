/* SPDX-License-Identifier: GPL-2.0 */
#ifndef SCX_AI_NUMA_OPTIONS_H
#define SCX_AI_NUMA_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* meson passes the build's paths (runstatedir, sysconfdir); these are the fallbacks. */
#ifndef DEFAULT_SOCKET_PATH
#define DEFAULT_SOCKET_PATH	"/run/scx-ai-numa/control.sock"
#endif
#ifndef DEFAULT_CONFIG_PATH
#define DEFAULT_CONFIG_PATH	"/etc/scx-ai-numa.conf"
#endif

/* Limits shared by the command line and the configuration file. */
#define INTERVAL_S_MAX		3600
#define MAX_FAILURES_MIN	1
#define MAX_FAILURES_MAX	1000
#define FAILURE_WINDOW_S_MIN	1
#define FAILURE_WINDOW_S_MAX	86400
#define BACKOFF_MS_MIN		10
#define BACKOFF_MS_MAX		60000
#define SOCKET_PATH_MAX		107	/* sun_path holds 108 bytes with the NUL */

/*
 * Settings the configuration file may also set: a bit is set in
 * options.given when the command line gave it, and the file then
 * does not override it.
 */
enum opt_field {
	OPTF_INTERVAL,
	OPTF_SOCKET,
	OPTF_GROUP,
	OPTF_MAX_FAILURES,
	OPTF_FAILURE_WINDOW,
	OPTF_BACKOFF,
};
#define OPT_GIVEN(f)		(1u << (f))

struct options {
	const char *sysfs_root;		/* "" = live system */
	unsigned int interval_s;	/* foreground summary period, 0 = off */
	bool verbose;
	unsigned int max_failures;	/* error exits tolerated ... */
	unsigned int failure_window_s;	/* ... within this window */
	unsigned int backoff_ms;	/* first retry delay, doubled each time */
	const char *socket_path;	/* control socket */
	const char *ctl_group;		/* group allowed to change tunables, NULL = root only */
	const char *config_path;	/* configuration file */
	bool config_given;		/* named with --config: it must exist */
	bool check_config;		/* validate the configuration and exit */
	unsigned int given;		/* OPT_GIVEN() bits of settings the command line gave */
	bool hotplug_restart;		/* let the kernel eject us on hotplug; re-attach */
	bool global_idle;		/* the global idle mask even where per-node ones exist */
	bool help, version;
};

enum {
	OPT_OK = 0,		/* run */
	OPT_EXIT = 1,		/* --help/--version printed: exit 0 */
};

void options_defaults(struct options *o);
/*
 * Parse argv into @o (defaults first). Returns OPT_OK, OPT_EXIT, or -EINVAL
 * with a one-line reason in @err (the caller prints usage and exits 2).
 */
int options_parse(int argc, char **argv, struct options *o, char *err, size_t errlen);
void options_usage(FILE *f, const char *prog);
/* A decimal in @lo..@hi, nothing else: 0, -EINVAL (not a number) or -ERANGE. */
int options_parse_uint(const char *s, unsigned int lo, unsigned int hi, unsigned int *out);

#endif
