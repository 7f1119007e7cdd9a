/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Logging fit for the journal: each line carries a syslog priority prefix
 * ("<3>") that journald strips and turns into the priority. On a terminal the
 * prefix is left out so humans read plain lines.
 */
#ifndef SCX_AI_NUMA_LOG_H
#define SCX_AI_NUMA_LOG_H

#include <syslog.h>

void log_init(int max_level);
void log_set_level(int max_level);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_err(...)	log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARNING, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
