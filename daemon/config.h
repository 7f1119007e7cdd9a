/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The configuration file: `key = value` lines and `#` comments. Keys are the
 * tunables table's names plus the daemon's own settings. A file is parsed
 * whole into a fresh struct config and used only when every line is valid,
 * so a bad file never leaves anything half-applied. The command line wins
 * over the file for every setting it gives. A config is a value: this
 * module keeps no state and applies nothing; main.c applies what it reads.
 */
#ifndef SCX_AI_NUMA_CONFIG_H
#define SCX_AI_NUMA_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "intf.h"
#include "options.h"
#include "settings.h"

#define CONFIG_MAX_BYTES	(64 * 1024)	/* a config file is a few hundred bytes */
#define CONFIG_MAX_LINE		1024
#define CONFIG_MAX_TUNABLES	64

/* Keys: the settings table's (enum setting_id), the pins, then the tunables. */
enum cfg_key {
	CFG_PIN = NR_SETTINGS,	/* repeatable: pin = PID NODE */
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
	unsigned int num[NR_SETTINGS];	/* SETTING_UINT settings, by enum setting_id */
	char str[NR_SETTINGS][SETTING_STR_MAX + 1];	/* the others */
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
 * Load o->config_path. When @startup, a missing file that --config did not
 * name means the built-in defaults; otherwise (a reload) a missing file is
 * -ENOENT like any other error, so the running settings stay. *c is
 * untouched on any error, with the reason in @err.
 */
int config_read(const struct options *o, bool startup, struct config *c, char *err, size_t errlen);

/*
 * Take @c's settings that the command line did not give into @o; a setting
 * the file does not set is its default, as at a fresh start. Strings
 * point into @c, which must then live as long as @o. With @numbers_only the
 * strings (socket and group: bound once, at startup) are left alone.
 */
void config_to_options(const struct config *c, struct options *o, bool numbers_only);

/*
 * --check-config: what config_read() cannot know without the system's
 * databases (the control group exists), then the effective settings @o and
 * @tun in the file's own syntax, each with where it came from (@c, the file
 * they were read from). Returns 0 or -errno with the reason in @err.
 */
int config_check(FILE *f, const struct options *o, const struct an_tunables *tun, const struct config *c,
		 char *err, size_t errlen);

#endif
