// SPDX-License-Identifier: GPL-2.0
/*
 * The scx_stats endpoint's transport (what it answers: scxstats-proto.c):
 * the connection layer the control socket uses too (conn.c), with '\n' as
 * the delimiter and its own caps. Nothing more is needed, because the
 * protocol is read-only, root only, without streams and without a call
 * that must run after a hangup: requests beyond SXS_MAX_REQ are refused,
 * a client that does not read stops being read above SXS_OUT_HIGH and is
 * closed when idle, and beyond SXS_MAX_CLIENTS newcomers are told so.
 */
#include <errno.h>

#include "clock.h"
#include "conn.h"
#include "daemon.h"
#include "log.h"
#include "scxstats.h"
#include "settings.h"

uint64_t sxs_idle_timeout_ns = 30ULL * 1000000000ULL;
uint64_t sxs_partial_timeout_ns = 5ULL * 1000000000ULL;

static int sxs_handle(struct conn_client *c, const char *line, size_t len);
static int sxs_put_error(struct vl_out *out, enum conn_err kind, const char *msg);

static const struct conn_ops sxs_ops = {
	.name = "scx_stats",
	.unit = "request",
	.size = sizeof(struct conn_client),
	.max_clients = SXS_MAX_CLIENTS,
	.full_msg = "the daemon serves as many scx_stats clients as it can",
	.batch = SXS_BATCH,
	.max_msg = SXS_MAX_REQ,
	.delim = '\n',
	.out_max = SXS_OUT_MAX,
	.out_high = SXS_OUT_HIGH,
	.idle_ns = &sxs_idle_timeout_ns,
	.partial_ns = &sxs_partial_timeout_ns,
	.handle = sxs_handle,
	.put_error = sxs_put_error,
};

static struct {
	struct daemon *d;	/* handed to the methods, which read it through daemon_view() */
	struct conn_server srv;
} sxs = { .srv = CONN_SERVER_INIT(&sxs_ops) };

unsigned int scxstats_nr_clients(void)
{
	return sxs.srv.nr_clients;
}

static int sxs_handle(struct conn_client *c, const char *line, size_t len)
{
	return scxstats_handle(sxs.d, line, len, &c->out);
}

static int sxs_put_error(struct vl_out *out, enum conn_err kind, const char *msg)
{
	return scxstats_put_error(out, kind == CONN_ERR_TOO_LONG ? EMSGSIZE : EBUSY, msg);
}

int scxstats_open(struct daemon *d, char *err, size_t errlen)
{
	struct daemon_view v;
	const char *path;
	int ret;

	/* What the transport needs of the daemon: its loop and the endpoint's path. */
	daemon_view(d, &v);
	path = v.stats_socket;
	if (setting_path_off(path)) {
		log_info("scx_stats: endpoint off");
		return 0;
	}
	/* 0600: what the stats say about the host's jobs is root's to read, as with upstream's servers. */
	ret = conn_server_listen(&sxs.srv, v.loop, path, 0177, (gid_t)-1, err, errlen);
	if (ret < 0)
		return ret;
	sxs.d = d;
	log_info("scx_stats: listening on %s", path);
	return 0;
}

void scxstats_close(struct daemon *d)
{
	(void)d;
	conn_server_close(&sxs.srv);
}

void scxstats_tick(struct daemon *d)
{
	if (sxs.srv.fd < 0 || sxs.d != d)
		return;
	conn_server_tick(&sxs.srv, mono_ns());
}
