// SPDX-License-Identifier: GPL-2.0
/*
 * The configuration file. Nothing in it is trusted: every line is checked
 * (length, bytes, syntax, key, value range) before any of it is used, and
 * error messages quote what the file said with unprintable bytes masked.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "config.h"
#include "tunables.h"

static const char *const pin_keys[] = { [CFG_PIN - NR_SETTINGS] = "pin", [CFG_PIN_CGROUP - NR_SETTINGS] = "pin_cgroup" };

size_t config_nr_keys(void)
{
	return CFG_NR_DAEMON_KEYS + nr_tunables;
}

const char *config_key_name(size_t key)
{
	if (key < NR_SETTINGS)
		return settings[key].key;
	if (key < CFG_NR_DAEMON_KEYS)
		return pin_keys[key - NR_SETTINGS];
	if (key - CFG_NR_DAEMON_KEYS < nr_tunables)
		return tunables[key - CFG_NR_DAEMON_KEYS].name;
	return NULL;
}

static int key_index(const char *name)
{
	for (size_t k = 0; k < config_nr_keys(); k++)
		if (!strcmp(config_key_name(k), name))
			return (int)k;
	return -1;
}

void config_init(struct config *c, const char *name)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->path, sizeof(c->path), "%s", name);
	tunables_defaults(&c->tun);
	for (size_t i = 0; i < NR_SETTINGS; i++) {
		if (settings[i].type == SETTING_UINT)
			c->num[i] = settings[i].def;
		else
			snprintf(c->str[i], sizeof(c->str[i]), "%s", settings[i].def_str);
	}
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static char *trim(char *s)
{
	char *e;

	while (is_blank(*s))
		s++;
	e = s + strlen(s);
	while (e > s && is_blank(e[-1]))
		*--e = '\0';
	return s;
}

/*
 * A '#' starts a comment at the start of a line or after white space, so
 * "slice_ns = 5ms  # shorter" works and a '#' inside a word stays a value.
 */
static void strip_comment(char *s)
{
	for (char *p = s; *p; p++) {
		if (*p == '#' && (p == s || is_blank(p[-1]))) {
			*p = '\0';
			return;
		}
	}
}

