// SPDX-License-Identifier: GPL-2.0
/*
 * The control plane against a daemon without a kernel: every method's
 * answers and refusals through control_handle, then the transport over
 * socketpairs and a real socket in a temporary directory (pipelining,
 * partial reads, caps, streams, slow clients, permissions).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <json-c/json.h>

#include "check.h"
#include "control.h"
#include "control-idl.h"
#include "control-internal.h"
#include "ctl.h"
#include "exitinfo.h"
#include "fixture.h"
#include "log.h"
#include "loop.h"
#include "varlink.h"

#define STATUS_REQ	"{\"method\":\"" VL_IFACE ".Status\"}"

static struct daemon D;
static const struct ctl_peer ROOT = { .pid = 1, .uid = 0, .gid = 0, .priv = true };
static const struct ctl_peer USER = { .pid = 2, .uid = 1000, .gid = 1000, .priv = false };

/* The last reply of call(), and how many messages the call produced. */
static struct vl_reply R;
static int nreplies;

__attribute__((format(printf, 2, 3)))
static int call(const struct ctl_peer *peer, const char *fmt, ...)
{
	struct vl_out out;
	char *msg, err[256];
	va_list ap;
	int ret;

	vl_reply_free(&R);
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		check_bail("vasprintf");
	va_end(ap);
	vl_out_init(&out, CTL_OUT_MAX);
	ret = control_handle(&D, peer, msg, strlen(msg), &out);
	nreplies = 0;
	for (size_t i = 0; i < out.len; i++)
		nreplies += out.buf[i] == '\0';
	if (nreplies && vl_reply_parse(out.buf, strlen(out.buf), &R, err, sizeof(err)) < 0)
		check_bail("unparsable reply to %s: %s", msg, err);
	vl_out_free(&out);
	free(msg);
	return ret;
}

static struct json_object *rget(struct json_object *o, const char *key)
{
	return json_object_object_get(o, key);
}

static const char *rstr(struct json_object *o, const char *key)
{
	struct json_object *v = rget(o, key);

	return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
}

static int64_t rnum(struct json_object *o, const char *key)
{
	return json_object_get_int64(rget(o, key));
}

static bool is_error(const char *name)
{
	return R.error && !strcmp(R.error, name);
}

static void test_service(void)
{
	struct json_object *ifaces;
	bool has_ours = false, has_service = false;

	call(&USER, "{\"method\":\"org.varlink.service.GetInfo\"}");
	ifaces = rget(R.params, "interfaces");
	for (size_t i = 0; i < json_object_array_length(ifaces); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(ifaces, i));

		has_ours |= !strcmp(s, VL_IFACE);
		has_service |= !strcmp(s, VL_SERVICE);
	}
	CHECK(!R.error && has_ours && has_service, "GetInfo lists %s and %s", VL_SERVICE, VL_IFACE);

	call(&USER, "{\"method\":\"org.varlink.service.GetInterfaceDescription\",\"parameters\":{\"interface\":\"%s\"}}",
	     VL_IFACE);
	CHECK(!R.error && !strcmp(rstr(R.params, "description"), control_idl_iface),
	      "GetInterfaceDescription returns our IDL");
	call(&USER, "{\"method\":\"org.varlink.service.GetInterfaceDescription\",\"parameters\":{\"interface\":\"a.b\"}}");
	CHECK(is_error(VL_ERR_IFACE_NOT_FOUND) && !strcmp(rstr(R.params, "interface"), "a.b"),
	      "an unknown interface is InterfaceNotFound naming it");
	call(&USER, "{\"method\":\"%s.Reboot\"}", VL_IFACE);
	CHECK(is_error(VL_ERR_METHOD_NOT_FOUND) && !strcmp(rstr(R.params, "method"), VL_IFACE ".Reboot"),
	      "an unknown method of our interface is MethodNotFound naming it");
	call(&USER, "{\"method\":\"com.example.Thing\"}");
	CHECK(is_error(VL_ERR_IFACE_NOT_FOUND) && !strcmp(rstr(R.params, "interface"), "com.example"),
	      "a method of an unknown interface is InterfaceNotFound");
	call(&USER, "{\"method\":\"Status\"}");
	CHECK(is_error(VL_ERR_METHOD_NOT_FOUND), "an unqualified method name is MethodNotFound");
}

static void test_status(void)
{
	struct json_object *topo, *ex;

	call(&USER, "{\"method\":\"%s.Status\"}", VL_IFACE);
	topo = rget(R.params, "topology");
	CHECK(!R.error && !strcmp(rstr(R.params, "state"), sched_state_str(D.state)),
	      "Status reports the state as sched_state_str says (%s)", sched_state_str(D.state));
	CHECK(rnum(R.params, "uptime_ns") >= 90LL * 1000000000, "uptime counts from started_ns");
	CHECK(rnum(R.params, "attached_for_ns") >= 30LL * 1000000000 &&
	      rnum(R.params, "attach_count") == D.attach_count, "attached time and count come from the daemon");
	CHECK(*rstr(R.params, "kernel"), "the kernel release is filled in");
	CHECK(rnum(topo, "nodes") == D.topo.nr_nodes && rnum(topo, "cpu_nodes") == topology_nr_cpu_nodes(&D.topo) &&
	      rnum(topo, "cpus") == D.topo.nr_cpus && rnum(topo, "online_cpus") == D.topo.nr_online,
	      "the topology summary matches d->topo");
	CHECK(json_object_is_type(rget(R.params, "last_exit"), json_type_null), "no exit yet: last_exit is null");
	CHECK(!strcmp(rstr(R.params, "idle_tracking"), "global"), "global idle tracking reported as such");
	D.idle_per_node = true;
	call(&USER, "{\"method\":\"%s.Status\"}", VL_IFACE);
	CHECK(!strcmp(rstr(R.params, "idle_tracking"), "per-node"), "per-node idle tracking reported as such");
	D.idle_per_node = false;

	D.last_exit.kind = AN_EXIT_UNREG_KERN;
	D.last_exit.exit_code = (int64_t)(AN_ECODE_ACT_RESTART | AN_ECODE_RSN_HOTPLUG);
	memset(D.last_exit.reason, 'r', sizeof(D.last_exit.reason));	/* not terminated */
	snprintf(D.last_exit.msg, sizeof(D.last_exit.msg), "cpu 3 going offline");
	D.restarts = 2;
	D.state = ST_BACKOFF;
	call(&USER, "{\"method\":\"%s.Status\"}", VL_IFACE);
	ex = rget(R.params, "last_exit");
	CHECK(!strcmp(rstr(ex, "kind_name"), exit_kind_str(AN_EXIT_UNREG_KERN)), "the exit kind is named as exit_kind_str says");
	CHECK(rnum(ex, "kind") == AN_EXIT_UNREG_KERN && rnum(ex, "code") == D.last_exit.exit_code &&
	      !strcmp(rstr(ex, "message"), "cpu 3 going offline") && rnum(R.params, "restarts") == 2,
	      "the last exit and restart count are reported");
	CHECK_INT(strlen(rstr(ex, "reason")), AN_EXIT_REASON_LEN, "an unterminated reason is cut at its buffer");
	CHECK(json_object_is_type(rget(R.params, "attached_for_ns"), json_type_null) &&
	      !strcmp(rstr(R.params, "state"), "backoff"), "while backing off there is no attach time");
	CHECK(json_object_is_type(rget(R.params, "idle_tracking"), json_type_null),
	      "... and no idle tracking to speak of");
	memset(&D.last_exit, 0, sizeof(D.last_exit));
	D.state = ST_RUNNING;
}

/* The CPUs of LLC object @llc, as a bit per CPU; false if one is out of range. */
static bool llc_cpus(struct json_object *llc, uint8_t *seen, int *count)
{
	struct json_object *cpus = rget(llc, "cpus");

	for (size_t k = 0; k < json_object_array_length(cpus); k++) {
		int cpu = json_object_get_int(json_object_array_get_idx(cpus, k));

		if (cpu < 0 || cpu >= AN_MAX_CPUS || seen[cpu])
			return false;
		seen[cpu] = 1;
		(*count)++;
	}
	return true;
}

