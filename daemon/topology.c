// SPDX-License-Identifier: GPL-2.0
/*
 * The machine's NUMA topology, read from sysfs below a root prefix.
 *
 * Every file is read whole into a bounded buffer and parsed strictly: the
 * result feeds fixed-size BPF arrays, so an id we cannot place is refused
 * with a reason instead of being truncated or guessed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "topology.h"

#define SYS_NODE	"sys/devices/system/node"
#define SYS_CPU		"sys/devices/system/cpu"

/*
 * The longest file we accept. A cpulist naming each of AN_MAX_CPUS CPUs on
 * its own ("0,2,4,...") stays under 5 KiB, a node's meminfo under 2 KiB, so
 * anything longer is not a kernel file we understand.
 */
#define READ_MAX	16384

/* SLIT values the kernel itself assumes when firmware gives none. */
#define DIST_LOCAL	10
#define DIST_REMOTE	20

/* An LLC while they are found: any number, in the order found. */
struct llc_found {
	int node, nr_cpus, first_cpu, idx;
};

struct reader {
	char base[PATH_MAX];	/* root prefix without the trailing '/' */
	char path[PATH_MAX];	/* file being read, for messages */
	char buf[READ_MAX + 1];
	/* For rd_llcs(): each LLC has a CPU, so there are at most AN_MAX_CPUS. */
	struct llc_found llc[AN_MAX_CPUS];
	int llc_of[AN_MAX_CPUS];
	int llc_rank[AN_MAX_CPUS];
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 3, 4)))
static void seterr(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

/* Sets r->path to base + "/" + the formatted relative path. */
__attribute__((format(printf, 2, 3)))
static int rd_path(struct reader *r, const char *fmt, ...)
{
	char rel[PATH_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(rel) ||
	    (size_t)snprintf(r->path, sizeof(r->path), "%s/%s", r->base, rel) >= sizeof(r->path)) {
		seterr(r->err, r->errlen, "%s/%s: path too long", r->base, rel);
		return -ENAMETOOLONG;
	}
	return 0;
}

/*
 * Read r->path into r->buf, NUL-terminated, trailing whitespace removed
 * (sysfs ends every value with a newline). With @optional, a missing file
 * returns -ENOENT without a message so the caller can fall back.
 */
static int rd_file(struct reader *r, bool optional)
{
	size_t len = 0;
	int fd, ret;

	fd = open(r->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		if (!(optional && ret == -ENOENT))
			seterr(r->err, r->errlen, "%s: open: %s", r->path, strerror(-ret));
		return ret;
	}
	/* One byte more than we keep, to tell "exactly full" from "too long". */
	for (;;) {
		ssize_t n = read(fd, r->buf + len, sizeof(r->buf) - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			seterr(r->err, r->errlen, "%s: read: %s", r->path, strerror(-ret));
			close(fd);
			return ret;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == sizeof(r->buf)) {
			seterr(r->err, r->errlen, "%s: longer than %d bytes", r->path, READ_MAX);
			close(fd);
			return -EFBIG;
		}
	}
	close(fd);
	while (len && (r->buf[len - 1] == '\n' || r->buf[len - 1] == ' ' || r->buf[len - 1] == '\t'))
		len--;
	r->buf[len] = '\0';
	if (memchr(r->buf, '\0', len)) {
		seterr(r->err, r->errlen, "%s: contains a NUL byte", r->path);
		return -EINVAL;
	}
	return 0;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Parse an unsigned decimal. Values saturate at @cap so that a huge number
 * is reported as out of range, never wrapped into a valid one.
 */
static const char *parse_uint(const char *p, const char *end, unsigned long cap, unsigned long *v)
{
	unsigned long x = 0;

	if (p >= end || !is_digit(*p))
		return NULL;
	for (; p < end && is_digit(*p); p++) {
		x = x * 10 + (unsigned long)(*p - '0');
		if (x > cap)
			x = cap;
	}
	*v = x;
	return p;
}

/* parse_cpulist, also telling which id was out of range. */
static int cpulist_parse(const char *s, uint8_t *mask, int max, unsigned long *bad)
{
	const char *p = s, *end;
	int n = 0;

	if (!s || max < 0 || (max && !mask))
		return -EINVAL;
	if (max)
		memset(mask, 0, (size_t)max);
	end = s + strlen(s);
	while (end > s && (end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (p == end)
		return 0;	/* the kernel prints an empty mask as an empty line */
	for (;;) {
		unsigned long lo, hi;

		p = parse_uint(p, end, (unsigned long)INT_MAX, &lo);
		if (!p)
			goto inval;
		hi = lo;
		if (p < end && *p == '-') {
			p = parse_uint(p + 1, end, (unsigned long)INT_MAX, &hi);
			if (!p)
				goto inval;
		}
		if (hi < lo)
			goto inval;
		if (hi >= (unsigned long)max) {
			if (bad)
				*bad = lo >= (unsigned long)max ? lo : hi;
			if (max)
				memset(mask, 0, (size_t)max);
			return -ERANGE;
		}
		for (unsigned long i = lo; i <= hi; i++) {
			if (!mask[i]) {
				mask[i] = 1;
				n++;
			}
		}
		if (p == end)
			return n;
		if (*p != ',')
			goto inval;
		p++;
	}
inval:
	if (max)
		memset(mask, 0, (size_t)max);
	return -EINVAL;
}

int parse_cpulist(const char *s, uint8_t *mask, int max)
{
	return cpulist_parse(s, mask, max, NULL);
}

/*
 * Read a cpulist file into @mask. Ids at or above @max are -E2BIG (the
 * machine is beyond our caps), syntax errors -EINVAL; an @optional file that
 * is missing is a silent -ENOENT.
 */
static int rd_cpulist(struct reader *r, uint8_t *mask, int max, const char *what, const char *cap,
		      bool optional)
{
	unsigned long bad = 0;
	int ret;

	ret = rd_file(r, optional);
	if (ret < 0)
		return ret;
	ret = cpulist_parse(r->buf, mask, max, &bad);
	if (ret == -ERANGE) {
		seterr(r->err, r->errlen, "%s: %s id %lu is beyond the supported maximum %d (%s)",
		       r->path, what, bad, max - 1, cap);
		return -E2BIG;
	}
	if (ret < 0) {
		seterr(r->err, r->errlen, "%s: invalid %s list '%.64s'", r->path, what, r->buf);
		return ret;
	}
	return ret;
}

static int node_index(const struct topology *t, int id)
{
	for (int i = 0; i < t->nr_nodes; i++)
		if (t->nodes[i].id == id)
			return i;
	return -1;
}

static int claim_cpu(struct reader *r, struct topology *t, const uint8_t *possible, int cpu, int id)
{
	if (cpu >= t->nr_cpus || !possible[cpu]) {
		seterr(r->err, r->errlen, "%s: cpu %d of node %d is not a possible CPU", r->path, cpu, id);
		return -EINVAL;
	}
	if (t->cpu_node[cpu] >= 0 && t->cpu_node[cpu] != id) {
		seterr(r->err, r->errlen, "%s: cpu %d is in node %d and node %d", r->path, cpu,
		       t->cpu_node[cpu], id);
		return -EINVAL;
	}
	t->cpu_node[cpu] = id;
	return 0;
}

/*
 * The node's cpuM entries. They are the authority on membership: on x86 a
 * CPU that goes offline leaves the node's cpulist but keeps its link, and its
 * node does not change while it is offline.
 */
static int rd_node_links(struct reader *r, struct topology *t, const uint8_t *possible, int id)
{
	struct dirent *de;
	DIR *d;
	int ret = 0;

	d = opendir(r->path);
	if (!d) {
		ret = -errno;
		seterr(r->err, r->errlen, "%s: opendir: %s (node %d is listed online)", r->path,
		       strerror(-ret), id);
		return ret;
	}
	for (;;) {
		const char *name, *p;
		unsigned long cpu;

		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno) {
				ret = -errno;
				seterr(r->err, r->errlen, "%s: readdir: %s", r->path, strerror(-ret));
			}
			break;
		}
		/*
		 * Only the name matters: sysfs makes these symlinks, a fake tree
		 * may make them directories, and d_type may be DT_UNKNOWN.
		 * "cpulist" and "cpumap" share the prefix, hence digits only.
		 */
		name = de->d_name;
		if (strncmp(name, "cpu", 3))
			continue;
		p = parse_uint(name + 3, name + strlen(name), (unsigned long)INT_MAX, &cpu);
		if (!p || *p)
			continue;
		if (cpu >= AN_MAX_CPUS) {
			seterr(r->err, r->errlen, "%s/%s: cpu id %lu is beyond the supported maximum %d (AN_MAX_CPUS)",
			       r->path, name, cpu, AN_MAX_CPUS - 1);
			ret = -E2BIG;
			break;
		}
		ret = claim_cpu(r, t, possible, (int)cpu, id);
		if (ret < 0)
			break;
	}
	closedir(d);
	return ret;
}

/*
 * MemTotal from a node's meminfo. Unknown or unreadable memory is 0, not an
 * error: it is reported to the operator, nothing schedules by it.
 */
static uint64_t parse_memtotal(char *text, int id)
{
	char *line = text;

	while (line && *line) {
		char *nl = strchr(line, '\n');
		char *p;
		unsigned long nid, kb;

		if (nl)
			*nl = '\0';
		/* "Node 3 MemTotal:       16303676 kB" */
		p = line;
		if (!strncmp(p, "Node ", 5)) {
			p = (char *)parse_uint(p + 5, p + strlen(p), (unsigned long)INT_MAX, &nid);
			if (p && nid == (unsigned long)id) {
				while (*p == ' ')
					p++;
				if (!strncmp(p, "MemTotal:", 9)) {
					p += 9;
					while (*p == ' ')
						p++;
					p = (char *)parse_uint(p, p + strlen(p), ULONG_MAX / 10, &kb);
					if (p && !strcmp(p, " kB"))
						return kb;
					return 0;
				}
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	return 0;
}

/*
 * Row @i of the distance table: one entry per online node, in node order.
 * A missing file gets the kernel's own default (local 10, remote 20).
 */
static int rd_node_distance(struct reader *r, struct topology *t, int i)
{
	const char *p, *end;
	int n = 0, ret;

	ret = rd_file(r, true);
	if (ret == -ENOENT) {
		for (int j = 0; j < t->nr_nodes; j++)
			t->distance[i][j] = i == j ? DIST_LOCAL : DIST_REMOTE;
		return 0;
	}
	if (ret < 0)
		return ret;
	p = r->buf;
	end = r->buf + strlen(r->buf);
	for (;;) {
		unsigned long v;

		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end)
			break;
		p = parse_uint(p, end, 1000, &v);
		if (!p || (p < end && *p != ' ' && *p != '\t')) {
			seterr(r->err, r->errlen, "%s: invalid distance row '%.64s'", r->path, r->buf);
			return -EINVAL;
		}
		if (v < 1 || v > 255) {
			seterr(r->err, r->errlen, "%s: distance entry %d is %lu, expected 1..255",
			       r->path, n + 1, v);
			return -EINVAL;
		}
		if (n < t->nr_nodes)
			t->distance[i][n] = (uint8_t)v;
		n++;
		if (n > AN_MAX_NODE_ID)
			break;	/* already wrong; no need to count further */
	}
	if (n != t->nr_nodes) {
		seterr(r->err, r->errlen, "%s: %d distance %s, expected %d (one per online node)",
		       r->path, n, n == 1 ? "entry" : "entries", t->nr_nodes);
		return -EINVAL;
	}
	return 0;
}

static int rd_node(struct reader *r, struct topology *t, const uint8_t *possible, int i)
{
	uint8_t mask[AN_MAX_CPUS];
	int id = t->nodes[i].id, ret;

	ret = rd_path(r, SYS_NODE "/node%d", id);
	if (ret < 0)
		return ret;
	ret = rd_node_links(r, t, possible, id);
	if (ret < 0)
		return ret;

	/* The cpulist adds CPUs of kernels or trees that make no links. */
	ret = rd_path(r, SYS_NODE "/node%d/cpulist", id);
	if (ret < 0)
		return ret;
	ret = rd_cpulist(r, mask, AN_MAX_CPUS, "cpu", "AN_MAX_CPUS", true);
	if (ret < 0 && ret != -ENOENT)
		return ret;
	for (int c = 0; ret > 0 && c < AN_MAX_CPUS; c++) {
		if (mask[c]) {
			int rc = claim_cpu(r, t, possible, c, id);

			if (rc < 0)
				return rc;
		}
	}

	ret = rd_path(r, SYS_NODE "/node%d/meminfo", id);
	if (ret < 0)
		return ret;
	ret = rd_file(r, true);
	if (ret == 0)
		t->nodes[i].mem_kb = parse_memtotal(r->buf, id);
	else if (ret != -ENOENT)
		return ret;
	return 0;
}

static int rd_nodes(struct reader *r, struct topology *t, const uint8_t *possible)
{
	uint8_t online[AN_MAX_NODE_ID];
	struct stat st;
	int ret;

	ret = rd_path(r, SYS_NODE);
	if (ret < 0)
		return ret;
	if (stat(r->path, &st) < 0) {
		ret = -errno;
		if (ret != -ENOENT) {
			seterr(r->err, r->errlen, "%s: stat: %s", r->path, strerror(-ret));
			return ret;
		}
		/* A kernel without CONFIG_NUMA: one node 0 that holds every CPU. */
		t->nr_nodes = 1;
		t->nodes[0].id = 0;
		t->distance[0][0] = DIST_LOCAL;
		for (int c = 0; c < t->nr_cpus; c++)
			if (possible[c])
				t->cpu_node[c] = 0;
		return 0;
	}

	ret = rd_path(r, SYS_NODE "/online");
	if (ret < 0)
		return ret;
	ret = rd_cpulist(r, online, AN_MAX_NODE_ID, "node", "AN_MAX_NODE_ID", false);
	if (ret < 0)
		return ret;
	if (ret == 0) {
		seterr(r->err, r->errlen, "%s: no online node", r->path);
		return -EINVAL;
	}
	for (int id = 0; id < AN_MAX_NODE_ID; id++)
		if (online[id])
			t->nodes[t->nr_nodes++].id = id;
	for (int i = 0; i < t->nr_nodes; i++) {
		ret = rd_node(r, t, possible, i);
		if (ret < 0)
			return ret;
	}
	/*
	 * Distances last: a row's length is only checked against the node
	 * count, so a missing node is reported as itself, not as a short row.
	 */
	for (int i = 0; i < t->nr_nodes; i++) {
		ret = rd_path(r, SYS_NODE "/node%d/distance", t->nodes[i].id);
		if (ret < 0)
			return ret;
		ret = rd_node_distance(r, t, i);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int rd_cpus(struct reader *r, struct topology *t, uint8_t *possible)
{
	uint8_t online[AN_MAX_CPUS];
	int ret;

	ret = rd_path(r, SYS_CPU "/possible");
	if (ret < 0)
		return ret;
	ret = rd_cpulist(r, possible, AN_MAX_CPUS, "cpu", "AN_MAX_CPUS", false);
	if (ret < 0)
		return ret;
	if (ret == 0) {
		seterr(r->err, r->errlen, "%s: no possible CPU", r->path);
		return -EINVAL;
	}
	for (int c = 0; c < AN_MAX_CPUS; c++)
		if (possible[c])
			t->nr_cpus = c + 1;

	ret = rd_path(r, SYS_CPU "/online");
	if (ret < 0)
		return ret;
	ret = rd_cpulist(r, online, AN_MAX_CPUS, "cpu", "AN_MAX_CPUS", false);
	if (ret < 0)
		return ret;
	for (int c = 0; c < AN_MAX_CPUS; c++) {
		if (!online[c])
			continue;
		if (!possible[c]) {
			seterr(r->err, r->errlen, "%s: cpu %d is online but not possible", r->path, c);
			return -EINVAL;
		}
		t->cpu_online[c] = 1;
		t->nr_online++;
	}
	if (!t->nr_online) {
		seterr(r->err, r->errlen, "%s: no online CPU", r->path);
		return -EINVAL;
	}
	return 0;
}

/* The LLC of @node with the fewest CPUs, -1 if the node has none yet. */
static int smallest_llc(const struct llc_found *l, int n, int node)
{
	int best = -1;

	for (int k = 0; k < n; k++)
		if (l[k].node == node && (best < 0 || l[k].nr_cpus < l[best].nr_cpus))
			best = k;
	return best;
}

static int cmp_llc(const void *a, const void *b)
{
	const struct llc_found *x = a, *y = b;

	if (x->node != y->node)
		return x->node < y->node ? -1 : 1;
	return x->first_cpu < y->first_cpu ? -1 : x->first_cpu > y->first_cpu;
}

_Static_assert(AN_MAX_NODE_ID <= AN_MAX_LLCS, "one LLC per node id always fits the topology's LLCs");

/* Does some node have more LLCs than the BPF view holds? */
static bool llcs_beyond_caps(const struct llc_found *l, int n)
{
	int run = 0;

	if (n > AN_MAX_LLCS)
		return true;
	/* Sorted by node: count each node's run. */
	for (int k = 0; k < n; k++) {
		run = k && l[k].node == l[k - 1].node ? run + 1 : 1;
		if (run > AN_MAX_NODE_LLCS)
			return true;
	}
	return false;
}

/*
 * The last-level caches. Each CPU with a node and an L3 index names the
 * CPUs sharing it; an LLC is that list cut to the CPU's node, as firmware
 * with sub-NUMA clustering reports the whole socket's L3 while its memory
 * traffic, and so what the cache holds, stays in the node. Cache files are
 * hints, not membership: a missing or unreadable one leaves the CPU without
 * information, and such a CPU (offline CPUs have no cache directory on x86)
 * joins its node's smallest LLC, or forms the node's one LLC.
 */
static void rd_llcs(struct reader *r, struct topology *t)
{
	uint8_t shared[AN_MAX_CPUS];
	struct llc_found *l = r->llc;
	int *of = r->llc_of, n = 0;

	for (int c = 0; c < AN_MAX_CPUS; c++)
		of[c] = t->cpu_llc[c] = t->cpu_cache[c] = -1;
	for (int c = 0; c < t->nr_cpus; c++) {
		int node = t->cpu_node[c];

		if (node < 0 || of[c] >= 0)
			continue;
		if (rd_path(r, SYS_CPU "/cpu%d/cache/index3/shared_cpu_list", c) < 0 ||
		    rd_cpulist(r, shared, AN_MAX_CPUS, "cpu", "AN_MAX_CPUS", true) < 0)
			continue;
		shared[c] = 1;
		l[n] = (struct llc_found){ .node = node, .first_cpu = c };
		for (int d = 0; d < t->nr_cpus; d++) {
			if (!shared[d] || of[d] >= 0 || t->cpu_node[d] != node)
				continue;
			of[d] = n;
			l[n].nr_cpus++;
			if (d < l[n].first_cpu)
				l[n].first_cpu = d;
		}
		n++;
	}
	for (int c = 0; c < t->nr_cpus; c++) {
		int k;

		if (t->cpu_node[c] < 0 || of[c] >= 0)
			continue;
		k = smallest_llc(l, n, t->cpu_node[c]);
		if (k < 0) {
			k = n++;
			l[k] = (struct llc_found){ .node = t->cpu_node[c], .first_cpu = c };
		}
		of[c] = k;
		l[k].nr_cpus++;
		if (c < l[k].first_cpu)
			l[k].first_cpu = c;
	}

	/* The caches as read, before the cap merges them. */
	t->nr_caches = n;
	for (int c = 0; c < t->nr_cpus; c++)
		if (of[c] >= 0)
			t->cpu_cache[c] = l[of[c]].first_cpu;
	for (int k = 0; k < n; k++)
		l[k].idx = k;
	qsort(l, (size_t)n, sizeof(*l), cmp_llc);
	t->llc_capped = llcs_beyond_caps(l, n);
	if (t->llc_capped) {
		/* One per node: the nodes with CPUs fit, AN_MAX_NODES <= AN_MAX_LLCS. */
		int m = 0;

		for (int k = 0; k < n; k++) {
			struct llc_found cur = l[k];	/* l[m] may be l[k]: merged in place */

			if (!m || cur.node != l[m - 1].node)
				l[m++] = (struct llc_found){ .node = cur.node, .first_cpu = cur.first_cpu };
			else if (cur.first_cpu < l[m - 1].first_cpu)
				l[m - 1].first_cpu = cur.first_cpu;
			l[m - 1].nr_cpus += cur.nr_cpus;
			r->llc_rank[cur.idx] = m - 1;
		}
		n = m;
	} else {
		for (int k = 0; k < n; k++)
			r->llc_rank[l[k].idx] = k;
	}
	t->nr_llcs = n;
	for (int k = 0; k < n; k++)
		t->llcs[k] = (struct topo_llc){ .node = l[k].node, .nr_cpus = l[k].nr_cpus,
					       .first_cpu = l[k].first_cpu };
	for (int c = 0; c < t->nr_cpus && n; c++)
		if (of[c] >= 0)
			t->cpu_llc[c] = r->llc_rank[of[c]];
}

static int topology_read_into(struct reader *r, struct topology *t)
{
	uint8_t possible[AN_MAX_CPUS];
	int ret;

	for (int c = 0; c < AN_MAX_CPUS; c++)
		t->cpu_node[c] = -1;
	ret = rd_cpus(r, t, possible);
	if (ret < 0)
		return ret;
	ret = rd_nodes(r, t, possible);
	if (ret < 0)
		return ret;
	for (int c = 0; c < t->nr_cpus; c++) {
		int i;

		if (t->cpu_node[c] < 0)
			continue;
		i = node_index(t, t->cpu_node[c]);
		if (i < 0) {	/* only listed nodes claim CPUs; kept as a guard */
			seterr(r->err, r->errlen, "cpu %d: node %d is not online", c, t->cpu_node[c]);
			return -EINVAL;
		}
		t->nodes[i].nr_cpus++;
		if (t->cpu_online[c])
			t->nodes[i].nr_online++;
	}
	rd_llcs(r, t);
	return 0;
}

/* A reader below @root. Returns 0 or -errno with @err set. */
static int reader_new(const char *root, char *err, size_t errlen, struct reader **out)
{
	struct reader *r;
	size_t len;

	if (!root)
		root = "";
	len = strlen(root);
	while (len && root[len - 1] == '/')
		len--;
	if (len >= PATH_MAX - 64) {
		seterr(err, errlen, "%s: path too long", root);
		return -ENAMETOOLONG;
	}
	/* Off the stack: the daemon may call this from a deep call chain. */
	r = calloc(1, sizeof(*r));
	if (!r) {
		seterr(err, errlen, "topology: calloc: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	memcpy(r->base, root, len);
	r->base[len] = '\0';
	r->err = err;
	r->errlen = errlen;
	*out = r;
	return 0;
}

int topology_read(const char *root, struct topology *t, char *err, size_t errlen)
{
	struct reader *r;
	int ret;

	if (!t)
		return -EINVAL;
	memset(t, 0, sizeof(*t));
	ret = reader_new(root, err, errlen, &r);
	if (ret)
		return ret;
	ret = topology_read_into(r, t);
	free(r);
	/* Half a topology must not pass for a machine. */
	if (ret < 0) {
		memset(t, 0, sizeof(*t));
		return ret;
	}
	/* A machine beyond the BPF view's caps still reads; attaching it fails, with the reason. */
	topology_index(t, NULL, 0);
	return 0;
}

int topology_index(struct topology *t, char *err, size_t errlen)
{
	/* Off the stack: the BPF view is tens of KiB. */
	struct an_topo *bt = malloc(sizeof(*bt));
	int ret;

	t->indexed = false;
	if (!bt) {
		seterr(err, errlen, "topology_index: malloc: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	ret = topology_to_bpf(t, bt, err, errlen);
	if (!ret) {
		memcpy(t->dense_of_id, bt->node_of_id, sizeof(t->dense_of_id));
		t->indexed = true;
	}
	free(bt);
	return ret;
}

uint32_t topology_dense_node(const struct topology *t, int id)
{
	if (!t->indexed || id < 0 || id >= AN_MAX_NODE_ID)
		return AN_NO_NODE;
	return t->dense_of_id[id];
}

static int clamp(int v, int max)
{
	return v < 0 ? 0 : v > max ? max : v;
}

/* Memory size is left out: it does not change where anything runs. */
int topology_refresh_online(const char *root, struct topology *t)
{
	uint8_t online[AN_MAX_CPUS] = { 0 };
	struct reader *r;
	int ret, nr_online = 0;

	ret = reader_new(root, NULL, 0, &r);
	if (ret)
		return ret;
	ret = rd_path(r, SYS_CPU "/online");
	if (!ret)
		ret = rd_cpulist(r, online, AN_MAX_CPUS, "CPU", "AN_MAX_CPUS", false);
	free(r);
	if (ret < 0)
		return ret;
	if (!memcmp(online, t->cpu_online, sizeof(online)))
		return 0;
	/* A CPU in no node is a membership change: the scheduler asks for a restart. */
	for (int c = 0; c < AN_MAX_CPUS; c++)
		if (online[c] && (c >= t->nr_cpus || t->cpu_node[c] < 0))
			return 0;
	memcpy(t->cpu_online, online, sizeof(online));
	for (int i = 0; i < t->nr_nodes; i++)
		t->nodes[i].nr_online = 0;
	for (int c = 0; c < t->nr_cpus && c < AN_MAX_CPUS; c++) {
		int i;

		if (!online[c])
			continue;
		nr_online++;
		i = node_index(t, t->cpu_node[c]);
		if (i >= 0)
			t->nodes[i].nr_online++;
	}
	t->nr_online = nr_online;
	return 1;
}

bool topology_equal(const struct topology *a, const struct topology *b)
{
	int nn, nc;

	if (a->nr_nodes != b->nr_nodes || a->nr_cpus != b->nr_cpus || a->nr_online != b->nr_online)
		return false;
	nn = clamp(a->nr_nodes, AN_MAX_NODE_ID);
	nc = clamp(a->nr_cpus, AN_MAX_CPUS);
	for (int i = 0; i < nn; i++) {
		if (a->nodes[i].id != b->nodes[i].id || a->nodes[i].nr_cpus != b->nodes[i].nr_cpus ||
		    a->nodes[i].nr_online != b->nodes[i].nr_online)
			return false;
		if (memcmp(a->distance[i], b->distance[i], (size_t)nn))
			return false;
	}
	for (int c = 0; c < nc; c++)
		if (a->cpu_node[c] != b->cpu_node[c] || a->cpu_online[c] != b->cpu_online[c] ||
		    a->cpu_llc[c] != b->cpu_llc[c] || a->cpu_cache[c] != b->cpu_cache[c])
			return false;
	if (a->nr_llcs != b->nr_llcs || a->nr_caches != b->nr_caches)
		return false;
	for (int k = 0; k < clamp(a->nr_llcs, AN_MAX_LLCS); k++)
		if (a->llcs[k].node != b->llcs[k].node || a->llcs[k].nr_cpus != b->llcs[k].nr_cpus ||
		    a->llcs[k].first_cpu != b->llcs[k].first_cpu)
			return false;
	return true;
}

void topology_drop_llcs(struct topology *t)
{
	t->nr_llcs = 0;
	t->llc_capped = false;
	for (int c = 0; c < AN_MAX_CPUS; c++)
		t->cpu_llc[c] = -1;
}

int topology_nr_cpu_nodes(const struct topology *t)
{
	int n = 0;

	for (int i = 0; i < clamp(t->nr_nodes, AN_MAX_NODE_ID); i++)
		if (t->nodes[i].nr_cpus > 0)
			n++;
	return n;
}

/*
 * The LLC part of the BPF view. A topology without LLCs (made by hand, or a
 * kernel without cache information) gets one per node, which makes the
 * per-LLC queues the per-node queues of old.
 */
static int llcs_to_bpf(const struct topology *t, const int *dense_of, struct an_topo *out, char *err,
		       size_t errlen)
{
	int nl = t->nr_llcs;

	if (nl < 0 || nl > AN_MAX_LLCS) {
		seterr(err, errlen, "topology_to_bpf: %d LLCs, at most %d supported", nl, AN_MAX_LLCS);
		return -EINVAL;
	}
	if (!nl) {
		out->nr_llcs = out->nr_nodes;
		for (u32 d = 0; d < out->nr_nodes; d++) {
			out->llc_node[d] = d;
			out->node_nr_llcs[d] = 1;
			out->node_llcs[d][0] = d;
		}
		for (int c = 0; c < t->nr_cpus; c++)
			out->cpu_llc[c] = out->cpu_node[c];
		return 0;
	}
	for (int k = 0; k < nl; k++) {
		int i = node_index(t, t->llcs[k].node);
		u32 d;

		if (i < 0 || dense_of[i] < 0) {
			seterr(err, errlen, "topology_to_bpf: LLC %d is in node %d, which has no CPUs", k,
			       t->llcs[k].node);
			return -EINVAL;
		}
		d = (u32)dense_of[i];
		if (out->node_nr_llcs[d] >= AN_MAX_NODE_LLCS) {
			seterr(err, errlen, "topology_to_bpf: node %d has more than %d LLCs", t->llcs[k].node,
			       AN_MAX_NODE_LLCS);
			return -EINVAL;
		}
		out->llc_node[k] = d;
		out->node_llcs[d][out->node_nr_llcs[d]++] = (u32)k;
	}
	for (u32 d = 0; d < out->nr_nodes; d++) {
		if (!out->node_nr_llcs[d]) {
			seterr(err, errlen, "topology_to_bpf: node %u has CPUs but no LLC", out->node_id[d]);
			return -EINVAL;
		}
	}
	for (int c = 0; c < t->nr_cpus; c++) {
		int k = t->cpu_llc[c];

		if (!out->cpu_known[c])
			continue;
		if (k < 0 || k >= nl || out->llc_node[k] != out->cpu_node[c]) {
			seterr(err, errlen, "topology_to_bpf: cpu %d has LLC %d, not one of its node", c, k);
			return -EINVAL;
		}
		out->cpu_llc[c] = (u32)k;
	}
	out->nr_llcs = (u32)nl;
	return 0;
}

/*
 * Each CPU's physical cache, after its LLC: the queues may be per node
 * (--node-queues drops the LLCs) or merged (llc_capped) while the count of
 * runs that changed L3 still wants the caches. A topology that read none
 * lends its LLCs.
 */
static int caches_to_bpf(const struct topology *t, struct an_topo *out, char *err, size_t errlen)
{
	int n = t->nr_caches;

	if (n < 0 || n > AN_MAX_CPUS) {
		seterr(err, errlen, "topology_to_bpf: %d caches, at most %d", n, AN_MAX_CPUS);
		return -EINVAL;
	}
	out->nr_caches = n ? (u32)n : out->nr_llcs;
	for (int c = 0; c < t->nr_cpus; c++) {
		int k = t->cpu_cache[c];

		out->cpu_cache[c] = out->cpu_llc[c];
		if (!n || !out->cpu_known[c])
			continue;
		/* A cache is named by its lowest CPU, which lies in the same node. */
		if (k < 0 || k >= t->nr_cpus || t->cpu_node[k] != t->cpu_node[c]) {
			seterr(err, errlen, "topology_to_bpf: cpu %d has cache %d, not a CPU of its node", c, k);
			return -EINVAL;
		}
		out->cpu_cache[c] = (u32)k;
	}
	return 0;
}

int topology_to_bpf(const struct topology *t, struct an_topo *out, char *err, size_t errlen)
{
	int dense_of[AN_MAX_NODE_ID];	/* node index -> dense index, -1 if CPU-less */
	int idx_of[AN_MAX_NODES];	/* dense index -> node index */
	int nd = 0, ret;

	memset(out, 0, sizeof(*out));
	if (t->nr_nodes < 1 || t->nr_nodes > AN_MAX_NODE_ID || t->nr_cpus < 1 || t->nr_cpus > AN_MAX_CPUS) {
		seterr(err, errlen, "topology_to_bpf: %d nodes, %d CPUs: not a readable topology",
		       t->nr_nodes, t->nr_cpus);
		return -EINVAL;
	}
	for (int i = 0; i < t->nr_nodes; i++) {
		int id = t->nodes[i].id;

		if (id < 0 || id >= AN_MAX_NODE_ID || (i && id <= t->nodes[i - 1].id)) {
			seterr(err, errlen, "topology_to_bpf: node id %d out of order or range", id);
			return -EINVAL;
		}
		dense_of[i] = -1;
		if (t->nodes[i].nr_cpus <= 0)
			continue;
		if (nd == AN_MAX_NODES) {
			seterr(err, errlen, "topology_to_bpf: %d nodes have CPUs, at most %d supported (AN_MAX_NODES)",
			       topology_nr_cpu_nodes(t), AN_MAX_NODES);
			return -E2BIG;
		}
		idx_of[nd] = i;
		dense_of[i] = nd++;
	}
	if (!nd) {
		seterr(err, errlen, "topology_to_bpf: no node has CPUs");
		return -EINVAL;
	}

	out->nr_cpus = (u32)t->nr_cpus;
	out->nr_nodes = (u32)nd;
	for (int id = 0; id < AN_MAX_NODE_ID; id++)
		out->node_of_id[id] = AN_NO_NODE;
	for (int i = 0; i < t->nr_nodes; i++) {
		int best = -1;

		if (dense_of[i] >= 0) {
			out->node_of_id[t->nodes[i].id] = (u32)dense_of[i];
			continue;
		}
		/* Nodes are in id order, so strict '<' keeps the lower id on a tie. */
		for (int d = 0; d < nd; d++)
			if (best < 0 || t->distance[i][idx_of[d]] < t->distance[i][idx_of[best]])
				best = d;
		out->node_of_id[t->nodes[i].id] = (u32)best;
	}

	for (int d = 0; d < nd; d++) {
		const uint8_t *row = t->distance[idx_of[d]];
		u32 *ord = out->node_order[d];
		int n = 1;

		out->node_id[d] = (u32)t->nodes[idx_of[d]].id;
		out->node_nr_online[d] = (u32)t->nodes[idx_of[d]].nr_online;
		/* Self first whatever the table says: local work is never a steal. */
		ord[0] = (u32)d;
		for (int e = 0; e < nd; e++) {
			int k;

			if (e == d)
				continue;
			/* Insertion keeps equal distances in dense (= id) order. */
			for (k = n; k > 1 && row[idx_of[ord[k - 1]]] > row[idx_of[e]]; k--)
				ord[k] = ord[k - 1];
			ord[k] = (u32)e;
			n++;
		}
	}

	for (int c = 0; c < t->nr_cpus; c++) {
		int id = t->cpu_node[c], i;

		out->cpu_online[c] = t->cpu_online[c] ? 1 : 0;
		/*
		 * A CPU in no node is possible but not present; it cannot run
		 * anything until it is hot-added, and that changes the topology
		 * and restarts the scheduler. Dense 0 always exists, so its
		 * entry is at least a valid queue index.
		 */
		if (id < 0)
			continue;
		i = node_index(t, id);
		if (i < 0 || dense_of[i] < 0) {
			seterr(err, errlen, "topology_to_bpf: cpu %d names node %d, which %s", c, id,
			       i < 0 ? "is not online" : "has no CPUs");
			memset(out, 0, sizeof(*out));
			return -EINVAL;
		}
		out->cpu_node[c] = (u32)dense_of[i];
		out->cpu_known[c] = 1;
	}
	ret = llcs_to_bpf(t, dense_of, out, err, errlen);
	if (!ret)
		ret = caches_to_bpf(t, out, err, errlen);
	if (ret)
		memset(out, 0, sizeof(*out));
	return ret;
}

int topology_cpu_home(const struct topology *t, int id)
{
	uint32_t dense = topology_dense_node(t, id);
	uint32_t d = 0;

	if (dense == AN_NO_NODE)
		return -1;
	for (int i = 0; i < clamp(t->nr_nodes, AN_MAX_NODE_ID); i++) {
		if (t->nodes[i].nr_cpus <= 0)
			continue;
		if (d++ == dense)
			return t->nodes[i].id;
	}
	return -1;
}
