// SPDX-License-Identifier: GPL-2.0
/*
 * The configuration file's pin and pin_cgroup lines: the one key that may
 * repeat and the one value with two fields. Every malformed line is refused
 * naming the line, nothing of a bad file is taken, and the pins in effect
 * are part of the value read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "tunables.h"

static char err[1024];

static int parse(struct config *c, const char *text)
{
	err[0] = '\0';
	config_init(c, "test.conf");
	return config_parse(c, "test.conf", text, strlen(text), err, sizeof(err));
}

static void test_parse(void)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "pin = 4242\n", "test.conf:1: pin: expected 'PID NODE', got '4242'" },
		{ "pin = 4242 1 2\n", "expected 'PID NODE'" },
		{ "pin = abc 1\n", "pin: invalid process id 'abc': expected 1..4194304" },
		{ "pin = 0 1\n", "invalid process id '0'" },
		{ "pin = 4194305 1\n", "invalid process id '4194305'" },
		{ "pin = 4242 64\n", "pin: invalid node '64': expected a node id 0..63" },
		{ "pin = 4242 -1\n", "invalid node '-1'" },
		{ "pin_cgroup = train.slice 1\n", "pin_cgroup: invalid cgroup path 'train.slice'" },
		{ "pin_cgroup = /a/../b 1\n", "without '..'" },
		{ "pin_cgroup = /a/.. 1\n", "without '..'" },
		{ "pin = 7 0\n\npin = 7 1\n", "test.conf:3: pin: 7 pinned twice (first on line 1)" },
		{ "pin_cgroup = /x 0\npin_cgroup = /x 0\n", "test.conf:2: pin_cgroup: /x pinned twice (first on line 1)" },
		{ "pin =\n", "pin: missing value" },
	};
	char big[8192];
	struct config c;
	size_t o = 0;

	CHECK_INT(parse(&c, "# GPU jobs\npin = 4242 1\npin_cgroup = /train.slice 0  # the trainers\n"
			"pin_cgroup = /sys/fs/cgroup/a..b/c 2\npin = 7 0\n"), 0, "four pins parse %s", err);
	CHECK_INT(c.nr_pins, 4, "all four are kept, in file order");
	CHECK(!c.pins[0].cgroup && c.pins[0].pid == 4242 && c.pins[0].node == 1 && c.pins[0].line == 2,
	      "pin = 4242 1: process 4242, node 1, line 2");
	CHECK(c.pins[1].cgroup && !strcmp(c.pins[1].path, "/train.slice") && c.pins[1].node == 0,
	      "pin_cgroup = /train.slice 0, the comment stripped");
	CHECK(c.pins[2].cgroup && !strcmp(c.pins[2].path, "/sys/fs/cgroup/a..b/c") && c.pins[2].node == 2,
	      "a '..' inside a name is not a parent reference");
	CHECK_INT(c.line[CFG_PIN], 2, "the first pin line is the key's line");

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		config_init(&c, "test.conf");
		c.nr_pins = 99;	/* untouched on error */
		CHECK(config_parse(&c, "test.conf", bad[i].text, strlen(bad[i].text), err, sizeof(err)) == -EINVAL &&
		      strstr(err, bad[i].want) && c.nr_pins == 99, "refused: %s", err);
	}

	for (int i = 1; i <= CONFIG_MAX_PINS + 1; i++)
		o += (size_t)snprintf(big + o, sizeof(big) - o, "pin = %d 0\n", i);
	CHECK(parse(&c, big) == -EINVAL && strstr(err, "too many pins (at most 64)"),
	      "a 65th pin is refused: %s", err);
}

static void test_effective(void)
{
	char path[] = "/tmp/test_config_pins.XXXXXX", out[4096];
	static struct config c, next;
	struct options o;
	FILE *f;
	int fd;

	fd = mkstemp(path);
	if (fd < 0)
		check_bail("mkstemp");
	dprintf(fd, "slice_ns = 5ms\npin = 31 1\npin_cgroup = /jobs 0\n");
	close(fd);
	options_defaults(&o);
	o.config_path = path;
	o.config_given = true;
	CHECK_INT(config_read(&o, true, &c, err, sizeof(err)), 0, "startup takes a file with pins %s", err);
	CHECK(c.nr_pins == 2 && c.pins[0].pid == 31 && !strcmp(c.pins[1].path, "/jobs") && !strcmp(c.path, path),
	      "its pins are in the value read, named by the file");

	f = fmemopen(out, sizeof(out), "w");
	CHECK_INT(config_check(f, &o, &c.tun, &c, err, sizeof(err)), 0, "--check-config accepts it");
	fclose(f);
	CHECK(strstr(out, "\npin = 31 1  # ") && strstr(out, "\npin_cgroup = /jobs 0  # "),
	      "--check-config prints the pins in the file's syntax");

	f = fopen(path, "w");
	fprintf(f, "pin = 32 0\n");
	fclose(f);
	CHECK(config_read(&o, false, &next, err, sizeof(err)) == 0 && next.nr_pins == 1 && next.pins[0].pid == 32,
	      "a reload reads the new pins %s", err);
	CHECK(c.nr_pins == 2 && c.pins[0].pid == 31, "reading a file changes no other config value");
	f = fopen(path, "w");
	fprintf(f, "pin = 33 0\npin = x 0\n");
	fclose(f);
	CHECK(config_read(&o, false, &next, err, sizeof(err)) < 0 && next.nr_pins == 1 && next.pins[0].pid == 32,
	      "a bad file leaves the value it was to fill as it was: %s", err);
	unlink(path);
}

int main(void)
{
	test_parse();
	test_effective();
	return check_done();
}