/*
 * Each node's LLCs in the reply are the topology's, and a memory-only node
 * names the node serving it. The fixture has no LLCs: first one per node,
 * then each node's CPUs split in two.
 */
static void test_topology_llcs(void)
{
	for (int pass = 0; pass < 2; pass++) {
		struct json_object *nodes;
		bool ok = true;

		if (pass) {
			for (int i = 0; i < D.topo.nr_nodes; i++) {
				int seen = 0, half = (D.topo.nodes[i].nr_cpus + 1) / 2;

				if (!D.topo.nodes[i].nr_cpus)
					continue;
				for (int cpu = 0; cpu < D.topo.nr_cpus; cpu++) {
					if (D.topo.cpu_node[cpu] != D.topo.nodes[i].id)
						continue;
					if (seen == 0 || seen == half)
						D.topo.llcs[D.topo.nr_llcs++] = (struct topo_llc){
							.node = D.topo.nodes[i].id, .first_cpu = cpu };
					D.topo.cpu_llc[cpu] = D.topo.nr_llcs - 1;
					D.topo.llcs[D.topo.nr_llcs - 1].nr_cpus++;
					seen++;
				}
			}
		}
		call(&USER, "{\"method\":\"%s.Topology\"}", VL_IFACE);
		nodes = rget(R.params, "nodes");
		for (int i = 0; !R.error && i < D.topo.nr_nodes; i++) {
			struct json_object *n = json_object_array_get_idx(nodes, (size_t)i), *llcs = rget(n, "llcs");
			const struct topo_node *tn = &D.topo.nodes[i];
			uint8_t seen[AN_MAX_CPUS] = { 0 };
			int want = !tn->nr_cpus ? 0 : pass ? (tn->nr_cpus > 1 ? 2 : 1) : 1, count = 0;

			ok &= (int)json_object_array_length(llcs) == want;
			for (int k = 0; k < want; k++) {
				struct json_object *l = json_object_array_get_idx(llcs, (size_t)k);
				int before = count;

				ok &= llc_cpus(l, seen, &count) && count > before;
			}
			for (int cpu = 0; cpu < D.topo.nr_cpus; cpu++)
				ok &= seen[cpu] == (D.topo.cpu_node[cpu] == tn->id);
			ok &= rnum(n, "cpu_home") == topology_cpu_home(&D.topo, tn->id) &&
			      (tn->nr_cpus ? rnum(n, "cpu_home") == tn->id : rnum(n, "cpu_home") != tn->id);
		}
		CHECK(!R.error && ok, "%s: each node's llcs partition its CPUs; cpu_home is itself or, memory only, another node",
		      pass ? "two LLCs per node" : "no LLCs in the topology");
	}
	D.topo.nr_llcs = 0;
}

static void test_topology(void)
{
	struct json_object *nodes;
	bool ok = true;

	call(&USER, "{\"method\":\"%s.Topology\"}", VL_IFACE);
	nodes = rget(R.params, "nodes");
	CHECK(!R.error && (int)json_object_array_length(nodes) == D.topo.nr_nodes &&
	      rnum(R.params, "cpus") == D.topo.nr_cpus, "Topology lists every node and the CPU count");
	for (int i = 0; i < D.topo.nr_nodes; i++) {
		struct json_object *n = json_object_array_get_idx(nodes, (size_t)i);
		struct json_object *cpus = rget(n, "cpus"), *online = rget(n, "online_cpus"), *dist = rget(n, "distances");
		size_t k = 0, o = 0;

		ok &= rnum(n, "id") == D.topo.nodes[i].id && (uint64_t)rnum(n, "memory_kb") == D.topo.nodes[i].mem_kb;
		for (int cpu = 0; cpu < D.topo.nr_cpus; cpu++) {
			if (D.topo.cpu_node[cpu] != D.topo.nodes[i].id)
				continue;
			ok &= json_object_get_int(json_object_array_get_idx(cpus, k++)) == cpu;
			if (D.topo.cpu_online[cpu])
				ok &= json_object_get_int(json_object_array_get_idx(online, o++)) == cpu;
		}
		ok &= k == json_object_array_length(cpus) && o == json_object_array_length(online);
		for (int j = 0; j < D.topo.nr_nodes; j++)
			ok &= json_object_get_int(json_object_array_get_idx(dist, (size_t)j)) == D.topo.distance[i][j];
	}
	CHECK(ok, "each node's id, CPUs, online CPUs, memory and distances match d->topo");
	test_topology_llcs();
}

static void test_stats(void)
{
	struct json_object *nodes, *n0;
	struct stats st;
	bool named;

	daemon_stats_tick(&D);
	nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000000 }, NULL);
	daemon_stats_tick(&D);
	daemon_stats(&D, &st);
	call(&USER, "{\"method\":\"%s.Stats\"}", VL_IFACE);
	nodes = rget(R.params, "nodes");
	n0 = json_object_array_get_idx(nodes, 0);
	CHECK(!R.error && json_object_array_length(nodes) == st.nr_nodes &&
	      st.nr_nodes == (uint32_t)topology_nr_cpu_nodes(&D.topo),
	      "Stats has one entry per node with CPUs (%u)", st.nr_nodes);
	CHECK(rnum(n0, "node") == D.topo.nodes[0].id && rnum(json_object_array_get_idx(nodes, 1), "node") ==
	      D.topo.nodes[1].id, "entries carry kernel node ids, not dense indices");
	named = json_object_object_length(rget(n0, "counters")) == AN_NR_STATS;
	for (int i = 0; i < AN_NR_STATS; i++)
		named &= stats_name(i) && rget(rget(n0, "counters"), stats_name(i));
	CHECK(named, "every one of the %d counters is there under its stats_name", AN_NR_STATS);
	CHECK(rnum(rget(R.params, "total"), stats_name(AN_STAT_DIRECT)) > 0 &&
	      json_object_get_double(rget(rget(R.params, "total_rates"), stats_name(AN_STAT_DIRECT))) > 0,
	      "counters and rates from the (fake) scheduler come through");
	CHECK(rnum(R.params, "queued") == rnum(n0, "queued") + rnum(json_object_array_get_idx(nodes, 1), "queued"),
	      "the total queue depth is the sum of the nodes'");
	CHECK(!R.continues && nreplies == 1, "without \"more\" Stats replies once, without continues");

	CHECK_INT(call(&USER, "{\"method\":\"%s.Stats\",\"more\":true}", VL_IFACE), 1,
		  "Stats with \"more\" opens a stream");
	CHECK(R.continues, "and its first reply has continues=true");
	CHECK_INT(call(&USER, "{\"method\":\"%s.Status\",\"more\":true}", VL_IFACE), 0,
		  "\"more\" on a method that does not stream is one final reply");
	CHECK(!R.error && !R.continues, "without continues");
	call(&USER, "{\"method\":\"%s.Stats\",\"more\":true,\"oneway\":true}", VL_IFACE);
	CHECK(is_error(VL_ERR_INVALID_REQUEST) && strstr(rstr(R.params, "message"), "exclude"),
	      "\"more\" with \"oneway\" is refused: %s", rstr(R.params, "message"));
	call(&USER, "{\"method\":\"%s.Stats\",\"upgrade\":true}", VL_IFACE);
	CHECK(is_error(VL_ERR_INVALID_REQUEST) && strstr(rstr(R.params, "message"), "upgrade"),
	      "\"upgrade\" is refused: %s", rstr(R.params, "message"));
}

