// SPDX-License-Identifier: GPL-2.0
/*
 * Configuration file: every class of error is refused with name:line and
 * leaves the previous configuration untouched; valid files set exactly the
 * keys they name; the command line wins over the file; reading has no side
 * effects; a reload never falls back to defaults because the file is gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "tunables.h"

/* ---- helpers --------------------------------------------------------------- */

static char err[1024];
static char dir[] = "/tmp/test_config.XXXXXX";

static const struct tunable *must_find(const char *name)
{
	const struct tunable *t = tunable_find(name);

	if (!t)
		check_bail("tunable %s missing from the table", name);
	return t;
}

static int parse(struct config *c, const char *text)
{
	err[0] = '\0';
	return config_parse(c, "test.conf", text, strlen(text), err, sizeof(err));
}

static const char *write_file(const char *name, const char *text, mode_t mode)
{
	static char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		check_bail("cannot write %s", path);
	if (chmod(path, mode) < 0)
		check_bail("cannot chmod %s", path);
	return path;
}

/* The error is refused with the expected line number, and the config is untouched. */
static void refused(const char *text, int want_ret, const char *want_loc, const char *want_msg, const char *what)
{
	struct config c, before;
	int ret;

	config_init(&c, "sentinel");
	tunable_store(&c.tun, must_find("slice_ns"), 777777);
	before = c;
	ret = parse(&c, text);
	CHECK_INT(ret, want_ret, "%s: refused", what);
	CHECK(!strncmp(err, want_loc, strlen(want_loc)), "%s: error starts with '%s': %s", what, want_loc, err);
	CHECK(strstr(err, want_msg) != NULL, "%s: error says '%s'", what, want_msg);
	CHECK(!memcmp(&c, &before, sizeof(c)), "%s: nothing applied", what);
}

/* ---- tests ------------------------------------------------------------------ */

static void test_keys(void)
{
	size_t n = config_nr_keys();
	bool unique = true;

	CHECK_INT(n, CFG_NR_DAEMON_KEYS + nr_tunables, "keys: the daemon's plus one per tunable");
	CHECK(nr_tunables <= CONFIG_MAX_TUNABLES, "the tunables table fits the config's line array");
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (!strcmp(config_key_name(i), config_key_name(j)))
				unique = false;
	CHECK(unique, "key names are unique");
	CHECK(config_key_name(n) == NULL, "no key past the end");
	for (size_t i = 0; i < nr_tunables; i++)
		CHECK(!strcmp(config_key_name(CFG_NR_DAEMON_KEYS + i), tunables[i].name),
		      "tunable %s is a config key", tunables[i].name);
}

static void test_valid(void)
{
	struct config c, def;
	struct an_tunables dt;

	tunables_defaults(&dt);
	config_init(&def, "x");
	CHECK_INT(parse(&c, ""), 0, "an empty file is valid");
	CHECK(c.found && !memcmp(&c.tun, &dt, sizeof(dt)), "empty file: table defaults");
	CHECK(c.num[SETTING_MAX_FAILURES] == def.num[SETTING_MAX_FAILURES] &&
	      !strcmp(c.str[SETTING_SOCKET], DEFAULT_SOCKET_PATH),
	      "empty file: daemon defaults");
	for (size_t k = 0; k < config_nr_keys(); k++)
		if (c.line[k])
			CHECK(0, "empty file set key %s", config_key_name(k));

	CHECK_INT(parse(&c, "# comment\n\n   \t\n  # indented comment\n"), 0, "comments and blank lines only");

	CHECK_INT(parse(&c,
			"slice_ns = 5ms\n"
			"steal=off\n"
			"  steal_min_queued\t=   8   \n"
			"home_move_ns = 2s # a trailing comment\n"
			"max_failures = 9\n"
			"failure_window_s = 120\r\n"
			"backoff_ms = 1000\n"
			"interval_s = 0\n"
			"socket = /run/x/ctl#1.sock\n"
			"group = gpu-admins\n"
			"warm_pick = no"),
		  0, "a file setting every kind of key: %s", err);
	CHECK_INT(tunable_get(&c.tun, must_find("slice_ns")), 5000000, "slice_ns takes a unit suffix");
	CHECK_INT(tunable_get(&c.tun, must_find("steal")), 0, "steal=off without spaces");
	CHECK_INT(tunable_get(&c.tun, must_find("steal_min_queued")), 8, "blanks around key and value trimmed");
	CHECK_INT(tunable_get(&c.tun, must_find("home_move_ns")), 2000000000ULL, "a '#' after a blank starts a comment");
	CHECK_INT(tunable_get(&c.tun, must_find("warm_pick")), 0, "last line without a newline");
	CHECK_INT(tunable_get(&c.tun, must_find("remote_idle")), must_find("remote_idle")->def,
		  "a key not in the file keeps its default");
	CHECK(c.line[CFG_NR_DAEMON_KEYS + (must_find("remote_idle") - tunables)] == 0,
	      "a key not in the file is not marked as set");
	CHECK_INT(c.num[SETTING_MAX_FAILURES], 9, "max_failures");
	CHECK_INT(c.num[SETTING_FAILURE_WINDOW], 120, "failure_window_s with a CRLF line end");
	CHECK_INT(c.num[SETTING_BACKOFF], 1000, "backoff_ms");
	CHECK_INT(c.num[SETTING_INTERVAL], 0, "interval_s = 0 (never) is valid in the file");
	CHECK(!strcmp(c.str[SETTING_SOCKET], "/run/x/ctl#1.sock"), "a '#' inside a word stays in the value: %s",
	      c.str[SETTING_SOCKET]);
	CHECK(!strcmp(c.str[SETTING_GROUP], "gpu-admins"), "group");
	CHECK_INT(c.line[SETTING_GROUP], 10, "the line of each key is recorded");
}

