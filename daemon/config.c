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
#include "daemon.h"
#include "log.h"
#include "tunables.h"

struct uint_key {
	enum cfg_key key;
	enum opt_field field;
	unsigned int lo, hi;
	const char *unit;
	size_t cfg_off, opt_off;
};

#define CFG_OFF(f)	offsetof(struct config, f)
#define OPT_OFF(f)	offsetof(struct options, f)

/*
 * interval_s takes 0 here although --interval does not: in the file it is
 * how the default ("no summary") is written out.
 */
static const struct uint_key uint_keys[] = {
	{ CFG_MAX_FAILURES, OPTF_MAX_FAILURES, MAX_FAILURES_MIN, MAX_FAILURES_MAX, "error exits",
	  CFG_OFF(max_failures), OPT_OFF(max_failures) },
	{ CFG_FAILURE_WINDOW, OPTF_FAILURE_WINDOW, FAILURE_WINDOW_S_MIN, FAILURE_WINDOW_S_MAX, "s",
	  CFG_OFF(failure_window_s), OPT_OFF(failure_window_s) },
	{ CFG_BACKOFF, OPTF_BACKOFF, BACKOFF_MS_MIN, BACKOFF_MS_MAX, "ms",
	  CFG_OFF(backoff_ms), OPT_OFF(backoff_ms) },
	{ CFG_INTERVAL, OPTF_INTERVAL, 0, INTERVAL_S_MAX, "s",
	  CFG_OFF(interval_s), OPT_OFF(interval_s) },
};
#define NR_UINT_KEYS	(sizeof(uint_keys) / sizeof(uint_keys[0]))

static const char *const daemon_keys[CFG_NR_DAEMON_KEYS] = {
	[CFG_SOCKET] = "socket",
	[CFG_GROUP] = "group",
	[CFG_MAX_FAILURES] = "max_failures",
	[CFG_FAILURE_WINDOW] = "failure_window_s",
	[CFG_BACKOFF] = "backoff_ms",
	[CFG_INTERVAL] = "interval_s",
	[CFG_PIN] = "pin",
	[CFG_PIN_CGROUP] = "pin_cgroup",
};

size_t config_nr_keys(void)
{
	return CFG_NR_DAEMON_KEYS + nr_tunables;
}