static void test_tunables(void)
{
	struct an_tunables before;
	struct json_object *list, *t;
	char range[64];
	bool ok = true;

	call(&USER, "{\"method\":\"%s.ListTunables\"}", VL_IFACE);
	list = rget(R.params, "tunables");
	CHECK(!R.error && json_object_array_length(list) == nr_tunables, "ListTunables lists all %zu tunables",
	      nr_tunables);
	for (size_t i = 0; i < nr_tunables && i < json_object_array_length(list); i++) {
		const struct tunable *tt = &tunables[i];

		t = json_object_array_get_idx(list, i);
		ok &= !strcmp(rstr(t, "name"), tt->name) && (uint64_t)rnum(t, "value") == tunable_get(&D.tun, tt) &&
		      (uint64_t)rnum(t, "min") == tt->min && (uint64_t)rnum(t, "max") == tt->max &&
		      (uint64_t)rnum(t, "default") == tt->def && !strcmp(rstr(t, "unit"), tt->unit) &&
		      !strcmp(rstr(t, "type"), tunable_type_name(tt->type)) && !strcmp(rstr(t, "description"), tt->help);
	}
	CHECK(ok, "each entry is the tunables table's row with the current value");

	call(&USER, "{\"method\":\"%s.GetTunable\",\"parameters\":{\"name\":\"steal\"}}", VL_IFACE);
	t = rget(R.params, "tunable");
	CHECK(!R.error && !strcmp(rstr(t, "text"), D.tun.steal ? "on" : "off"), "GetTunable steal shows on/off");

	/* Valid sets, every accepted JSON type. */
	CHECK(call(&ROOT, "{\"method\":\"%s.SetTunable\",\"parameters\":{\"name\":\"slice_ns\",\"value\":\"5ms\"}}",
		   VL_IFACE) == 0 && !R.error && D.tun.slice_ns == 5000000,
	      "set slice_ns \"5ms\" stores 5000000 ns");
	CHECK(fake_sched_log()->last.slice_ns == 5000000, "and reaches the running scheduler");
	CHECK((uint64_t)rnum(R.params, "previous") == tunable_find("slice_ns")->def &&
	      rnum(rget(R.params, "tunable"), "value") == 5000000,
	      "the reply has the previous and the new value");
	call(&ROOT, "{\"method\":\"%s.SetTunable\",\"parameters\":{\"name\":\"slice_ns\",\"value\":200000}}", VL_IFACE);
	CHECK(!R.error && D.tun.slice_ns == 200000, "a JSON integer is accepted");
	call(&ROOT, "{\"method\":\"%s.SetTunable\",\"parameters\":{\"name\":\"steal\",\"value\":false}}", VL_IFACE);
	CHECK(!R.error && D.tun.steal == 0, "a JSON boolean is accepted for a boolean");
	call(&ROOT, "{\"method\":\"%s.SetTunable\",\"parameters\":{\"name\":\"steal\",\"value\":\"on\"}}", VL_IFACE);
	CHECK(!R.error && D.tun.steal == 1, "\"on\" is accepted for a boolean");

	/* Refusals: precise, and nothing changes. */
	snprintf(range, sizeof(range), "%" PRIu64 "..%" PRIu64, tunable_find("slice_ns")->min,
		 tunable_find("slice_ns")->max);
	before = D.tun;
	call(&ROOT, "{\"method\":\"%s.SetTunable\",\"parameters\":{\"name\":\"slice_ns\",\"value\":-5}}", VL_IFACE);
	CHECK(is_error(VL_ERR_INVALID_VALUE) && strstr(rstr(R.params, "message"), range) &&
	      !strcmp(rstr(R.params, "value"), "-5") && !strcmp(rstr(R.params, "tunable"), "slice_ns"),
	      "slice_ns -5 is InvalidValue naming the range: %s", rstr(R.params, "message"));
	call(&ROOT, "{\"method\":\"%s.SetTunable\",\"parameters\":{\"name\":\"slice_ns\",\"value\":\"-5\"}}", VL_IFACE);
	CHECK(is_error(VL_ERR_INVALID_VALUE), "so is the string \"-5\"");
	call(&ROOT, "{\"method\":\"%s.SetTunable\",\"parameters\":{\"name\":\"slice_ns\",\"value\":18446744073709551616}}",
	     VL_IFACE);
	CHECK(is_error(VL_ERR_INVALID_REQUEST) && strstr(rstr(R.params, "message"), "18446744073709551616 out of range"),
	      "an integer beyond 64 bits is out of range, quoted as sent: %s", rstr(R.params, "message"));
	call(&ROOT, "{\"method\":\"%s.SetTunable\",\"parameters\":{\"name\":\"steal\",\"value\":\"maybe\"}}", VL_IFACE);
	CHECK(is_error(VL_ERR_INVALID_VALUE) && strstr(rstr(R.params, "message"), "on or off"),
	      "steal maybe names on and off: %s", rstr(R.params, "message"));
	call(&ROOT, "{\"method\":\"%s.SetTunable\",\"parameters\":{\"name\":\"slice_ns\",\"value\":true}}", VL_IFACE);
	CHECK(is_error(VL_ERR_INVALID_VALUE), "a boolean for a duration is InvalidValue");
	call(&ROOT, "{\"method\":\"%s.SetTunable\",\"parameters\":{\"name\":\"slice_ns\",\"value\":\"%0100d\"}}",
	     VL_IFACE, 5);
	CHECK(is_error(VL_ERR_INVALID_VALUE) && strstr(rstr(R.params, "message"), "longer than"),
	      "an overlong value is refused as such");
	call(&ROOT, "{\"method\":\"%s.SetTunable\",\"parameters\":{\"name\":\"slice_ns\",\"value\":1.5}}", VL_IFACE);
	CHECK(is_error(VL_ERR_INVALID_PARAM) && !strcmp(rstr(R.params, "parameter"), "value"),
	      "a float is InvalidParameter value");
	call(&ROOT, "{\"method\":\"%s.SetTunable\",\"parameters\":{\"value\":\"5ms\"}}", VL_IFACE);
	CHECK(is_error(VL_ERR_INVALID_PARAM) && !strcmp(rstr(R.params, "parameter"), "name"),
	      "a missing name is InvalidParameter name");
	call(&ROOT, "{\"method\":\"%s.SetTunable\",\"parameters\":{\"name\":7,\"value\":\"5ms\"}}", VL_IFACE);
	CHECK(is_error(VL_ERR_INVALID_PARAM) && !strcmp(rstr(R.params, "parameter"), "name"),
	      "a name that is not a string is InvalidParameter name");
	call(&ROOT, "{\"method\":\"%s.SetTunable\",\"parameters\":{\"name\":\"slice_ns\",\"value\":\"5ms\",\"force\":1}}",
	     VL_IFACE);
	CHECK(is_error(VL_ERR_INVALID_PARAM) && !strcmp(rstr(R.params, "parameter"), "force"),
	      "an undeclared parameter is InvalidParameter naming it");
	call(&ROOT, "{\"method\":\"%s.SetTunable\",\"parameters\":{\"name\":\"slice\",\"value\":\"5ms\"}}", VL_IFACE);
	CHECK(is_error(VL_ERR_UNKNOWN_TUNABLE) && json_object_array_length(rget(R.params, "known")) == nr_tunables,
	      "an unknown tunable is UnknownTunable listing the %zu known ones", nr_tunables);
	call(&ROOT, "{\"method\":\"%s.GetTunable\",\"parameters\":{\"name\":\"slice\\u0000_ns\"}}", VL_IFACE);
	CHECK(is_error(VL_ERR_INVALID_REQUEST) && strstr(rstr(R.params, "message"), "NUL"),
	      "a name with an embedded NUL is refused, not truncated: %s", rstr(R.params, "message"));
	/* What other parsers would read differently must not reach a handler. */
	call(&ROOT, "{\"method\":\"%s.SetTunable\",\"parameters\":{\"name\":\"slice_ns\",\"value\":\"5ms\","
	     "\"value\\u0000x\":\"1s\"}}", VL_IFACE);
	CHECK(is_error(VL_ERR_INVALID_REQUEST) && strstr(rstr(R.params, "message"), "NUL") &&
	      D.tun.slice_ns == before.slice_ns,
	      "a key with an embedded NUL is InvalidRequest and sets nothing: %s", rstr(R.params, "message"));
	call(&ROOT, "{\"method\":\"%s.SetTunable\",\"parameters\":{\"name\":\"slice_ns\",\"value\":\"5ms\","
	     "\"value\":\"1s\"}}", VL_IFACE);
	CHECK(is_error(VL_ERR_INVALID_REQUEST) && strstr(rstr(R.params, "message"), "duplicate key \"value\"") &&
	      D.tun.slice_ns == before.slice_ns,
	      "a duplicate key is InvalidRequest and sets nothing: %s", rstr(R.params, "message"));
	call(&ROOT, "{\"method\":\"%s.SetTunable\",\"parameters\":{\"name\":\"slice_ns\",\"value\":NaN}}", VL_IFACE);
	CHECK(is_error(VL_ERR_INVALID_REQUEST), "NaN is InvalidRequest: %s", rstr(R.params, "message"));
	call(&ROOT, "{\"method\":\"%s.GetTunable\",\"parameters\":{\"name\":\"slice\xc0\xaf\"}}", VL_IFACE);
	CHECK(is_error(VL_ERR_INVALID_REQUEST) && strstr(rstr(R.params, "message"), "UTF-8"),
	      "overlong UTF-8 is InvalidRequest, not echoed back: %s", rstr(R.params, "message"));
	/* Between INT64_MAX and UINT64_MAX json-c saturates; the error must quote what was sent. */
	call(&ROOT, "{\"method\":\"%s.Pin\",\"parameters\":{\"pid\":9223372036854775808,\"node\":0}}", VL_IFACE);
	CHECK(is_error(VL_IFACE ".InvalidPin") && !strcmp(rstr(R.params, "message"), "pid 9223372036854775808: out of range"),
	      "a pid above int64 is out of range, quoted as sent: %s", rstr(R.params, "message"));
	call(&ROOT, "{\"method\":\"%s.Pin\",\"parameters\":{\"pid\":1,\"node\":18446744073709551615}}", VL_IFACE);
	CHECK(is_error(VL_IFACE ".InvalidPin") && !strcmp(rstr(R.params, "message"), "node 18446744073709551615: out of range"),
	      "a node above int64 is out of range, quoted as sent: %s", rstr(R.params, "message"));
	call(&ROOT, "{\"method\":\"%s.SetTunable\",\"parameters\":{\"name\":\"slice_ns\",", VL_IFACE);
	CHECK(is_error(VL_ERR_INVALID_REQUEST) && strstr(rstr(R.params, "message"), "malformed JSON"),
	      "malformed JSON is InvalidRequest: %s", rstr(R.params, "message"));
	call(&USER, "{\"method\":\"%s.SetTunable\",\"parameters\":{\"name\":\"slice_ns\",\"value\":\"4ms\"}}", VL_IFACE);
	CHECK(is_error(VL_ERR_PERMISSION) && strstr(rstr(R.params, "message"), "root"),
	      "an unprivileged SetTunable is PermissionDenied: %s", rstr(R.params, "message"));
	call(&USER, "{\"method\":\"%s.SetTunable\",\"parameters\":{\"bogus\":1}}", VL_IFACE);
	CHECK(is_error(VL_ERR_PERMISSION), "permission is checked before parameters");
	CHECK(!memcmp(&before, &D.tun, sizeof(before)), "after all refusals the tunables are unchanged");

	CHECK(call(&ROOT, "{\"method\":\"%s.SetTunable\",\"oneway\":true,\"parameters\":{\"name\":\"steal\",\"value\":\"off\"}}",
		   VL_IFACE) == 0 && nreplies == 0 && D.tun.steal == 0, "a oneway set takes effect and sends nothing");
	call(&ROOT, "{\"method\":\"%s.SetTunable\",\"oneway\":true,\"parameters\":{\"name\":\"steal\",\"value\":\"x\"}}",
	     VL_IFACE);
	CHECK(nreplies == 0 && D.tun.steal == 0, "a failing oneway call sends nothing either");
	call(&ROOT, "{\"method\":\"%s.SetTunable\",\"oneway\":true,\"parameters\":{", VL_IFACE);
	CHECK(nreplies == 1, "unparsable input is answered even if it meant to be oneway");
	tunables_defaults(&D.tun);
}

