// SPDX-License-Identifier: GPL-2.0
/* scx_ai_numad command-line parsing: defaults, ranges, and clear refusals. */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "options.h"

static int parse(struct options *o, char *err, size_t len, const char *const *args)
{
	char *argv[16];
	int argc = 0;

	argv[argc++] = (char *)"scx_ai_numad";
	while (*args && argc < 15)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	err[0] = '\0';
	return options_parse(argc, argv, o, err, len);
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

int main(void)
{
	struct options o;
	char err[256];

	CHECK_INT(parse(&o, err, sizeof(err), ARGS(NULL)), OPT_OK, "no arguments run with defaults");
	CHECK(!strcmp(o.socket_path, DEFAULT_SOCKET_PATH), "default socket path");
	CHECK_INT(o.interval_s, 0, "no summary by default");
	CHECK_INT(o.max_failures, 5, "default failure budget");

	CHECK_INT(parse(&o, err, sizeof(err), ARGS("-v")), OPT_OK, "-v accepted");
	CHECK(o.verbose && o.interval_s == 1, "-v prints the summary every second");

	CHECK_INT(parse(&o, err, sizeof(err), ARGS("-i", "5", "-s", "/tmp/x.sock", "--max-failures", "3",
						  "--failure-window", "10", "--backoff-ms", "100")),
		  OPT_OK, "all value options accepted");
	CHECK(o.interval_s == 5 && o.max_failures == 3 && o.failure_window_s == 10 && o.backoff_ms == 100,
	      "values stored");
	CHECK(!strcmp(o.socket_path, "/tmp/x.sock"), "socket path stored");

	CHECK_INT(parse(&o, err, sizeof(err), ARGS("-i", "0")), -EINVAL, "interval 0 refused");
	CHECK(strstr(err, "1..3600") != NULL, "interval error names the range: %s", err);
	CHECK_INT(parse(&o, err, sizeof(err), ARGS("-i", "-3")), -EINVAL, "negative interval refused");
	CHECK_INT(parse(&o, err, sizeof(err), ARGS("-i", "3x")), -EINVAL, "trailing junk refused");
	CHECK_INT(parse(&o, err, sizeof(err), ARGS("--max-failures", "99999999999")), -EINVAL,
		  "overflowing number refused");
	CHECK_INT(parse(&o, err, sizeof(err), ARGS("--bogus")), -EINVAL, "unknown option refused");
	CHECK(strstr(err, "--bogus") != NULL, "unknown option named: %s", err);
	CHECK_INT(parse(&o, err, sizeof(err), ARGS("-i")), -EINVAL, "missing value refused");
	CHECK(strstr(err, "needs a value") != NULL, "missing value explained: %s", err);
	CHECK_INT(parse(&o, err, sizeof(err), ARGS("extra")), -EINVAL, "stray argument refused");
	CHECK_INT(parse(&o, err, sizeof(err), ARGS("-s", "")), -EINVAL, "empty socket path refused");

	/* The scx_stats endpoint: on at upstream's path by default, a path, or off. */
	CHECK_INT(parse(&o, err, sizeof(err), ARGS("-v")), OPT_OK, "defaults");
	CHECK(o.stats_socket && !strcmp(o.stats_socket, DEFAULT_STATS_SOCKET_PATH), "scx_stats endpoint on by default at %s",
	      o.stats_socket ? o.stats_socket : "(none)");
	CHECK_INT(parse(&o, err, sizeof(err), ARGS("--stats-socket", "off")), OPT_OK, "--stats-socket off accepted");
	CHECK(setting_path_off(o.stats_socket), "and means no endpoint");
	CHECK_INT(parse(&o, err, sizeof(err), ARGS("--stats-socket", "/run/s")), OPT_OK, "--stats-socket PATH accepted");
	CHECK(!setting_path_off(o.stats_socket) && !strcmp(o.stats_socket, "/run/s"), "and stored");
	CHECK_INT(parse(&o, err, sizeof(err), ARGS("--stats-socket", "run/s")), -EINVAL, "a relative endpoint path refused");

	CHECK_INT(parse(&o, err, sizeof(err), ARGS(NULL)), OPT_OK, "defaults again");
	CHECK(!strcmp(o.config_path, DEFAULT_CONFIG_PATH) && !o.config_given, "default configuration file, not named");
	CHECK(!o.check_config, "no --check-config by default");
	CHECK(!o.global_idle, "per-node idle masks by default (where the kernel has them)");
	CHECK_INT(parse(&o, err, sizeof(err), ARGS("--global-idle")), OPT_OK, "--global-idle accepted");
	CHECK(o.global_idle && !o.hotplug_restart, "--global-idle stored, nothing else");
	CHECK_INT(parse(&o, err, sizeof(err), ARGS("--global-idle=yes")), -EINVAL, "--global-idle takes no value");
	CHECK(strstr(err, "takes no value") != NULL, "... and says so: %s", err);
	CHECK_INT(parse(&o, err, sizeof(err), ARGS("--node-queues")), OPT_OK, "--node-queues accepted");
	CHECK(o.node_queues && !o.global_idle, "--node-queues stored, nothing else");
	CHECK_INT(parse(&o, err, sizeof(err), ARGS(NULL)), OPT_OK, "defaults once more");
	CHECK_INT(o.given, 0, "no setting marked as given on an empty command line");

	CHECK_INT(parse(&o, err, sizeof(err), ARGS("-c", "/tmp/a.conf", "--check-config")), OPT_OK,
		  "-c and --check-config accepted");
	CHECK(!strcmp(o.config_path, "/tmp/a.conf") && o.config_given, "-c names the file, which must then exist");
	CHECK(o.check_config, "--check-config stored");
	CHECK_INT(parse(&o, err, sizeof(err), ARGS("--config=/tmp/b.conf")), OPT_OK, "--config=PATH accepted");
	CHECK(!strcmp(o.config_path, "/tmp/b.conf") && o.config_given, "--config=PATH stored");
	CHECK_INT(parse(&o, err, sizeof(err), ARGS("--config", "")), -EINVAL, "an empty --config refused");
	CHECK_INT(parse(&o, err, sizeof(err), ARGS("--config")), -EINVAL, "--config without a value refused");

	CHECK_INT(parse(&o, err, sizeof(err), ARGS("--max-failures", "3", "-s", "/tmp/s")), OPT_OK, "two settings");
	CHECK_INT(o.given, OPT_GIVEN(SETTING_MAX_FAILURES) | OPT_GIVEN(SETTING_SOCKET),
		  "exactly the settings given are marked, so the file cannot override them");
	CHECK_INT(parse(&o, err, sizeof(err), ARGS("-i", "4", "-g", "wheel", "--failure-window", "9",
						  "--backoff-ms", "20")), OPT_OK, "four other settings");
	CHECK_INT(o.given, OPT_GIVEN(SETTING_INTERVAL) | OPT_GIVEN(SETTING_GROUP) | OPT_GIVEN(SETTING_FAILURE_WINDOW) |
		  OPT_GIVEN(SETTING_BACKOFF), "interval, group, window and backoff marked");
	CHECK_INT(parse(&o, err, sizeof(err), ARGS("-v")), OPT_OK, "-v alone");
	CHECK_INT(o.given, OPT_GIVEN(SETTING_INTERVAL), "-v's summary counts as a given interval");
	CHECK_INT(parse(&o, err, sizeof(err), ARGS("-i", "5", "-v")), OPT_OK, "-i then -v");
	CHECK_INT(o.interval_s, 5, "-v keeps an explicit --interval");

	{
		unsigned int v = 0;

		CHECK_INT(options_parse_uint("12", 1, 20, &v), 0, "options_parse_uint: in range");
		CHECK_INT(v, 12, "options_parse_uint: value");
		CHECK_INT(options_parse_uint("21", 1, 20, &v), -ERANGE, "options_parse_uint: above range is -ERANGE");
		CHECK_INT(options_parse_uint("12s", 1, 20, &v), -EINVAL, "options_parse_uint: junk is -EINVAL");
		CHECK_INT(options_parse_uint(" 1", 1, 20, &v), -EINVAL, "options_parse_uint: leading blank is -EINVAL");
		CHECK_INT(v, 12, "options_parse_uint: nothing stored on error");
	}

	CHECK_INT(parse(&o, err, sizeof(err), ARGS("--help")), OPT_EXIT, "--help exits successfully");
	CHECK_INT(parse(&o, err, sizeof(err), ARGS("-V")), OPT_EXIT, "-V exits successfully");
	return check_done();
}