const char *config_key_name(size_t key)
{
	if (key < CFG_NR_DAEMON_KEYS)
		return daemon_keys[key];
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

static unsigned int *cfg_uint(struct config *c, const struct uint_key *u)
{
	return (unsigned int *)((char *)c + u->cfg_off);
}

static unsigned int *opt_uint(struct options *o, const struct uint_key *u)
{
	return (unsigned int *)((char *)o + u->opt_off);
}

void config_init(struct config *c, const char *name)
{
	struct options def;

	memset(c, 0, sizeof(*c));
	snprintf(c->path, sizeof(c->path), "%s", name);
	tunables_defaults(&c->tun);
	options_defaults(&def);
	for (size_t i = 0; i < NR_UINT_KEYS; i++)
		*cfg_uint(c, &uint_keys[i]) = *opt_uint(&def, &uint_keys[i]);
	snprintf(c->socket, sizeof(c->socket), "%s", def.socket_path);
}

/* What the file said, safe to put in a log line: at most 64 bytes, unprintables as '?'. */
static const char *quote(const char *s, char *buf, size_t len)
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

static bool valid_group_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > CONFIG_GROUP_MAX || *s == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.' || (c == '$' && i == n - 1)))
			return false;
	}
	return true;
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
	char q[80];

	if (k >= CFG_NR_DAEMON_KEYS) {
		const struct tunable *t = &tunables[k - CFG_NR_DAEMON_KEYS];
		uint64_t v;
		int ret = tunable_parse(t, val, &v, err, errlen);

		if (ret)
			return ret;
		tunable_store(&c->tun, t, v);
		return 0;
	}
	switch (k) {
	case CFG_SOCKET:
		if (val[0] != '/' || strlen(val) > SOCKET_PATH_MAX) {
			snprintf(err, errlen, "socket: invalid value '%s': expected an absolute path of at most %d bytes",
				 quote(val, q, sizeof(q)), SOCKET_PATH_MAX);
			return -EINVAL;
		}
		snprintf(c->socket, sizeof(c->socket), "%s", val);
		return 0;
	case CFG_GROUP:
		if (!valid_group_name(val)) {
			snprintf(err, errlen, "group: invalid group name '%s'", quote(val, q, sizeof(q)));
			return -EINVAL;
		}
		snprintf(c->group, sizeof(c->group), "%s", val);
		return 0;
	}
	for (size_t i = 0; i < NR_UINT_KEYS; i++) {
		const struct uint_key *u = &uint_keys[i];
		int ret;

		if ((int)u->key != k)
			continue;
		ret = options_parse_uint(val, u->lo, u->hi, cfg_uint(c, u));
		if (ret)
			snprintf(err, errlen, "%s: %s '%s': expected %u..%u %s", daemon_keys[k],
				 ret == -ERANGE ? "out of range" : "invalid value", quote(val, q, sizeof(q)),
				 u->lo, u->hi, u->unit);
		return ret;
	}
	snprintf(err, errlen, "internal error: key %d has no parser", k);
	return -EINVAL;
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
	char *target = val, *node, *extra, q[80];
	struct cfg_pin *p;
	unsigned int v;

	node = target + strcspn(target, " \t");
	if (*node)
		*node++ = '\0';
	node = trim(node);
	extra = node + strcspn(node, " \t");
	if (!*node || *extra) {
		snprintf(err, errlen, "%s: expected '%s NODE', got '%s%s%s'", key, cgroup ? "PATH" : "PID",
			 quote(target, q, sizeof(q)), *node ? " " : "", *node ? node : "");
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
		snprintf(err, errlen, "%s: invalid node '%s': expected a node id 0..%d", key, quote(node, q, sizeof(q)),
			 AN_MAX_NODE_ID - 1);
		return -EINVAL;
	}
	p->node = (int)v;
	if (cgroup) {
		if (target[0] != '/' || strlen(target) > CONFIG_PIN_PATH_MAX || has_dotdot(target)) {
			snprintf(err, errlen, "%s: invalid cgroup path '%s': expected an absolute path of at most %d "
				 "bytes without '..'", key, quote(target, q, sizeof(q)), CONFIG_PIN_PATH_MAX);
			return -EINVAL;
		}
		snprintf(p->path, sizeof(p->path), "%s", target);
	} else {
		if (options_parse_uint(target, 1, CONFIG_PID_MAX, &v)) {
			snprintf(err, errlen, "%s: invalid process id '%s': expected 1..%d", key,
				 quote(target, q, sizeof(q)), CONFIG_PID_MAX);
			return -EINVAL;
		}
		p->pid = (int)v;
	}
	for (unsigned int i = 0; i < c->nr_pins; i++) {
		const struct cfg_pin *o = &c->pins[i];

		if (o->cgroup == cgroup && (cgroup ? !strcmp(o->path, p->path) : o->pid == p->pid)) {
			snprintf(err, errlen, "%s: %s pinned twice (first on line %u)", key, quote(target, q, sizeof(q)),
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
		snprintf(err, errlen, "syntax error: expected 'key = value', got '%s'", quote(s, q, sizeof(q)));
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
		snprintf(err, errlen, "unknown key '%s'%s%s%s", quote(key, q, sizeof(q)),
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

/* A missing file is the built-in defaults, unless the user named it. */
static int load_or_defaults(struct config *c, const struct options *o, char *err, size_t errlen)
{
	int ret = config_load(c, o->config_path, err, errlen);

	if (ret == -ENOENT && !o->config_given) {
		config_init(c, o->config_path);
		return 0;
	}
	return ret;
}

/* What config_startup() loaded; the options point into it for the life of the process. */
static struct config boot;

/* The pins of the configuration in effect: boot's, then each successful reload's. */
static struct cfg_pin cur_pins[CONFIG_MAX_PINS];
static size_t nr_cur_pins;
static char cur_path[sizeof(boot.path)];

static void take_pins(const struct config *c)
{
	memcpy(cur_pins, c->pins, c->nr_pins * sizeof(c->pins[0]));
	nr_cur_pins = c->nr_pins;
	snprintf(cur_path, sizeof(cur_path), "%s", c->path);
}

size_t config_pins(const struct cfg_pin **out, const char **file)
{
	*out = cur_pins;
	*file = cur_path;
	return nr_cur_pins;
}

int config_startup(struct options *o, struct an_tunables *tun, char *err, size_t errlen)
{
	int ret = load_or_defaults(&boot, o, err, errlen);

	if (ret)
		return ret;
	for (size_t i = 0; i < NR_UINT_KEYS; i++) {
		const struct uint_key *u = &uint_keys[i];

		if (boot.line[u->key] && !(o->given & OPT_GIVEN(u->field)))
			*opt_uint(o, u) = *cfg_uint(&boot, u);
	}
	if (boot.line[CFG_SOCKET] && !(o->given & OPT_GIVEN(OPTF_SOCKET)))
		o->socket_path = boot.socket;
	if (boot.line[CFG_GROUP] && !(o->given & OPT_GIVEN(OPTF_GROUP)))
		o->ctl_group = boot.group;
	*tun = boot.tun;
	take_pins(&boot);
	return 0;
}

static void origin(const struct options *o, int k, int field, char *buf, size_t len)
{
	if (field >= 0 && (o->given & OPT_GIVEN(field)))
		snprintf(buf, len, "command line");
	else if (k < (int)(sizeof(boot.line) / sizeof(boot.line[0])) && boot.line[k])
		snprintf(buf, len, "%s:%u", boot.path, boot.line[k]);
	else
		snprintf(buf, len, "default");
}

int config_check(FILE *f, const struct options *o, const struct an_tunables *tun, char *err, size_t errlen)
{
	char from[300], val[32];

	if (o->ctl_group && *o->ctl_group) {
		struct group gr, *res = NULL;
		char buf[4096];
		int ret = getgrnam_r(o->ctl_group, &gr, buf, sizeof(buf), &res);

		if (ret || !res) {
			origin(o, CFG_GROUP, OPTF_GROUP, from, sizeof(from));
			snprintf(err, errlen, "%s: group '%s': %s", from, o->ctl_group,
				 ret ? strerror(ret) : "no such group");
			return ret ? -ret : -ENOENT;
		}
	}
	fprintf(f, "# %s: %s\n", o->config_path,
		boot.found ? "valid" : "not found, built-in defaults");
	fprintf(f, "# effective settings, each with where it came from\n");
	origin(o, CFG_SOCKET, OPTF_SOCKET, from, sizeof(from));
	fprintf(f, "socket = %s  # %s\n", o->socket_path, from);
	origin(o, CFG_GROUP, OPTF_GROUP, from, sizeof(from));
	if (o->ctl_group)
		fprintf(f, "group = %s  # %s\n", o->ctl_group, from);
	else
		fprintf(f, "# group: none, only root may change tunables  # %s\n", from);
	for (size_t i = 0; i < NR_UINT_KEYS; i++) {
		const struct uint_key *u = &uint_keys[i];

		origin(o, u->key, u->field, from, sizeof(from));
		fprintf(f, "%s = %u  # %s\n", daemon_keys[u->key],
			*(const unsigned int *)((const char *)o + u->opt_off), from);
	}
	for (size_t i = 0; i < nr_tunables; i++) {
		tunable_format(&tunables[i], tunable_get(tun, &tunables[i]), val, sizeof(val));
		origin(o, CFG_NR_DAEMON_KEYS + (int)i, -1, from, sizeof(from));
		fprintf(f, "%s = %s  # %s\n", tunables[i].name, val, from);
	}
	/* Whether each target exists is known only while the daemon runs. */
	for (unsigned int i = 0; i < boot.nr_pins; i++) {
		const struct cfg_pin *p = &boot.pins[i];

		if (p->cgroup)
			fprintf(f, "pin_cgroup = %s %d  # %s:%u\n", p->path, p->node, boot.path, p->line);
		else
			fprintf(f, "pin = %d %d  # %s:%u\n", p->pid, p->node, boot.path, p->line);
	}
	return 0;
}

int config_reload(struct daemon *d, char *err, size_t errlen)
{
	struct options *o = &d->opt;
	struct config next;
	int ret, changes = 0;

	ret = load_or_defaults(&next, o, err, errlen);
	if (ret)
		return ret;

	/* Tunables become what a fresh start would give: a key taken out returns to its default. */
	for (size_t i = 0; i < nr_tunables; i++) {
		const struct tunable *t = &tunables[i];
		uint64_t v = tunable_get(&next.tun, t);
		char msg[256];

		if (v == tunable_get(&d->tun, t))
			continue;
		/* Cannot fail: the value passed tunable_parse's range check. */
		if (daemon_set_tunable(d, t, v, msg, sizeof(msg)) < 0)
			log_err("reload: %s", msg);
		else
			changes++;
	}
	for (size_t i = 0; i < NR_UINT_KEYS; i++) {
		const struct uint_key *u = &uint_keys[i];
		unsigned int *cur = opt_uint(o, u), v = *cfg_uint(&next, u);

		if ((o->given & OPT_GIVEN(u->field)) || v == *cur)
			continue;
		log_info("%s: %u -> %u", daemon_keys[u->key], *cur, v);
		*cur = v;
		changes++;
	}
	/* The socket is bound and its group set once; moving them under running clients is not worth it. */
	if (!(o->given & OPT_GIVEN(OPTF_SOCKET)) && strcmp(next.socket, o->socket_path))
		log_warn("reload: socket %s: takes effect when the daemon restarts; still listening on %s",
			 next.socket, o->socket_path);
	if (!(o->given & OPT_GIVEN(OPTF_GROUP)) && strcmp(next.group, o->ctl_group ? o->ctl_group : ""))
		log_warn("reload: group '%s': takes effect when the daemon restarts; still '%s'", next.group,
			 o->ctl_group ? o->ctl_group : "");
	/* The pins are placement's to apply (placement_reload()): they need the running scheduler. */
	take_pins(&next);
	log_info("reloaded %s: %d setting%s changed", next.found ? next.path : "built-in defaults", changes,
		 changes == 1 ? "" : "s");
	return changes;
}