/* ---- transport ------------------------------------------------------------- */

static void pump(int ms)
{
	struct timespec end, now;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_nsec += (long)ms * 1000000;
	end.tv_sec += end.tv_nsec / 1000000000;
	end.tv_nsec %= 1000000000;
	do {
		loop_run_once(D.loop, 1);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec < end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec < end.tv_nsec));
}

/* Next reply on @fd while running the daemon's loop; -ECONNRESET at EOF, -ETIMEDOUT. */
static int recv_reply(int fd, struct vl_in *in, struct vl_reply *r)
{
	char err[256];

	vl_reply_free(r);
	for (int i = 0; i < 2000; i++) {
		const char *msg;
		size_t len;
		ssize_t n;

		if (vl_in_next(in, &msg, &len) == 1)
			return vl_reply_parse(msg, len, r, err, sizeof(err));
		loop_run_once(D.loop, 1);
		n = vl_in_read(in, fd);
		if (n == 0)
			return -ECONNRESET;
	}
	return -ETIMEDOUT;
}

static void send_str(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && errno != EAGAIN)
			check_bail("send: %s", strerror(errno));
		if (w > 0) {
			s += w;
			n -= (size_t)w;
		}
		loop_run_once(D.loop, 0);
	}
}

static void send_msg(int fd, const char *s)
{
	send_str(fd, s, strlen(s) + 1);
}

static int pair(void)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 || control_adopt(&D, sv[0]) < 0)
		check_bail("socketpair/adopt: %s", strerror(errno));
	fcntl(sv[1], F_SETFL, O_NONBLOCK);
	return sv[1];
}

static void test_pipelining(void)
{
	static const char reqs[] =
		"{\"method\":\"" VL_IFACE ".Status\"}\0"
		"{\"method\":\"" VL_IFACE ".ListTunables\"}\0"
		"{\"method\":\"" VL_IFACE ".GetTunable\",\"parameters\":{\"name\":\"warm_pick\"}}\0";
	const char *one = "{\"method\":\"" VL_IFACE ".GetTunable\",\"parameters\":{\"name\":\"home_move_ns\"}}";
	unsigned int clients = control_nr_clients();
	struct vl_reply r = { 0 };
	struct vl_in in;
	int fd = pair();
	bool ok;

	CHECK_INT(control_nr_clients(), clients + 1, "an adopted socket is a client");
	vl_in_init(&in, 1 << 20);
	send_str(fd, reqs, sizeof(reqs) - 1);
	ok = recv_reply(fd, &in, &r) == 0 && rget(r.params, "state");
	ok &= recv_reply(fd, &in, &r) == 0 && rget(r.params, "tunables");
	ok &= recv_reply(fd, &in, &r) == 0 && !strcmp(rstr(rget(r.params, "tunable"), "name"), "warm_pick");
	CHECK(ok, "three pipelined requests in one write get three replies in order");

	for (size_t i = 0; i <= strlen(one); i++) {
		send_str(fd, one + i, 1);
		pump(1);
	}
	CHECK(recv_reply(fd, &in, &r) == 0 && !strcmp(rstr(rget(r.params, "tunable"), "name"), "home_move_ns"),
	      "a request sent byte by byte is answered once complete");

	send_msg(fd, STATUS_REQ);
	shutdown(fd, SHUT_WR);
	CHECK(recv_reply(fd, &in, &r) == 0 && rget(r.params, "state"), "a half-closed client still gets its reply");
	CHECK_INT(recv_reply(fd, &in, &r), -ECONNRESET, "and then the daemon hangs up");
	pump(5);
	CHECK_INT(control_nr_clients(), clients, "and forgets the client");
	vl_reply_free(&r);
	vl_in_free(&in);
	close(fd);
}

