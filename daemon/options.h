/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The command line. The daemon's settings (settings.h) come from the table;
 * the flags here exist only on the command line.
 */
#ifndef SCX_AI_NUMA_OPTIONS_H
#define SCX_AI_NUMA_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "settings.h"

/* meson passes the build's paths (runstatedir, sysconfdir); these are the fallbacks. */
#ifndef DEFAULT_SOCKET_PATH
#define DEFAULT_SOCKET_PATH	"/run/scx-ai-numa/control.sock"
#endif
#ifndef DEFAULT_CONFIG_PATH
#define DEFAULT_CONFIG_PATH	"/etc/scx-ai-numa.conf"
#endif

/*
 * A bit per setting (enum setting_id) in options.given when the command line
 * gave it: the configuration file then does not override it.
 */
#define OPT_GIVEN(id)		(1u << (id))

struct options {
	const char *sysfs_root;		/* "" = live system */
	unsigned int interval_s;	/* foreground summary period, 0 = off */
	bool verbose;
	unsigned int max_failures;	/* error exits tolerated ... */
	unsigned int failure_window_s;	/* ... within this window */
	unsigned int backoff_ms;	/* first retry delay, doubled each time */
	const char *socket_path;	/* control socket */
	const char *ctl_group;		/* group allowed to change tunables, NULL = root only */
	const char *stats_socket;	/* scx_stats endpoint; NULL or "off": none */
	const char *config_path;	/* configuration file */
	bool config_given;		/* named with --config: it must exist */
	bool check_config;		/* validate the configuration and exit */
	bool explain;			/* the dry run: print the GPU association and exit */
	unsigned int given;		/* OPT_GIVEN() bits of settings the command line gave */
	bool hotplug_restart;		/* let the kernel eject us on hotplug; re-attach */
	bool global_idle;		/* the global idle mask even where per-node ones exist */
	bool node_queues;		/* one queue per node: the LLCs left out (comparison) */
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

/* Where setting @s lives in @o: an unsigned int for SETTING_UINT, else a const char *. */
unsigned int *options_uint(struct options *o, const struct setting *s);
const char **options_str(struct options *o, const struct setting *s);
/* The value of @s in @o as text ("" for no group). */
void options_format(const struct options *o, const struct setting *s, char *buf, size_t len);

#endif
