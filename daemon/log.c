// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "log.h"

static int log_max = LOG_INFO;
static int log_prefix;

void log_init(int max_level)
{
	log_max = max_level;
	/* journald (and anything not a terminal) gets "<N>" priority prefixes. */
	log_prefix = !isatty(STDERR_FILENO);
}

void log_set_level(int max_level)
{
	log_max = max_level;
}

void log_msg(int level, const char *fmt, ...)
{
	static const char *const tag[] = {
		[LOG_EMERG] = "emerg", [LOG_ALERT] = "alert", [LOG_CRIT] = "crit",
		[LOG_ERR] = "error", [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
		[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
	};
	va_list ap;

	if (level > log_max)
		return;
	if (log_prefix)
		fprintf(stderr, "<%d>", level);
	else if (level <= LOG_WARNING)
		fprintf(stderr, "%s: ", tag[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