static void test_oversized(void)
{
	unsigned int clients = control_nr_clients();
	struct vl_reply r = { 0 };
	struct vl_in in;
	char *big = malloc(CTL_MAX_MSG + 1);
	int fd = pair();

	memset(big, ' ', CTL_MAX_MSG + 1);
	big[0] = '{';
	vl_in_init(&in, 1 << 20);
	send_str(fd, big, CTL_MAX_MSG + 1);
	CHECK(recv_reply(fd, &in, &r) == 0 && r.error && !strcmp(r.error, VL_ERR_INVALID_REQUEST) &&
	      strstr(rstr(r.params, "message"), "longer than"),
	      "a message over %d bytes gets InvalidRequest: %s", CTL_MAX_MSG, rstr(r.params, "message"));
	CHECK_INT(recv_reply(fd, &in, &r), -ECONNRESET, "and the connection is closed (it cannot resync)");
	pump(5);
	CHECK_INT(control_nr_clients(), clients, "the client is gone");

	/* Exactly at the cap is still a message. */
	fd = pair();
	memcpy(big, STATUS_REQ, strlen(STATUS_REQ));
	memset(big + strlen(STATUS_REQ), ' ', CTL_MAX_MSG - strlen(STATUS_REQ));
	big[CTL_MAX_MSG] = '\0';
	vl_in_free(&in);
	send_str(fd, big, CTL_MAX_MSG + 1);
	CHECK(recv_reply(fd, &in, &r) == 0 && rget(r.params, "state"), "a request of exactly %d bytes is served",
	      CTL_MAX_MSG);
	close(fd);
	pump(5);
	vl_reply_free(&r);
	vl_in_free(&in);
	free(big);
}

static void test_hangup_oneway(void)
{
	static char many[6000 + 256];
	const char *req = "{\"method\":\"" VL_IFACE ".SetTunable\",\"oneway\":true,"
			  "\"parameters\":{\"name\":\"steal_min_queued\",\"value\":7}}";
	unsigned int clients = control_nr_clients();
	int fd = pair();

	send(fd, req, strlen(req) + 1, MSG_NOSIGNAL);
	close(fd);
	pump(10);
	CHECK_INT(D.tun.steal_min_queued, 7, "a oneway call from a client that hung up at once still applies");
	CHECK_INT(control_nr_clients(), clients, "and the client is forgotten");

	/*
	 * Many batches of requests in the socket before the hangup is seen,
	 * small enough that one read takes far more than a batch: the last
	 * one must still run.
	 */
	fd = pair();
	req = "{\"method\":\"" VL_IFACE ".SetTunable\",\"oneway\":true,"
	      "\"parameters\":{\"name\":\"steal_min_queued\",\"value\":9}}";
	for (int i = 0; i < 2000; i++)
		memcpy(many + 3 * i, "{}", 3);
	memcpy(many + 6000, req, strlen(req) + 1);
	/* One send: the socket holds it whole before the daemon looks. */
	CHECK((size_t)send(fd, many, 6000 + strlen(req) + 1, MSG_NOSIGNAL) == 6000 + strlen(req) + 1,
	      "2000 requests and a oneway call are queued in one write");
	close(fd);
	pump(20);
	CHECK_INT(D.tun.steal_min_queued, 9, "a oneway call behind 2000 pipelined requests and a hangup still applies");
	CHECK_INT(control_nr_clients(), clients, "and that client is forgotten too");
	tunables_defaults(&D.tun);
}

static void test_streams(void)
{
	const char *sub = "{\"method\":\"" VL_IFACE ".Stats\",\"more\":true}";
	struct vl_reply r = { 0 };
	struct vl_in in, in3;
	unsigned int clients = control_nr_clients(), ticks = 0;
	int fd = pair(), slow = pair(), third = pair();
	size_t sample = 0;
	bool ok = true;

	vl_in_init(&in, 1 << 20);
	vl_in_init(&in3, 1 << 20);
	send_str(fd, sub, strlen(sub) + 1);
	ok = recv_reply(fd, &in, &r) == 0 && r.continues;
	/* Requests behind an open stream wait: replies must stay in call order. */
	send_msg(fd, STATUS_REQ);
	for (int i = 0; i < 3; i++) {
		control_stats_tick(&D);
		ok &= recv_reply(fd, &in, &r) == 0 && r.continues && rget(r.params, "nodes");
	}
	CHECK(ok, "a stream gets one continues=true reply now and one per tick, nothing else");

	/* A streaming client that never reads is cut off at the output cap... */
	send_str(slow, sub, strlen(sub) + 1);
	pump(2);
	{
		struct vl_out probe;

		vl_out_init(&probe, CTL_OUT_MAX);
		control_stream_sample(&D, &probe);
		sample = vl_out_pending(&probe);
		vl_out_free(&probe);
	}
	while (control_nr_clients() == clients + 3 && ticks < 100000) {
		control_stats_tick(&D);
		ticks++;
		loop_run_once(D.loop, 0);
		vl_in_read(&in, fd);		/* the well-behaved stream reads */
		while (vl_in_next(&in, &(const char *){ 0 }, &(size_t){ 0 }) == 1)
			;
	}
	pump(5);
	CHECK_INT(control_nr_clients(), clients + 2, "a stream nobody reads is dropped");
	/* Samples differ by a few bytes from the one measured: 1% of slack. */
	CHECK((size_t)ticks * sample >= CTL_OUT_MAX - CTL_OUT_MAX / 100,
	      "but only after the %d-byte cap was reached (%u ticks of about %zu bytes)", CTL_OUT_MAX, ticks,
	      sample);
	/* ...while everybody else was served all along. */
	send_msg(third, STATUS_REQ);
	CHECK(recv_reply(third, &in3, &r) == 0 && rget(r.params, "state"), "other clients are still served");
	control_stats_tick(&D);
	CHECK(recv_reply(fd, &in, &r) == 0 && r.continues, "and the reading stream still streams");
	close(fd);
	close(slow);
	close(third);
	pump(10);
	CHECK_INT(control_nr_clients(), clients, "closing streams frees them");
	vl_reply_free(&r);
	vl_in_free(&in);
	vl_in_free(&in3);
}

/* A client that pipelines far more than it reads is paused, not dropped, and loses nothing. */
static void test_backpressure(void)
{
	const char *req = "{\"method\":\"" VL_IFACE ".ListTunables\"}";
	const int n = 3000;
	size_t rlen = strlen(req) + 1, sent = 0;
	char *all = malloc(rlen * (size_t)n);
	struct vl_reply r = { 0 };
	struct vl_in in;
	int fd = pair(), got = 0;
	unsigned int clients = control_nr_clients();

	for (int i = 0; i < n; i++)
		memcpy(all + (size_t)i * rlen, req, rlen);
	vl_in_init(&in, 1 << 20);
	/* Write as far as the socket takes it without ever reading. */
	for (int i = 0; i < 2000 && sent < rlen * (size_t)n; i++) {
		ssize_t w = send(fd, all + sent, rlen * (size_t)n - sent, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w > 0)
			sent += (size_t)w;
		loop_run_once(D.loop, 0);
	}
	CHECK_INT(control_nr_clients(), clients, "a client that does not read its replies stays connected");
	while (got < n) {
		if (sent < rlen * (size_t)n) {
			ssize_t w = send(fd, all + sent, rlen * (size_t)n - sent, MSG_NOSIGNAL | MSG_DONTWAIT);

			if (w > 0)
				sent += (size_t)w;
		}
		if (recv_reply(fd, &in, &r) < 0 || !rget(r.params, "tunables"))
			break;
		got++;
	}
	CHECK_INT(got, n, "once it reads, every one of its pipelined requests is answered");
	close(fd);
	pump(5);
	vl_reply_free(&r);
	vl_in_free(&in);
	free(all);
}

/* ---- a real socket ------------------------------------------------------------- */

static char tmpdir[] = "/tmp/scx-ctl-test.XXXXXX";
static char sockpath[256];

static int connect_path(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	snprintf(a.sun_path, sizeof(a.sun_path), "%.100s", path);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int ret = -errno;

		close(fd);
		return ret;
	}
	return fd;
}