/* Nearest known key for a typo of case or '-' for '_'; NULL if none. */
static const char *suggest_key(const char *key)
{
	char buf[CONFIG_MAX_LINE + 1];
	size_t i;
	int k;

	for (i = 0; key[i] && i < sizeof(buf) - 1; i++) {
		char c = key[i];

		buf[i] = c == '-' ? '_' : (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	buf[i] = '\0';
	k = key_index(buf);
	return k >= 0 ? config_key_name((size_t)k) : NULL;
}

static int set_value(struct config *c, int k, const char *val, char *err, size_t errlen)
{
	int ret;

	if (k >= CFG_NR_DAEMON_KEYS) {
		const struct tunable *t = &tunables[k - CFG_NR_DAEMON_KEYS];
		uint64_t v;
		int ret = tunable_parse(t, val, &v, err, errlen);

		if (ret) {
			/*
			 * tunable_parse quotes the value as given, and the line
			 * check lets bytes >= 0x80 through: mask them as every
			 * other message here does, since this one is logged (C1
			 * controls act on some terminals).
			 */
			for (char *p = err; *p; p++)
				if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
					*p = '?';
			return ret;
		}
		tunable_store(&c->tun, t, v);
		return 0;
	}
	ret = setting_parse(&settings[k], settings[k].key, false, val, &c->num[k], err, errlen);
	if (!ret && settings[k].type != SETTING_UINT)
		snprintf(c->str[k], sizeof(c->str[k]), "%s", val);
	return ret;
}

/* Does cgroup path @p have a ".." component? Rules never name anything outside the hierarchy. */
static bool has_dotdot(const char *p)
{
	for (const char *s = p; (s = strstr(s, "..")); s += 2)
		if ((s == p || s[-1] == '/') && (!s[2] || s[2] == '/'))
			return true;
	return false;
}

/*
 * "pin = PID NODE" and "pin_cgroup = PATH NODE": the one value with two
 * fields. Whether the process or cgroup and the node exist is the running
 * daemon's to check (and to log, naming this line): pids come and go.
 */
static int parse_pin(struct config *c, bool cgroup, char *val, unsigned int lineno, char *err, size_t errlen)
{
	const char *key = cgroup ? "pin_cgroup" : "pin";
	char *target = val, *node, *extra, q[80], qn[80];
	struct cfg_pin *p;
	unsigned int v;

	node = target + strcspn(target, " \t");
	if (*node)
		*node++ = '\0';
	node = trim(node);
	extra = node + strcspn(node, " \t");
	if (!*node || *extra) {
		/* The rest is the file's too: masked like the target, or its bytes >= 0x80 reach the log raw. */
		snprintf(err, errlen, "%s: expected '%s NODE', got '%s%s%s'", key, cgroup ? "PATH" : "PID",
			 quote_value(target, q, sizeof(q)), *node ? " " : "", quote_value(node, qn, sizeof(qn)));
		return -EINVAL;
	}
	if (c->nr_pins == CONFIG_MAX_PINS) {
		snprintf(err, errlen, "%s: too many pins (at most %d)", key, CONFIG_MAX_PINS);
		return -EINVAL;
	}
	p = &c->pins[c->nr_pins];
	memset(p, 0, sizeof(*p));
	p->cgroup = cgroup;
	p->line = lineno;
	if (options_parse_uint(node, 0, AN_MAX_NODE_ID - 1, &v)) {
		snprintf(err, errlen, "%s: invalid node '%s': expected a node id 0..%d", key, quote_value(node, q, sizeof(q)),
			 AN_MAX_NODE_ID - 1);
		return -EINVAL;
	}
	p->node = (int)v;
	if (cgroup) {
		if (target[0] != '/' || strlen(target) > CONFIG_PIN_PATH_MAX || has_dotdot(target)) {
			snprintf(err, errlen, "%s: invalid cgroup path '%s': expected an absolute path of at most %d "
				 "bytes without '..'", key, quote_value(target, q, sizeof(q)), CONFIG_PIN_PATH_MAX);
			return -EINVAL;
		}
		snprintf(p->path, sizeof(p->path), "%s", target);
	} else {
		if (options_parse_uint(target, 1, CONFIG_PID_MAX, &v)) {
			snprintf(err, errlen, "%s: invalid process id '%s': expected 1..%d", key,
				 quote_value(target, q, sizeof(q)), CONFIG_PID_MAX);
			return -EINVAL;
		}
		p->pid = (int)v;
	}
	for (unsigned int i = 0; i < c->nr_pins; i++) {
		const struct cfg_pin *o = &c->pins[i];

		if (o->cgroup == cgroup && (cgroup ? !strcmp(o->path, p->path) : o->pid == p->pid)) {
			snprintf(err, errlen, "%s: %s pinned twice (first on line %u)", key, quote_value(target, q, sizeof(q)),
				 o->line);
			return -EINVAL;
		}
	}
	c->nr_pins++;
	return 0;
}

static int parse_line(struct config *c, char *line, unsigned int lineno, char *err, size_t errlen)
{
	char *s, *eq, *key, *val, q[80];
	const char *hint;
	int k;

	strip_comment(line);
	s = trim(line);
	if (!*s)
		return 0;
	eq = strchr(s, '=');
	if (!eq) {
		snprintf(err, errlen, "syntax error: expected 'key = value', got '%s'", quote_value(s, q, sizeof(q)));
		return -EINVAL;
	}
	*eq = '\0';
	key = trim(s);
	val = trim(eq + 1);
	if (!*key) {
		snprintf(err, errlen, "syntax error: no key before '='");
		return -EINVAL;
	}
	k = key_index(key);
	if (k < 0) {
		hint = suggest_key(key);
		snprintf(err, errlen, "unknown key '%s'%s%s%s", quote_value(key, q, sizeof(q)),
			 hint ? " (did you mean '" : "; see scx-ai-numa.conf(5) for the keys",
			 hint ? hint : "", hint ? "'?)" : "");
		return -EINVAL;
	}
	if (c->line[k] && k != CFG_PIN && k != CFG_PIN_CGROUP) {
		snprintf(err, errlen, "%s set twice (first on line %u)", key, c->line[k]);
		return -EINVAL;
	}
	if (!*val) {
		snprintf(err, errlen, "%s: missing value", key);
		return -EINVAL;
	}
	if (!c->line[k])
		c->line[k] = lineno;
	if (k == CFG_PIN || k == CFG_PIN_CGROUP)
		return parse_pin(c, k == CFG_PIN_CGROUP, val, lineno, err, errlen);
	return set_value(c, k, val, err, errlen);
}

int config_parse(struct config *out, const char *name, const char *text, size_t len, char *err, size_t errlen)
{
	const char *p = text, *end = text + len;
	char line[CONFIG_MAX_LINE + 1], msg[512];
	unsigned int lineno = 0;
	struct config c;

	if (nr_tunables > CONFIG_MAX_TUNABLES) {
		snprintf(err, errlen, "%s: internal error: %zu tunables, CONFIG_MAX_TUNABLES is %d", name,
			 nr_tunables, CONFIG_MAX_TUNABLES);
		return -E2BIG;
	}
	if (len > CONFIG_MAX_BYTES) {
		snprintf(err, errlen, "%s: too large (%zu bytes, at most %d)", name, len, CONFIG_MAX_BYTES);
		return -EFBIG;
	}
	config_init(&c, name);
	c.found = true;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		int ret;

		lineno++;
		if (n > CONFIG_MAX_LINE) {
			snprintf(err, errlen, "%s:%u: line too long (at most %d bytes)", name, lineno, CONFIG_MAX_LINE);
			return -EINVAL;
		}
		if (memchr(p, '\0', n)) {
			snprintf(err, errlen, "%s:%u: NUL byte in line: not a text file", name, lineno);
			return -EINVAL;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		/* Values end up in log lines: no terminal escapes or other control bytes. */
		for (size_t i = 0; i < n; i++) {
			unsigned char ch = (unsigned char)line[i];

			if ((ch < 0x20 && !is_blank((char)ch)) || ch == 0x7f) {
				snprintf(err, errlen, "%s:%u: control character 0x%02x in line", name, lineno, ch);
				return -EINVAL;
			}
		}
		ret = parse_line(&c, line, lineno, msg, sizeof(msg));
		if (ret) {
			snprintf(err, errlen, "%s:%u: %s", name, lineno, msg);
			return ret;
		}
		p = nl ? nl + 1 : end;
	}
	*out = c;
	return 0;
}

/* Kernel interfaces that look like regular files but block, or change state, when read. */
static bool on_pseudo_fs(int fd)
{
	static const unsigned long magic[] = {
		PROC_SUPER_MAGIC, SYSFS_MAGIC, DEBUGFS_MAGIC, TRACEFS_MAGIC,
		SECURITYFS_MAGIC, CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC,
	};
	struct statfs sf;

	if (fstatfs(fd, &sf) < 0)
		return false;
	for (size_t i = 0; i < sizeof(magic) / sizeof(magic[0]); i++)
		if ((unsigned long)sf.f_type == magic[i])
			return true;
	return false;
}

/*
 * Opened non-blocking so that a FIFO or device named (or symlinked) here
 * cannot hang start-up or SIGHUP before the descriptor is checked. The file
 * chooses the socket and the group that controls the daemon: only root (or
 * the caller, for an unprivileged --check-config) may own it, and nobody
 * else may write it.
 */
static int config_open(const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return ret;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: fstat: %s", path, strerror(errno));
		goto fail;
	}
	ret = -EINVAL;
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	if (on_pseudo_fs(fd)) {
		snprintf(err, errlen, "%s: a kernel interface file (proc, sysfs, ...), not a configuration file", path);
		goto fail;
	}
	ret = -EPERM;
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s: owned by uid %u, not root; refusing to use it (chown root %s)",
			 path, (unsigned int)st.st_uid, path);
		goto fail;
	}
	if (st.st_mode & S_IWOTH) {
		snprintf(err, errlen, "%s: writable by everyone; refusing to use it (chmod o-w %s)", path, path);
		goto fail;
	}
	if (st.st_mode & S_IWGRP) {
		snprintf(err, errlen, "%s: writable by its group; refusing to use it (chmod g-w %s)", path, path);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return ret;
}

