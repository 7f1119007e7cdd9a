/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The settings table: the daemon's own settings (not the scheduler's
 * tunables, see tunables.h), each with its configuration key, command-line
 * option, type, range, default, unit and help. The command line (options.c),
 * the configuration file (config.c), --check-config and the man-page test
 * all read this one table, so a setting is spelled once.
 */
#ifndef SCX_AI_NUMA_SETTINGS_H
#define SCX_AI_NUMA_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

#define DEFAULT_SOCKET_PATH	"/run/scx-ai-numa/control.sock"
/* Where sched_ext tools (scxtop, scxstats_to_openmetrics.py) look first. */
#define DEFAULT_STATS_SOCKET_PATH	"/var/run/scx/root/stats"
#define SOCKET_PATH_MAX		107	/* sun_path holds 108 bytes with the NUL */
#define GROUP_NAME_MAX		64	/* longer than any sane group name */
#define SETTING_STR_MAX		SOCKET_PATH_MAX

/* Table order: also the order of --check-config's output. */
enum setting_id {
	SETTING_SOCKET,
	SETTING_GROUP,
	SETTING_MAX_FAILURES,
	SETTING_FAILURE_WINDOW,
	SETTING_BACKOFF,
	SETTING_INTERVAL,
	SETTING_STATS_SOCKET,
	NR_SETTINGS,
};

enum setting_type {
	SETTING_UINT,
	SETTING_PATH,		/* absolute, at most max bytes */
	SETTING_GROUP_NAME,	/* a group name; "" (the default) is none */
	SETTING_OPT_PATH,	/* like SETTING_PATH, or "off" (or "") for none */
};

struct setting {
	const char *key;	/* in the configuration file */
	const char *opt;	/* long option, without "--" */
	char short_opt;		/* 0: none */
	const char *arg;	/* the option's value in --help */
	enum setting_type type;
	/*
	 * SETTING_UINT: the range in the file; the command line takes
	 * cli_min..max (interval_s = 0, "never", is written only in the file).
	 * Strings: max is the length limit.
	 */
	unsigned int min, cli_min, max, def;
	const char *def_str;	/* strings' default */
	const char *unit;	/* SETTING_UINT */
	const char *help;	/* one line of --help */
	size_t off;		/* offsetof(struct options, field): unsigned int or const char * */
};

extern const struct setting settings[NR_SETTINGS];

/*
 * A value for @s from text, range-checked. Numbers go to *num, strings are
 * only checked (the caller keeps the text). Returns 0, or -EINVAL/-ERANGE
 * with "KEY: reason" in @err, KEY being @name (the key or the option).
 */
/* An optional path's value that means none: NULL, "" or "off". */
bool setting_path_off(const char *v);
int setting_parse(const struct setting *s, const char *name, bool cli, const char *text, unsigned int *num,
		  char *err, size_t errlen);
/* What a file or the command line said, safe for a log line: at most 64 bytes, unprintables as '?'. */
const char *quote_value(const char *s, char *buf, size_t len);
/* "(1-1000, default 5)" and the like, for --help. */
void setting_range_text(const struct setting *s, char *buf, size_t len);

#endif