static void test_socket_file(void)
{
	struct stat st, dst;
	struct vl_reply r = { 0 };
	struct vl_in in;
	char err[512], sub[64];
	int fd, ret, extra, fds[CTL_MAX_CLIENTS];
	unsigned int clients = control_nr_clients();

	snprintf(sub, sizeof(sub), "%.40s/run/scx", tmpdir);
	snprintf(sockpath, sizeof(sockpath), "%.60s/control.sock", sub);
	D.opt.socket_path = sockpath;
	ret = control_open(&D, err, sizeof(err));
	CHECK(ret == 0, "control_open on a path whose directories do not exist yet%s%s", ret ? ": " : "",
	      ret ? err : "");
	CHECK(stat(sockpath, &st) == 0 && S_ISSOCK(st.st_mode) && (st.st_mode & 07777) == 0660,
	      "the socket is mode 0660 (%o)", st.st_mode & 07777);
	CHECK(stat(sub, &dst) == 0 && (dst.st_mode & 07777) == 0755, "its directory was created 0755 (%o)",
	      dst.st_mode & 07777);

	fd = connect_path(sockpath);
	vl_in_init(&in, 1 << 20);
	send_msg(fd, STATUS_REQ);
	CHECK(recv_reply(fd, &in, &r) == 0 && rget(r.params, "state"), "a client on the socket is served");
	close(fd);
	pump(5);

	/* The client cap: the 65th connection is refused, the others keep working. */
	for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
		fds[i] = connect_path(sockpath);
		pump(1);
	}
	pump(5);
	CHECK_INT(control_nr_clients(), clients + CTL_MAX_CLIENTS, "%d clients are accepted", CTL_MAX_CLIENTS);
	extra = connect_path(sockpath);
	pump(5);
	vl_in_free(&in);
	vl_in_init(&in, 1 << 20);
	CHECK(recv_reply(extra, &in, &r) == 0 && r.error && !strcmp(r.error, VL_ERR_TOO_MANY_CLIENTS),
	      "one more is told TooManyClients: %s", rstr(r.params, "message"));
	CHECK_INT(recv_reply(extra, &in, &r), -ECONNRESET, "and hung up on");
	close(extra);
	send_msg(fds[0], STATUS_REQ);
	vl_in_free(&in);
	vl_in_init(&in, 1 << 20);
	CHECK(recv_reply(fds[0], &in, &r) == 0 && rget(r.params, "state"), "while the first ones are still served");
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		close(fds[i]);
	pump(10);
	CHECK_INT(control_nr_clients(), clients, "and all of them are freed on close");

	/* A live listener is not ours to take over. */
	{
		struct daemon other = D;
		struct sockaddr_un a = { .sun_family = AF_UNIX };
		char path2[100];
		int l = socket(AF_UNIX, SOCK_STREAM, 0);

		snprintf(path2, sizeof(path2), "%.60s/other.sock", tmpdir);
		snprintf(a.sun_path, sizeof(a.sun_path), "%.99s", path2);
		bind(l, (struct sockaddr *)&a, sizeof(a));
		listen(l, 1);
		control_close(&D);
		other.opt.socket_path = path2;
		ret = control_open(&other, err, sizeof(err));
		CHECK(ret == -EADDRINUSE && strstr(err, "another scx_ai_numad"),
		      "a socket with a live listener is refused: %s", err);
		close(l);
		/* Now it is stale: a socket file nobody listens on. */
		ret = control_open(&other, err, sizeof(err));
		CHECK_INT(ret, 0, "a stale socket file is replaced");
		control_close(&other);
		CHECK(access(path2, F_OK) < 0 && errno == ENOENT, "control_close removes the socket file");
		fd = open(path2, O_CREAT | O_WRONLY, 0600);
		close(fd);
		ret = control_open(&other, err, sizeof(err));
		CHECK(ret == -EEXIST && strstr(err, "not a socket"), "a regular file is never removed: %s", err);
		unlink(path2);
	}
	ret = control_open(&D, err, sizeof(err));
	if (ret)
		check_bail("reopening %s: %s", sockpath, err);
	vl_reply_free(&r);
	vl_in_free(&in);
}

/*
 * Permission checks need a second user: as root, fork clients that drop to
 * nobody, with and without the control group, and run them while the loop
 * serves. Each child exits 0 when what it saw matched what it expected.
 */
enum expect { EXPECT_NO_CONNECT, EXPECT_READ_ONLY, EXPECT_MAY_SET };

static int child(gid_t gid, const gid_t *groups, int ngroups, enum expect want, const char *value)
{
	struct json_object *p;
	struct vl_reply r;
	struct conn c;
	char err[512];
	int ret;

	if (setgroups((size_t)ngroups, groups) < 0 || setgid(gid) < 0 || setuid(65534) < 0)
		return 10;
	ret = conn_open(&c, sockpath, err, sizeof(err));
	if (want == EXPECT_NO_CONNECT)
		return ret == -EACCES && strstr(err, "permission denied") ? 0 : 11;
	if (ret < 0)
		return 12;
	if (conn_call(&c, VL_IFACE ".Status", NULL, &r, err, sizeof(err)) < 0 || r.error)
		return 13;
	vl_reply_free(&r);
	p = json_object_new_object();
	json_object_object_add(p, "name", json_object_new_string("slice_ns"));
	json_object_object_add(p, "value", json_object_new_string(value));
	if (conn_call(&c, VL_IFACE ".SetTunable", p, &r, err, sizeof(err)) < 0)
		return 14;
	if (want == EXPECT_READ_ONLY)
		return r.error && !strcmp(r.error, VL_ERR_PERMISSION) ? 0 : 15;
	return r.error ? 16 : 0;
}

/* Run the daemon's loop until child @pid exits: its exit status, 100 if killed, 101 if stuck. */
static int serve_until_exit(pid_t pid)
{
	int status = -1;

	for (int i = 0; i < 20000; i++) {
		loop_run_once(D.loop, 1);
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return 101;
}

static int run_child(gid_t gid, const gid_t *groups, int ngroups, enum expect want, const char *value)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(child(gid, groups, ngroups, want, value));
	return serve_until_exit(pid);
}

static void test_permissions(void)
{
	const gid_t ctl_gid = 4242, nogroup = 65534;
	struct stat st;
	char err[512];
	int ret;

	if (geteuid() != 0) {
		check_skip("permission checks need root to switch users");
		return;
	}
	chmod(tmpdir, 0755);
	control_close(&D);
	D.opt.ctl_group = "4242";
	ret = control_open(&D, err, sizeof(err));
	if (ret)
		check_bail("control_open with a group: %s", err);
	CHECK(stat(sockpath, &st) == 0 && st.st_gid == ctl_gid && (st.st_mode & 0777) == 0660,
	      "with a control group the socket is group %u, mode 0660", (unsigned int)ctl_gid);

	CHECK_INT(run_child(nogroup, NULL, 0, EXPECT_NO_CONNECT, "4ms"), 0,
		  "nobody outside the group cannot even connect, and is told permission denied");
	CHECK_INT(run_child(nogroup, &ctl_gid, 1, EXPECT_MAY_SET, "4ms"), 0,
		  "a member through a supplementary group may set");
	CHECK_INT(D.tun.slice_ns, 4000000, "and the value arrived");
	CHECK_INT(run_child(ctl_gid, NULL, 0, EXPECT_MAY_SET, "6ms"), 0, "a member through the primary group may set");
	CHECK_INT(D.tun.slice_ns, 6000000, "and the value arrived");

	/* If someone widens the socket, reading opens up but setting does not. */
	chmod(sockpath, 0666);
	CHECK_INT(run_child(nogroup, NULL, 0, EXPECT_READ_ONLY, "8ms"), 0,
		  "a non-member on a widened socket reads but gets PermissionDenied for set");
	CHECK_INT(D.tun.slice_ns, 6000000, "and the value did not change");

	control_close(&D);
	D.opt.ctl_group = NULL;
	ret = control_open(&D, err, sizeof(err));
	if (ret)
		check_bail("control_open: %s", err);
	chmod(sockpath, 0666);
	CHECK_INT(run_child(ctl_gid, &ctl_gid, 1, EXPECT_READ_ONLY, "8ms"), 0,
		  "without a control group only root may set");
	tunables_defaults(&D.tun);
}