int config_load(struct config *c, const char *path, char *err, size_t errlen)
{
	size_t len = 0;
	char *buf;
	int fd, ret;

	fd = config_open(path, err, errlen);
	if (fd < 0)
		return fd;
	buf = malloc(CONFIG_MAX_BYTES + 1);
	if (!buf) {
		snprintf(err, errlen, "%s: out of memory", path);
		close(fd);
		return -ENOMEM;
	}
	/* Read one byte past the cap, so an oversized file is refused rather than cut. */
	while (len <= CONFIG_MAX_BYTES) {
		ssize_t n = read(fd, buf + len, CONFIG_MAX_BYTES + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			/* A regular file never does this: something that waits for data is behind it. */
			snprintf(err, errlen, "%s: read would block: not an ordinary file", path);
			ret = -EINVAL;
			goto out;
		}
		if (n < 0) {
			ret = -errno;
			snprintf(err, errlen, "%s: read: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	ret = config_parse(c, path, buf, len, err, errlen);
out:
	free(buf);
	close(fd);
	return ret;
}

int config_read(const struct options *o, bool startup, struct config *c, char *err, size_t errlen)
{
	int ret = config_load(c, o->config_path, err, errlen);

	if (ret == -ENOENT && startup && !o->config_given) {
		config_init(c, o->config_path);
		return 0;
	}
	return ret;
}

void config_to_options(const struct config *c, struct options *o, bool numbers_only)
{
	for (size_t i = 0; i < NR_SETTINGS; i++) {
		const struct setting *s = &settings[i];

		if (o->given & OPT_GIVEN(i))
			continue;
		if (s->type == SETTING_UINT)
			*options_uint(o, s) = c->num[i];
		else if (!numbers_only)
			*options_str(o, s) = c->str[i][0] ? c->str[i] : NULL;
	}
}

static void origin(const struct options *o, const struct config *c, size_t k, char *buf, size_t len)
{
	if (k < NR_SETTINGS && (o->given & OPT_GIVEN(k)))
		snprintf(buf, len, "command line");
	else if (k < sizeof(c->line) / sizeof(c->line[0]) && c->line[k])
		snprintf(buf, len, "%s:%u", c->path, c->line[k]);
	else
		snprintf(buf, len, "default");
}

int config_check(FILE *f, const struct options *o, const struct an_tunables *tun, const struct config *c,
		 char *err, size_t errlen)
{
	char from[300], val[SETTING_STR_MAX + 1];

	if (o->ctl_group && *o->ctl_group) {
		struct group gr, *res = NULL;
		char buf[4096];
		int ret = getgrnam_r(o->ctl_group, &gr, buf, sizeof(buf), &res);

		if (ret || !res) {
			origin(o, c, SETTING_GROUP, from, sizeof(from));
			snprintf(err, errlen, "%s: group '%s': %s", from, o->ctl_group,
				 ret ? strerror(ret) : "no such group");
			return ret ? -ret : -ENOENT;
		}
	}
	fprintf(f, "# %s: %s\n", o->config_path, c->found ? "valid" : "not found, built-in defaults");
	fprintf(f, "# effective settings, each with where it came from\n");
	for (size_t i = 0; i < NR_SETTINGS; i++) {
		const struct setting *s = &settings[i];

		origin(o, c, i, from, sizeof(from));
		options_format(o, s, val, sizeof(val));
		if (s->type == SETTING_GROUP_NAME && !*val)
			fprintf(f, "# %s: none, only root may change tunables  # %s\n", s->key, from);
		else
			fprintf(f, "%s = %s  # %s\n", s->key, val, from);
	}
	for (size_t i = 0; i < nr_tunables; i++) {
		tunable_format(&tunables[i], tunable_get(tun, &tunables[i]), val, sizeof(val));
		origin(o, c, CFG_NR_DAEMON_KEYS + i, from, sizeof(from));
		fprintf(f, "%s = %s  # %s\n", tunables[i].name, val, from);
	}
	/* Whether each target exists is known only while the daemon runs. */
	for (unsigned int i = 0; i < c->nr_pins; i++) {
		const struct cfg_pin *p = &c->pins[i];

		if (p->cgroup)
			fprintf(f, "pin_cgroup = %s %d  # %s:%u\n", p->path, p->node, c->path, p->line);
		else
			fprintf(f, "pin = %d %d  # %s:%u\n", p->pid, p->node, c->path, p->line);
	}
	return 0;
}
