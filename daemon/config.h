/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The configuration file: `key = value` lines and `#` comments. Keys are the
 * tunables table's names plus the daemon's own settings. A file is parsed
 * whole into a fresh struct config and used only when every line is valid,
 * so a bad file never leaves anything half-applied. The command line wins
 * over the file for every setting it gives.
 */
#ifndef SCX_AI_NUMA_CONFIG_H
#define SCX_AI_NUMA_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "intf.h"
#include "options.h"

struct daemon;

#define CONFIG_MAX_BYTES	(64 * 1024)	/* a config file is a few hundred bytes */
#define CONFIG_MAX_LINE		1024
#define CONFIG_MAX_TUNABLES	64
#define CONFIG_GROUP_MAX	64		/* longer than any sane group name */

/* The daemon's own keys; tunables follow them in key numbering. */
enum cfg_key {
	CFG_SOCKET,
	CFG_GROUP,
	CFG_MAX_FAILURES,
	CFG_FAILURE_WINDOW,
	CFG_BACKOFF,
	CFG_INTERVAL,
	CFG_PIN,		/* repeatable: pin = PID NODE */
	CFG_PIN_CGROUP,		/* repeatable: pin_cgroup = PATH NODE */
	CFG_NR_DAEMON_KEYS,
};

#define CONFIG_MAX_PINS		64
#define CONFIG_PIN_PATH_MAX	255
#define CONFIG_PID_MAX		4194304		/* the kernel's PID_MAX_LIMIT */

/* A pin line: a process or a cgroup to a node (see placement.h). */
struct cfg_pin {
	bool cgroup;			/* pin_cgroup; else pin (a process) */
	int pid;
	char path[CONFIG_PIN_PATH_MAX + 1];
	int node;			/* kernel node id */
	unsigned int line;
};

struct config {
	char path[256];			/* as named in messages */
	bool found;			/* false: no file, built-in defaults */
	struct an_tunables tun;		/* table defaults, overridden by the file */
	unsigned int interval_s, max_failures, failure_window_s, backoff_ms;
	char socket[SOCKET_PATH_MAX + 1];
	char group[CONFIG_GROUP_MAX + 1];
	struct cfg_pin pins[CONFIG_MAX_PINS];
	unsigned int nr_pins;
	/* Line that set each key (daemon keys, then tunables in table order); 0: not in the file. */
	unsigned int line[CFG_NR_DAEMON_KEYS + CONFIG_MAX_TUNABLES];
};

/* Every key: the daemon's, then the tunables'. For the man-page test and messages. */
size_t config_nr_keys(void);
const char *config_key_name(size_t key);

/* Built-in defaults, nothing set by a file; @name is what messages call the file. */
void config_init(struct config *c, const char *name);

/*
 * Parse @len bytes of @text on top of config_init() defaults. Returns 0, or
 * -EINVAL with "name:line: reason" in @err; *c is untouched on error.
 */
int config_parse(struct config *c, const char *name, const char *text, size_t len, char *err, size_t errlen);

/*
 * Read and parse @path. A missing file is -ENOENT (with @err set); the caller
 * decides whether that matters. *c is untouched on any error.
 */
int config_load(struct config *c, const char *path, char *err, size_t errlen);

/*
 * At startup: load o->config_path (a missing file is fine unless named with
 * --config), then take every setting the command line did not give from it,
 * and the tunables into @tun. The strings o points at afterwards live as
 * long as the process. Returns 0 or -errno with the reason in @err.
 */
int config_startup(struct options *o, struct an_tunables *tun, char *err, size_t errlen);

/*
 * --check-config: what config_startup() cannot know without the system's
 * databases (the control group exists), then the effective settings in the
 * file's own syntax, each with where it came from. Returns 0 or -errno.
 */
int config_check(FILE *f, const struct options *o, const struct an_tunables *tun, char *err, size_t errlen);

/*
 * SIGHUP: re-read the file and apply it to the running daemon. Tunables go
 * through daemon_set_tunable() (live, no reload of the BPF program) and end
 * up exactly as a fresh start would set them; restart policy and summary
 * interval apply at once; socket and group need a restart. The command line
 * still wins. On any error nothing changes. Returns the number of settings
 * changed, or -errno with the reason in @err.
 */
int config_reload(struct daemon *d, char *err, size_t errlen);

/*
 * The pin lines of the configuration in effect (the one loaded at startup,
 * or by the last successful reload) and the file's name for messages.
 */
size_t config_pins(const struct cfg_pin **out, const char **file);

#endif