/* ---- hostile clients ---------------------------------------------------------- */

static double cpu_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/*
 * 200 KB of pipelined Status calls, then a hangup: nobody will read the
 * replies, so computing them is waste a client could make the loop do.
 */
static void test_hangup_cost(void)
{
	size_t one = strlen(STATUS_REQ) + 1, n = 200 * 1024 / one, total = n * one, off = 0;
	unsigned int clients = control_nr_clients();
	char *buf = malloc(total);
	int fd = pair(), sz = 1 << 20;
	double t0, cost;

	if (!buf)
		check_bail("out of memory");
	for (size_t i = 0; i < n; i++)
		memcpy(buf + i * one, STATUS_REQ, one);
	/* Room for all of it, so the daemon sees the hangup before any request. */
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	t0 = cpu_ms();
	while (off < total) {
		ssize_t w = send(fd, buf + off, total - off, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w > 0)
			off += (size_t)w;
		else if (errno == EAGAIN)
			loop_run_once(D.loop, 0);
		else
			check_bail("send: %s", strerror(errno));
	}
	close(fd);
	for (int i = 0; i < 5000 && control_nr_clients() > clients; i++)
		loop_run_once(D.loop, 1);
	cost = cpu_ms() - t0;
	printf("# %zu pipelined Status calls, then a hangup: %.1f ms of CPU\n", n, cost);
	/* Running them costs ~30 ms here (a second on the real daemon in a VM); dropping them, next to nothing. */
	CHECK(control_nr_clients() <= clients && cost < 5,
	      "a client that pipelines %zu calls and hangs up costs the loop %.1f ms (< 5 ms)", n, cost);
	free(buf);
}

/* Read what is there; true once the daemon has hung up. */
static bool hung_up(int fd)
{
	char b[4096];

	for (;;) {
		ssize_t n = recv(fd, b, sizeof(b), MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return true;
		if (n < 0)
			return false;
	}
}

static void test_timeouts(void)
{
	uint64_t idle = ctl_idle_timeout_ns, partial = ctl_partial_timeout_ns;
	unsigned int clients = control_nr_clients();
	int quiet, slow, stream, busy;
	bool q, sl, st, b;

	/*
	 * Timeouts many times the 50 ms between the busy client's calls, so a
	 * loaded test machine that stalls this process for a moment does not
	 * make the busy client look idle.
	 */
	ctl_idle_timeout_ns = 600 * 1000000ULL;
	ctl_partial_timeout_ns = 400 * 1000000ULL;
	quiet = pair();
	slow = pair();
	stream = pair();
	busy = pair();
	send_msg(stream, "{\"method\":\"" VL_IFACE ".Stats\",\"more\":true}");
	send(slow, "{\"method\"", 9, MSG_NOSIGNAL);
	/* Two seconds of ticks; the slow one trickles a byte, the busy one calls, every 50 ms. */
	for (int i = 0; i < 40; i++) {
		for (int j = 0; j < 5; j++)
			loop_run_once(D.loop, 10);
		control_stats_tick(&D);
		send(slow, " ", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		send(busy, STATUS_REQ, strlen(STATUS_REQ) + 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		hung_up(stream);
		hung_up(busy);
	}
	q = hung_up(quiet);
	sl = hung_up(slow);
	st = hung_up(stream);
	b = hung_up(busy);
	CHECK(q, "a client that sends nothing is closed after the idle timeout");
	CHECK(sl, "a client whose message stays unfinished is closed after the partial timeout, "
	      "though it trickles a byte every 50 ms");
	CHECK(!st && !b, "a stream and a client that keeps calling stay (stream %s, caller %s)",
	      st ? "closed" : "open", b ? "closed" : "open");
	close(quiet);
	close(slow);
	close(stream);
	close(busy);
	pump(20);
	/* At most: a client an earlier test left idle may have timed out too. */
	CHECK(control_nr_clients() <= clients, "and every one of them is freed (%u clients, %u before)",
	      control_nr_clients(), clients);
	ctl_idle_timeout_ns = idle;
	ctl_partial_timeout_ns = partial;
}

/* Is what waits on @fd the TooManyClients refusal? */
static bool told_too_many(int fd)
{
	struct vl_reply r = { 0 };
	struct vl_in in;
	bool ret = false;

	vl_in_init(&in, 4096);
	for (int i = 0; i < 100 && !ret; i++) {
		const char *msg;
		size_t len;
		char err[128];

		if (vl_in_next(&in, &msg, &len) == 1) {
			ret = vl_reply_parse(msg, len, &r, err, sizeof(err)) == 0 && r.error &&
			      !strcmp(r.error, VL_ERR_TOO_MANY_CLIENTS);
			break;
		}
		if (vl_in_read(&in, fd) == 0)
			break;
		usleep(1000);
	}
	vl_reply_free(&r);
	vl_in_free(&in);
	return ret;
}

/*
 * A child that, as @uid, opens @n connections, reports over @res how many
 * were refused with TooManyClients, and holds the rest until killed.
 */
static pid_t holder(uid_t uid, int n, int *res)
{
	int rp[2];
	pid_t pid;

	if (pipe(rp) < 0)
		check_bail("pipe: %s", strerror(errno));
	pid = fork();
	if (pid == 0) {
		int fds[CTL_MAX_CLIENTS], refused = 0;

		close(rp[0]);
		if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(uid) < 0)
			_exit(10);
		for (int i = 0; i < n; i++) {
			fds[i] = connect_path(sockpath);
			usleep(2000);
		}
		for (int i = 0; i < n; i++)
			refused += fds[i] < 0 || told_too_many(fds[i]);
		if (write(rp[1], &refused, sizeof(refused)) != sizeof(refused))
			_exit(11);
		for (;;)
			pause();
	}
	close(rp[1]);
	*res = rp[0];
	return pid;
}

/* Run the loop until the holder's report arrives. */
static int holder_result(int res)
{
	int v = -1;

	for (int i = 0; i < 10000; i++) {
		struct pollfd p = { .fd = res, .events = POLLIN };

		loop_run_once(D.loop, 1);
		if (poll(&p, 1, 0) == 1) {
			if (read(res, &v, sizeof(v)) != sizeof(v))
				v = -1;
			break;
		}
	}
	close(res);
	return v;
}

static int ctl_too_many(void)
{
	struct vl_reply r;
	struct conn c;
	char err[512];
	int ret;

	if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(60001) < 0)
		return 10;
	if (conn_open(&c, sockpath, err, sizeof(err)) < 0)
		return 11;
	ret = conn_call(&c, VL_IFACE ".Status", NULL, &r, err, sizeof(err));
	printf("# the ctl over the limit: %s\n", ret < 0 ? err : "served");
	return ret < 0 && strstr(err, "too many clients") ? 0 : 12;
}

static int run_fn(int (*fn)(void))
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(fn());
	return serve_until_exit(pid);
}

/*
 * Unprivileged users cannot lock anyone out: one uid holds at most
 * CTL_MAX_PER_UID connections, all of them together leave
 * CTL_PRIV_RESERVED slots for root, and whoever is refused is told so.
 */