static void test_errors(void)
{
	char big[CONFIG_MAX_BYTES + 2], longline[CONFIG_MAX_LINE + 20];
	char nul[] = "steal = on\nslice_ns = 5ms\0x\n";
	struct config c;

	refused("steal = on\nslice_ns 5ms\n", -EINVAL, "test.conf:2:", "syntax error", "no '='");
	refused("[scheduler]\n", -EINVAL, "test.conf:1:", "expected 'key = value'", "an ini section header");
	refused(" = 5\n", -EINVAL, "test.conf:1:", "no key", "no key before '='");
	refused("\n\nslice = 5ms\n", -EINVAL, "test.conf:3:", "unknown key 'slice'", "unknown key");
	refused("max-failures = 3\n", -EINVAL, "test.conf:1:", "did you mean 'max_failures'", "a '-' for '_' is named");
	refused("Slice_NS = 3ms\n", -EINVAL, "test.conf:1:", "did you mean 'slice_ns'", "keys are lower case");
	refused("steal = on\nsteal = off\n", -EINVAL, "test.conf:2:", "set twice (first on line 1)", "duplicate key");
	refused("steal =\n", -EINVAL, "test.conf:1:", "steal: missing value", "empty value");
	refused("steal = # nothing\n", -EINVAL, "test.conf:1:", "missing value", "a value that is only a comment");
	refused("steal = maybe\n", -EINVAL, "test.conf:1:", "expected on or off", "bad boolean");
	refused("slice_ns = 5 ms\n", -EINVAL, "test.conf:1:", "invalid value '5 ms'", "blank inside a value");
	refused("slice_ns = 5\n", -ERANGE, "test.conf:1:", "out of range", "tunable below its minimum");
	refused("slice_ns = 99999999999999999999999\n", -ERANGE, "test.conf:1:", "out of range", "tunable overflow");
	refused("steal_min_queued = -1\n", -EINVAL, "test.conf:1:", "invalid value", "negative tunable");
	refused("max_failures = 0\n", -ERANGE, "test.conf:1:", "max_failures: out of range '0': expected 1..1000",
		"max_failures below range");
	refused("failure_window_s = 86401\n", -ERANGE, "test.conf:1:", "expected 1..86400", "window above range");
	refused("backoff_ms = 5\n", -ERANGE, "test.conf:1:", "expected 10..60000", "backoff below range");
	refused("interval_s = 10s\n", -EINVAL, "test.conf:1:", "invalid value '10s'", "suffix on a plain number");
	refused("interval_s = 3601\n", -ERANGE, "test.conf:1:", "expected 0..3600", "interval above range");
	refused("backoff_ms = 99999999999999999999\n", -ERANGE, "test.conf:1:", "out of range", "number overflow");
	refused("socket = run/ctl.sock\n", -EINVAL, "test.conf:1:", "absolute path", "relative socket path");
	refused("socket = \"/run/ctl.sock\"\n", -EINVAL, "test.conf:1:", "absolute path", "quoted socket path");
	refused("socket = /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
		-EINVAL, "test.conf:1:", "at most 107 bytes", "socket path too long for sun_path");
	refused("group = gpu admins\n", -EINVAL, "test.conf:1:", "invalid group name", "group with a blank");
	refused("group = -x\n", -EINVAL, "test.conf:1:", "invalid group name", "group starting with '-'");
	refused("steal = on\nslice_ns = 5ms\x1b[31m\n", -EINVAL, "test.conf:2:", "control character 0x1b",
		"a terminal escape is refused before it can reach a log line");
	refused("steal = o\bon\n", -EINVAL, "test.conf:1:", "control character 0x08", "a backspace is refused");
	refused("group = gr\xc3\xbcn\n", -EINVAL, "test.conf:1:", "invalid group name 'gr??n'",
		"bytes outside printable ASCII are masked in messages");

	memset(longline, 'x', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	memcpy(longline, "# ", 2);
	refused(longline, -EINVAL, "test.conf:1:", "line too long", "a line over the cap, even a comment");

	config_init(&c, "x");
	err[0] = '\0';
	CHECK_INT(config_parse(&c, "test.conf", nul, sizeof(nul) - 1, err, sizeof(err)), -EINVAL, "NUL byte refused");
	CHECK(strstr(err, "test.conf:2:") && strstr(err, "NUL"), "NUL byte: located: %s", err);

	memset(big, '#', sizeof(big));
	big[CONFIG_MAX_BYTES / 2] = '\n';
	err[0] = '\0';
	CHECK_INT(config_parse(&c, "test.conf", big, CONFIG_MAX_BYTES + 1, err, sizeof(err)), -EFBIG,
		  "a file over %d bytes refused", CONFIG_MAX_BYTES);
	CHECK(strstr(err, "too large") != NULL, "too large: explained: %s", err);
}

static void test_load(void)
{
	struct config c, before;
	const char *p;

	config_init(&c, "x");
	p = write_file("good.conf", "steal = off\n", 0644);
	CHECK_INT(config_load(&c, p, err, sizeof(err)), 0, "config_load reads a file: %s", err);
	CHECK(c.found && tunable_get(&c.tun, must_find("steal")) == 0, "config_load: values from the file");
	CHECK(!strcmp(c.path, p), "config_load: messages name the path");

	before = c;
	p = write_file("bad.conf", "steal = on\nbogus = 1\n", 0644);
	CHECK_INT(config_load(&c, p, err, sizeof(err)), -EINVAL, "config_load: a bad file refused");
	CHECK(strstr(err, "bad.conf:2: unknown key 'bogus'") != NULL, "config_load: path:line in the error: %s", err);
	CHECK(!memcmp(&c, &before, sizeof(c)), "config_load: a bad file changes nothing");

	{
		char missing[PATH_MAX];

		snprintf(missing, sizeof(missing), "%s/missing.conf", dir);
		CHECK_INT(config_load(&c, missing, err, sizeof(err)), -ENOENT, "a missing file is -ENOENT");
	}

	CHECK_INT(config_load(&c, dir, err, sizeof(err)), -EINVAL, "a directory is refused");
	CHECK(strstr(err, "not a regular file") != NULL, "directory: explained: %s", err);

	p = write_file("open.conf", "steal = off\n", 0666);
	CHECK_INT(config_load(&c, p, err, sizeof(err)), -EPERM, "a world-writable file is refused");
	CHECK(strstr(err, "writable by everyone") != NULL, "world-writable: explained: %s", err);
}

/*
 * config_load() in a child that SIGALRM kills after 3 s, so a load that
 * blocks fails the check instead of hanging the suite. Returns what
 * config_load() returned (its message in err), or INT_MIN if it blocked.
 */
static int load_bounded(const char *path)
{
	struct { int ret; char msg[512]; } res = { INT_MIN, "" };
	int fds[2], status;
	pid_t pid;

	err[0] = '\0';
	if (pipe(fds) < 0)
		check_bail("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		check_bail("fork: %s", strerror(errno));
	if (!pid) {
		struct config c;

		close(fds[0]);
		config_init(&c, "x");
		alarm(3);
		res.ret = config_load(&c, path, res.msg, sizeof(res.msg));
		if (write(fds[1], &res, sizeof(res)) != (ssize_t)sizeof(res))
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	if (read(fds[0], &res, sizeof(res)) != (ssize_t)sizeof(res))
		res.ret = INT_MIN;
	close(fds[0]);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		res.ret = INT_MIN;
	snprintf(err, sizeof(err), "%s", res.ret == INT_MIN ? "(blocked or died)" : res.msg);
	return res.ret;
}

/* Files that are not ordinary configuration files, and who may own and write one. */
static void test_load_kinds(void)
{
	char fifo[PATH_MAX], link[PATH_MAX];
	const char *p;
	int ret;

	snprintf(fifo, sizeof(fifo), "%s/fifo.conf", dir);
	if (mkfifo(fifo, 0600) < 0)
		check_bail("mkfifo: %s", strerror(errno));
	CHECK_INT(load_bounded(fifo), -EINVAL, "a FIFO is refused at once, without waiting for a writer");
	CHECK(strstr(err, "not a regular file") != NULL, "FIFO: explained: %s", err);

	snprintf(link, sizeof(link), "%s/fifo-link.conf", dir);
	if (symlink(fifo, link) < 0)
		check_bail("symlink: %s", strerror(errno));
	CHECK_INT(load_bounded(link), -EINVAL, "a symlink to a FIFO is refused at once");

	p = write_file("group.conf", "steal = off\n", 0664);
	CHECK_INT(load_bounded(p), -EPERM, "a group-writable file is refused");
	CHECK(strstr(err, "writable by its group") != NULL, "group-writable: explained: %s", err);

	p = write_file("target.conf", "steal = off\n", 0644);
	snprintf(link, sizeof(link), "%s/link.conf", dir);
	if (symlink(p, link) < 0)
		check_bail("symlink: %s", strerror(errno));
	CHECK_INT(load_bounded(link), 0, "a symlink to a regular file of ours is read: %s", err);

	if (geteuid() == 0) {
		p = write_file("foreign.conf", "steal = off\n", 0644);
		if (chown(p, 65534, 0) < 0)
			check_bail("chown: %s", strerror(errno));
		CHECK_INT(load_bounded(p), -EPERM, "a file owned by another user is refused");
		CHECK(strstr(err, "owned by uid 65534") != NULL, "foreign owner: explained: %s", err);
	} else {
		check_skip("needs root to give a file away");
	}

	/* Regular, root's and read-only by stat(), yet the kernel's: never a config. */
	CHECK_INT(load_bounded("/proc/self/status"), -EINVAL, "a procfs file is refused");
	CHECK(strstr(err, "kernel interface") != NULL, "procfs: explained: %s", err);

	/* /proc/kmsg blocks (and consumes records) on read: refused without reading. */
	if (access("/proc/kmsg", F_OK) == 0) {
		snprintf(link, sizeof(link), "%s/kmsg.conf", dir);
		if (symlink("/proc/kmsg", link) < 0)
			check_bail("symlink: %s", strerror(errno));
		ret = load_bounded(link);
		CHECK(ret != INT_MIN && ret < 0, "a symlink to /proc/kmsg is refused without blocking: %s", err);
	} else {
		check_skip("no /proc/kmsg");
	}
}

/* What main.c does at startup: read, then take the settings the command line did not give. */
static int startup_opts(struct options *o, struct an_tunables *tun)
{
	static struct config boot;
	int ret = config_read(o, true, &boot, err, sizeof(err));

	if (ret)
		return ret;
	config_to_options(&boot, o, false);
	*tun = boot.tun;
	return 0;
}

static int startup(struct options *o, struct an_tunables *tun, const char *const *args)
{
	char *argv[16];
	int argc = 0;

	argv[argc++] = (char *)"scx_ai_numad";
	while (*args && argc < 15)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	if (options_parse(argc, argv, o, err, sizeof(err)) != OPT_OK)
		check_bail("options_parse: %s", err);
	err[0] = '\0';
	return startup_opts(o, tun);
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void test_startup(void)
{
	char missing[PATH_MAX];
	struct an_tunables tun;
	struct options o;
	const char *p;

	p = write_file("startup.conf",
		       "max_failures = 9\nbackoff_ms = 1000\ninterval_s = 7\nsocket = /run/t/s.sock\n"
		       "group = staff\nslice_ns = 1ms\n", 0644);
	CHECK_INT(startup(&o, &tun, ARGS("-c", p)), 0, "startup with --config: %s", err);
	CHECK(o.max_failures == 9 && o.backoff_ms == 1000 && o.interval_s == 7, "file values used");
	CHECK(!strcmp(o.socket_path, "/run/t/s.sock") && o.ctl_group && !strcmp(o.ctl_group, "staff"),
	      "file socket and group used");
	CHECK_INT(tunable_get(&tun, must_find("slice_ns")), 1000000, "file tunables used");
	CHECK_INT(o.failure_window_s, 60, "a key not in the file keeps the built-in default");

	CHECK_INT(startup(&o, &tun, ARGS("--config", p, "--max-failures", "3", "-s", "/tmp/cli.sock",
					 "-g", "wheel", "-i", "2")), 0, "startup with flags");
	CHECK_INT(o.max_failures, 3, "--max-failures wins over the file");
	CHECK_INT(o.interval_s, 2, "--interval wins over the file");
	CHECK(!strcmp(o.socket_path, "/tmp/cli.sock"), "--socket wins over the file");
	CHECK(!strcmp(o.ctl_group, "wheel"), "--group wins over the file");
	CHECK_INT(o.backoff_ms, 1000, "a setting without a flag still comes from the file");

	CHECK_INT(startup(&o, &tun, ARGS("-c", p, "-v")), 0, "startup with -v");
	CHECK_INT(o.interval_s, 1, "-v's one-second summary wins over the file's interval_s");

	snprintf(missing, sizeof(missing), "%s/nothere.conf", dir);
	CHECK_INT(startup(&o, &tun, ARGS("-c", missing)), -ENOENT, "a missing file named with --config is an error");
	CHECK(strstr(err, "nothere.conf") != NULL, "missing file: named: %s", err);

	/* The default path is compiled in; emulate "not named" with a path that does not exist. */
	options_defaults(&o);
	o.config_path = missing;
	err[0] = '\0';
	CHECK_INT(startup_opts(&o, &tun), 0, "a missing default file means built-in defaults");
	CHECK_INT(tunable_get(&tun, must_find("slice_ns")), must_find("slice_ns")->def, "defaults: slice_ns");

	p = write_file("bad-startup.conf", "max_failures = 9\nsteal = sometimes\n", 0644);
	options_defaults(&o);
	o.config_path = p;
	CHECK_INT(startup_opts(&o, &tun), -EINVAL, "startup refuses a bad file");
	CHECK_INT(o.max_failures, 5, "startup: a bad file's valid lines are not applied either");
}

/*
 * A reload reads the file again: the command line still wins, a key taken
 * out returns to its default, and a file that is gone is an error, whether
 * or not --config named it; the caller then keeps the running settings.
 */
static void test_reload(void)
{
	const struct tunable *slice = must_find("slice_ns");
	static struct config next;
	struct options o, before;
	const char *p;
	char *argv[] = { (char *)"scx_ai_numad", (char *)"--backoff-ms", (char *)"500", NULL };
	int ret;

	p = write_file("reload.conf", "slice_ns = 4ms\nsteal = off\nmax_failures = 8\nbackoff_ms = 20\n"
		       "socket = /run/new.sock\n", 0644);
	if (options_parse(3, argv, &o, err, sizeof(err)) != OPT_OK)
		check_bail("reload fixture: %s", err);
	/* The default file, not named with --config: */
	o.config_path = p;
	CHECK_INT(config_read(&o, false, &next, err, sizeof(err)), 0, "reload reads the file: %s", err);
	CHECK_INT(tunable_get(&next.tun, slice), 4000000, "reload: the file's tunables");
	before = o;
	config_to_options(&next, &o, true);
	CHECK_INT(o.max_failures, 8, "reload: restart policy taken");
	CHECK_INT(o.backoff_ms, 500, "reload: --backoff-ms still wins over the file");
	CHECK(o.socket_path == before.socket_path, "reload: the socket is not moved under running clients");

	write_file("reload.conf", "steal = off\n", 0644);
	CHECK_INT(config_read(&o, false, &next, err, sizeof(err)), 0, "reload of a smaller file");
	CHECK_INT(tunable_get(&next.tun, slice), slice->def, "reload: a key taken out returns to its default");
	config_to_options(&next, &o, true);
	CHECK_INT(o.max_failures, 5, "reload: max_failures taken out returns to its default");

	unlink(p);
	memset(&next, 0x5a, sizeof(next));
	before.config_given = false;
	ret = config_read(&before, false, &next, err, sizeof(err));
	CHECK_INT(ret, -ENOENT, "reload: the default file vanished: an error, not the built-in defaults");
	CHECK(strstr(err, "reload.conf") != NULL, "reload: vanished file named: %s", err);
	CHECK(((unsigned char *)&next)[0] == 0x5a, "reload: vanished file: nothing read");
	before.config_given = true;
	CHECK_INT(config_read(&before, false, &next, err, sizeof(err)), -ENOENT,
		  "reload: the file named with --config vanished: an error too");
	CHECK_INT(config_read(&before, true, &next, err, sizeof(err)), -ENOENT,
		  "startup: a missing file named with --config is an error");
	before.config_given = false;
	CHECK_INT(config_read(&before, true, &next, err, sizeof(err)), 0,
		  "startup: a missing default file means built-in defaults");
	CHECK(!next.found && tunable_get(&next.tun, slice) == slice->def, "... which are the defaults");
}

int main(void)
{
	if (!mkdtemp(dir))
		check_bail("mkdtemp: %s", strerror(errno));
	umask(022);
	test_keys();
	test_valid();
	test_errors();
	test_load();
	test_load_kinds();
	test_startup();
	test_reload();
	{
		char cmd[PATH_MAX + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
	return check_done();
}
