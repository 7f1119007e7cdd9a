// SPDX-License-Identifier: GPL-2.0
/*
 * The daemon's own settings. Ranges are chosen so that no value makes the
 * daemon useless: a failure budget of 0 would give up on the first error,
 * a backoff below 10 ms would retry a crashing scheduler in a tight loop.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "options.h"
#include "settings.h"

#define OFF(f)	offsetof(struct options, f)

const struct setting settings[NR_SETTINGS] = {
	[SETTING_SOCKET] = { "socket", "socket", 's', "PATH", SETTING_PATH, 0, 0, SOCKET_PATH_MAX, 0,
			     DEFAULT_SOCKET_PATH, NULL, "control socket", OFF(socket_path) },
	[SETTING_GROUP] = { "group", "group", 'g', "NAME", SETTING_GROUP_NAME, 0, 0, GROUP_NAME_MAX, 0,
			    "", NULL, "group whose members may change tunables", OFF(ctl_group) },
	[SETTING_MAX_FAILURES] = { "max_failures", "max-failures", 0, "N", SETTING_UINT, 1, 1, 1000, 5,
				   NULL, "error exits", "error exits tolerated within the window", OFF(max_failures) },
	[SETTING_FAILURE_WINDOW] = { "failure_window_s", "failure-window", 0, "S", SETTING_UINT, 1, 1, 86400, 60,
				     NULL, "s", "window for --max-failures in seconds", OFF(failure_window_s) },
	[SETTING_BACKOFF] = { "backoff_ms", "backoff-ms", 0, "MS", SETTING_UINT, 10, 10, 60000, 250,
			      NULL, "ms", "first retry delay after an error exit", OFF(backoff_ms) },
	[SETTING_INTERVAL] = { "interval_s", "interval", 'i', "SECONDS", SETTING_UINT, 0, 1, 3600, 0,
			       NULL, "s", "print the per-node summary every SECONDS", OFF(interval_s) },
	[SETTING_STATS_SOCKET] = { "stats_socket", "stats-socket", 0, "PATH", SETTING_OPT_PATH, 0, 0,
				   SOCKET_PATH_MAX, 0, DEFAULT_STATS_SOCKET_PATH, NULL,
				   "scx_stats endpoint for sched_ext tools", OFF(stats_socket) },
};

const char *quote_value(const char *s, char *buf, size_t len)
{
	size_t n = 0;

	for (; *s && n + 4 < len && n < 64; s++)
		buf[n++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	if (*s && n + 4 <= len) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

bool setting_path_off(const char *v)
{
	return !v || !*v || !strcmp(v, "off");
}

static bool valid_group_name(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (!n || n > max || *s == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.' || (c == '$' && i == n - 1)))
			return false;
	}
	return true;
}

int setting_parse(const struct setting *s, const char *name, bool cli, const char *text, unsigned int *num,
		  char *err, size_t errlen)
{
	unsigned int lo = cli ? s->cli_min : s->min;
	char q[80];
	int ret;

	switch (s->type) {
	case SETTING_OPT_PATH:
		if (setting_path_off(text))
			return 0;
		/* fall through */
	case SETTING_PATH:
		if (text[0] != '/' || strlen(text) > s->max) {
			snprintf(err, errlen, "%s: invalid value '%s': expected an absolute path of at most %u bytes",
				 name, quote_value(text, q, sizeof(q)), s->max);
			return -EINVAL;
		}
		return 0;
	case SETTING_GROUP_NAME:
		if (!valid_group_name(text, s->max)) {
			snprintf(err, errlen, "%s: invalid group name '%s'", name, quote_value(text, q, sizeof(q)));
			return -EINVAL;
		}
		return 0;
	case SETTING_UINT:
		ret = options_parse_uint(text, lo, s->max, num);
		if (ret)
			snprintf(err, errlen, "%s: %s '%s': expected %u..%u %s", name,
				 ret == -ERANGE ? "out of range" : "invalid value", quote_value(text, q, sizeof(q)),
				 lo, s->max, s->unit);
		return ret;
	}
	snprintf(err, errlen, "%s: internal error: no parser for type %d", name, (int)s->type);
	return -EINVAL;
}

void setting_range_text(const struct setting *s, char *buf, size_t len)
{
	switch (s->type) {
	case SETTING_UINT:
		if (s->def)
			snprintf(buf, len, "%u-%u, default %u", s->cli_min, s->max, s->def);
		else
			snprintf(buf, len, "%u-%u, default: off", s->cli_min, s->max);
		return;
	case SETTING_PATH:
		snprintf(buf, len, "default %s", s->def_str);
		return;
	case SETTING_OPT_PATH:
		snprintf(buf, len, "default %s, off: none", s->def_str);
		return;
	case SETTING_GROUP_NAME:
		snprintf(buf, len, "default: root only");
		return;
	}
	snprintf(buf, len, "?");
}