static void test_client_limits(void)
{
	const int share = CTL_MAX_CLIENTS - CTL_PRIV_RESERVED;
	int res[4], got[4];
	pid_t pid[4];
	unsigned int clients = control_nr_clients();
	struct vl_reply r = { 0 };
	struct vl_in in;
	int fd;

	if (geteuid() != 0) {
		check_skip("the client limits need root to switch users");
		return;
	}
	chmod(sockpath, 0666);
	/* The first uid asks for one more than its share; the last fills up what is left and more. */
	for (int i = 0; i < 4; i++) {
		int n = i < 3 ? CTL_MAX_PER_UID + (i == 0) : share - 3 * CTL_MAX_PER_UID + 2;

		pid[i] = holder(60001 + i, n, &res[i]);
		got[i] = holder_result(res[i]);
	}
	printf("# refused: %d %d %d %d; %u clients held\n", got[0], got[1], got[2], got[3], control_nr_clients());
	CHECK(got[0] == 1, "one uid gets %d connections, the next one is told TooManyClients (%d refused)",
	      CTL_MAX_PER_UID, got[0]);
	CHECK(got[3] == 2 && control_nr_clients() == clients + (unsigned int)share,
	      "unprivileged clients together get %d slots, the rest are refused (%d refused, %u held)",
	      share, got[3], control_nr_clients() - clients);
	CHECK_INT(run_fn(ctl_too_many), 0, "the ctl over a limit fails saying \"too many clients\"");
	fd = connect_path(sockpath);
	vl_in_init(&in, 1 << 20);
	send_msg(fd, STATUS_REQ);
	CHECK(recv_reply(fd, &in, &r) == 0 && rget(r.params, "state"),
	      "with every unprivileged slot taken, root is still served");
	close(fd);
	for (int i = 0; i < 4; i++) {
		int status;

		kill(pid[i], SIGKILL);
		while (waitpid(pid[i], &status, WNOHANG) == 0)
			loop_run_once(D.loop, 1);
	}
	pump(20);
	CHECK_INT(control_nr_clients(), clients, "and the held slots are freed when they leave");
	vl_reply_free(&r);
	vl_in_free(&in);
}

static int refused_flood(void)
{
	const char *set = "{\"method\":\"" VL_IFACE ".SetTunable\",\"oneway\":true,"
			  "\"parameters\":{\"name\":\"slice_ns\",\"value\":\"5ms\"}}";
	struct vl_reply r;
	struct conn c;
	char err[512];

	if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(60001) < 0)
		return 10;
	if (conn_open(&c, sockpath, err, sizeof(err)) < 0)
		return 11;
	for (int i = 0; i < 2000; i++)
		if (write(c.fd, set, strlen(set) + 1) != (ssize_t)strlen(set) + 1)
			return 12;
	/* Its answer comes after all of them were handled. */
	if (conn_call(&c, VL_IFACE ".Status", NULL, &r, err, sizeof(err)) < 0)
		return 13;
	vl_reply_free(&r);
	conn_close(&c);
	return 0;
}

/* 2000 refused calls on one connection must not write 2000 log lines. */
static void test_refusal_log(void)
{
	char path[128], line[512];
	unsigned int clients = control_nr_clients();
	unsigned long lines = 0;
	bool summed = false;
	int saved, fd, ret;
	FILE *f;

	if (geteuid() != 0) {
		check_skip("refusals need a second user");
		return;
	}
	chmod(sockpath, 0666);
	snprintf(path, sizeof(path), "%.100s/refusals.log", tmpdir);
	fflush(stderr);
	saved = dup(2);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (saved < 0 || fd < 0 || dup2(fd, 2) < 0)
		check_bail("redirecting stderr: %s", strerror(errno));
	close(fd);
	log_set_level(LOG_INFO);
	ret = run_fn(refused_flood);
	for (int i = 0; i < 1000 && control_nr_clients() > clients; i++)
		loop_run_once(D.loop, 1);
	log_set_level(LOG_WARNING);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	CHECK_INT(ret, 0, "an unprivileged client sent 2000 oneway SetTunable calls");
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (strstr(line, "refused")) {
			lines++;
			summed |= strstr(line, "1999 more") != NULL;
		}
	}
	if (f)
		fclose(f);
	printf("# log lines about refused calls: %lu\n", lines);
	CHECK(lines <= 3 && summed, "2000 refused calls wrote %lu log lines, the rest summed up (%s)", lines,
	      summed ? "1999 more" : "no summary");
	CHECK_INT(D.tun.slice_ns, tunable_find("slice_ns")->def, "and none of them changed anything");
}

/* The socket's directory must be ours alone: else anyone could swap the socket. */
static void test_runtime_dir(void)
{
	static const struct {
		const char *name, *want;
	} bad[] = {
		{ "wide", "writable by group or others" },
		{ "link", "symbolic link" },
		{ "foreign", "owned by uid 65534" },
	};
	char real[128], dir[128], path[160], err[512];
	struct daemon o = D;
	int ret;

	if (geteuid() != 0) {
		check_skip("a foreign-owned directory needs root");
		return;
	}
	snprintf(real, sizeof(real), "%.60s/real", tmpdir);
	mkdir(real, 0755);
	snprintf(dir, sizeof(dir), "%.60s/wide", tmpdir);
	mkdir(dir, 0777);
	chmod(dir, 0777);
	snprintf(dir, sizeof(dir), "%.60s/link", tmpdir);
	if (symlink(real, dir) < 0)
		check_bail("symlink: %s", strerror(errno));
	snprintf(dir, sizeof(dir), "%.60s/foreign", tmpdir);
	mkdir(dir, 0755);
	if (chown(dir, 65534, 65534) < 0)
		check_bail("chown: %s", strerror(errno));
	control_close(&D);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(path, sizeof(path), "%.60s/%s/c.sock", tmpdir, bad[i].name);
		o.opt.socket_path = path;
		ret = control_open(&o, err, sizeof(err));
		CHECK(ret < 0 && strstr(err, bad[i].want) && access(path, F_OK) < 0,
		      "a socket directory %s is refused: %s", bad[i].want, ret < 0 ? err : "accepted");
		if (!ret)
			control_close(&o);
	}
	ret = control_open(&D, err, sizeof(err));
	if (ret)
		check_bail("reopening %s: %s", sockpath, err);
}

/* A listener that is not root: the ctl must not believe it. */
static void test_ctl_listener(void)
{
	char path[128], err[512];
	struct conn c;
	int status, ret = 0, sp[2];
	pid_t pid;

	if (geteuid() != 0) {
		check_skip("a listener of another user needs root");
		return;
	}
	snprintf(path, sizeof(path), "%.60s/spoof.sock", tmpdir);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) < 0)
		check_bail("socketpair: %s", strerror(errno));
	pid = fork();
	if (pid == 0) {
		struct sockaddr_un a = { .sun_family = AF_UNIX };
		int l = socket(AF_UNIX, SOCK_STREAM, 0);
		char b;

		close(sp[0]);
		snprintf(a.sun_path, sizeof(a.sun_path), "%.100s", path);
		if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || setuid(65534) < 0 || listen(l, 4) < 0)
			_exit(1);
		if (write(sp[1], "r", 1) != 1)
			_exit(2);
		/* Until the parent is done. */
		while (read(sp[1], &b, 1) > 0)
			;
		_exit(0);
	}
	close(sp[1]);
	{
		char b;

		if (read(sp[0], &b, 1) != 1)
			check_bail("spoofing listener did not start");
	}
	ret = conn_open(&c, path, err, sizeof(err));
	CHECK(ret == -EPERM && strstr(err, "not root"), "the ctl refuses a socket served by uid 65534: %s",
	      ret ? err : "accepted");
	if (!ret)
		conn_close(&c);
	close(sp[0]);
	waitpid(pid, &status, 0);
	unlink(path);
}

int main(void)
{
	char rm[300];

	log_init(LOG_WARNING);
	fixture_init(&D, 3, 4, true, true);
	if (loop_new(&D.loop) < 0 || !mkdtemp(tmpdir))
		check_bail("setup: %s", strerror(errno));

	test_service();
	test_status();
	test_topology();
	test_stats();
	test_tunables();
	test_pipelining();
	test_oversized();
	test_hangup_oneway();
	test_streams();
	test_backpressure();
	test_socket_file();
	test_permissions();
	test_hangup_cost();
	test_timeouts();
	test_client_limits();
	test_refusal_log();
	test_runtime_dir();
	test_ctl_listener();

	control_close(&D);
	CHECK(access(sockpath, F_OK) < 0, "the socket file is gone after control_close");
	loop_free(D.loop);
	vl_reply_free(&R);
	snprintf(rm, sizeof(rm), "rm -rf -- '%s'", tmpdir);
	if (system(rm) != 0)
		printf("# could not remove %s\n", tmpdir);
	return check_done();
}
