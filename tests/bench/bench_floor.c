// SPDX-License-Identifier: GPL-2.0
/*
 * Case 7 of dlock-bench: the floor (issue 10).  An acquire+release pair is
 * two generic-netlink round trips, so what it should be measured against is
 * not flock(2) but two bare round trips on the same machine.  Timed in one
 * process, interleaved batch by batch:
 *
 *   bare      CTRL_CMD_GETFAMILY("dlock") on a raw NETLINK_GENERIC socket
 *   refused   a command dlock's family lacks: genetlink's own EOPNOTSUPP,
 *             the least any generic-netlink round trip costs
 *   status    DLOCK_CMD_GET_STATUS, dlock's cheapest command, on that socket
 *   raw pair  DLOCK_CMD_ACQUIRE + DLOCK_CMD_RELEASE on that socket: dlock's
 *             kernel side without the library
 *   pair      dlock_acquire() + dlock_release() through libdlock (case 1's
 *             pair, without its clock read per pair)
 *
 * and the ratios pair / (2 x bare) and pair / (2 x refused).  No libnl
 * here: the raw socket is built and parsed by hand, so its figures are the
 * kernel's and the syscalls'.  The bare round trip is the floor,
 * but its reply lists dlock's commands and groups (a few hundred bytes);
 * the refused one is the floor no command can go under.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/dlock.h>

#include "bench.h"

struct rawnl {
	int fd;
	uint32_t seq;
	uint16_t family;	/* dlock's generic netlink family id */
	char buf[16384];	/* the last reply */
};

/* A request under construction: header, then attributes, 4-byte aligned. */
struct rawmsg {
	union {
		struct nlmsghdr nlh;
		char data[512];
	};
};

static void *msg_init(struct rawmsg *m, uint16_t type, uint8_t cmd,
		      uint8_t version)
{
	struct genlmsghdr *g;

	memset(m, 0, sizeof(*m));
	m->nlh.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	m->nlh.nlmsg_type = type;
	m->nlh.nlmsg_flags = NLM_F_REQUEST;
	g = NLMSG_DATA(&m->nlh);
	g->cmd = cmd;
	g->version = version;
	return g;
}

static void msg_put(struct rawmsg *m, uint16_t type, const void *data,
		    size_t len)
{
	struct nlattr *a = (struct nlattr *)(m->data + NLMSG_ALIGN(m->nlh.nlmsg_len));

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy((char *)a + NLA_HDRLEN, data, len);
	m->nlh.nlmsg_len = NLMSG_ALIGN(m->nlh.nlmsg_len) + NLA_ALIGN(a->nla_len);
}

static int raw_open(struct rawnl *r)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	r->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (r->fd < 0)
		return -errno;
	if (bind(r->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(r->fd);
		r->fd = -1;
		return -errno;
	}
	r->seq = 1;
	return 0;
}

/*
 * Sends @m and reads its answer into r->buf: the reply (0), or the error
 * the kernel answered with (negative errno).  Our requests have no NLM_F_ACK
 * and the socket joins no group, so the next datagram is the answer.
 */
static int raw_rt(struct rawnl *r, struct rawmsg *m)
{
	struct sockaddr_nl k = { .nl_family = AF_NETLINK };
	struct nlmsghdr *h = (struct nlmsghdr *)r->buf;
	ssize_t n;

	m->nlh.nlmsg_seq = ++r->seq;
	if (sendto(r->fd, m, m->nlh.nlmsg_len, 0, (struct sockaddr *)&k,
		   sizeof(k)) < 0)
		return -errno;
	do
		n = recv(r->fd, r->buf, sizeof(r->buf), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (!NLMSG_OK(h, (size_t)n) || h->nlmsg_seq != m->nlh.nlmsg_seq)
		return -EBADMSG;
	if (h->nlmsg_type == NLMSG_ERROR) {
		struct nlmsgerr *e = NLMSG_DATA(h);

		return e->error ? e->error : -EBADMSG;
	}
	return 0;
}

/* Attribute @type of the reply in r->buf, NULL if absent. */
static struct nlattr *raw_attr(struct rawnl *r, uint16_t type)
{
	struct nlmsghdr *h = (struct nlmsghdr *)r->buf;
	char *p = (char *)NLMSG_DATA(h) + GENL_HDRLEN;
	char *end = (char *)h + h->nlmsg_len;

	while (p + NLA_HDRLEN <= end) {
		struct nlattr *a = (struct nlattr *)p;

		if (a->nla_len < NLA_HDRLEN || p + a->nla_len > end)
			return NULL;
		if ((a->nla_type & NLA_TYPE_MASK) == type)
			return a;
		p += NLA_ALIGN(a->nla_len);
	}
	return NULL;
}

static void *nla_payload(struct nlattr *a)
{
	return (char *)a + NLA_HDRLEN;
}

/* The bare round trip's request: dlock's family looked up by name. */
static void getfamily_init(struct rawmsg *m)
{
	static const char dlock_name[] = DLOCK_GENL_NAME;

	msg_init(m, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 2);
	msg_put(m, CTRL_ATTR_FAMILY_NAME, dlock_name, sizeof(dlock_name));
}

/* ---- case 8's netlink floor (bench_rtt.c): the bare round trip alone --- */

struct nl_bare {
	struct rawnl raw;
	struct rawmsg getfamily;
};

struct nl_bare *nl_bare_open(char *err, size_t len)
{
	struct nl_bare *b = calloc(1, sizeof(*b));
	int e = b ? raw_open(&b->raw) : -ENOMEM;

	if (e) {
		snprintf(err, len, "netlink socket: %s", strerror(-e));
		free(b);
		return NULL;
	}
	getfamily_init(&b->getfamily);
	return b;
}

int nl_bare_rt(struct nl_bare *b, char *err, size_t len)
{
	int e = raw_rt(&b->raw, &b->getfamily);

	if (e)
		snprintf(err, len, "CTRL_CMD_GETFAMILY: %s", strerror(-e));
	return e;
}

void nl_bare_close(struct nl_bare *b)
{
	if (b)
		close(b->raw.fd);
	free(b);
}

/* ---- the five kinds of operation -------------------------------------- */

enum floor_kind { K_BARE, K_REFUSED, K_STATUS, K_RAW_PAIR, K_PAIR, NR_KINDS };
static const char *const kind_key[NR_KINDS] = {
	"bare_rt_us", "refused_rt_us", "status_rt_us", "raw_pair_us", "pair_us",
};
static const char *const kind_name[NR_KINDS] = {
	"bare", "refused", "status", "raw_pair", "pair",
};
static const char *const kind_min_key[NR_KINDS] = {
	"best_bare_rt_us", "best_refused_rt_us", "best_status_rt_us", "best_raw_pair_us",
	"best_pair_us",
};

/* A command dlock's family does not have: genetlink refuses it itself. */
#define FLOOR_NO_CMD	250

struct floor {
	struct rawnl raw;
	struct rawmsg getfamily, refused, status, acquire, release;
	struct dlock *d;
	const char *name;	/* lib pair's lock */
	uint64_t last_token;
	char err[160];
};

static int floor_bare(struct floor *f)
{
	int err = raw_rt(&f->raw, &f->getfamily);

	if (err)
		snprintf(f->err, sizeof(f->err), "CTRL_CMD_GETFAMILY: %s", strerror(-err));
	return err;
}

/*
 * The least a generic-netlink round trip can be: a request of dlock's
 * family that genetlink answers itself (no handler, no attribute parsed, an
 * NLMSG_ERROR of EOPNOTSUPP), so no command of dlock's can cost less.
 */
static int floor_refused(struct floor *f)
{
	int err = raw_rt(&f->raw, &f->refused);

	if (err == -EOPNOTSUPP)
		return 0;
	snprintf(f->err, sizeof(f->err), "command %d: %s, not EOPNOTSUPP",
		 FLOOR_NO_CMD, err ? strerror(-err) : "answered");
	return err ? err : -EBADMSG;
}

static int floor_status(struct floor *f)
{
	int err = raw_rt(&f->raw, &f->status);

	if (!err && !raw_attr(&f->raw, DLOCK_A_STATUS_VERSION))
		err = -EBADMSG;
	if (err)
		snprintf(f->err, sizeof(f->err), "GET_STATUS: %s", strerror(-err));
	return err;
}

/* Checks what it is given, as a client would: a token that rose, count 0. */
static int floor_raw_pair(struct floor *f)
{
	struct nlattr *a;
	uint64_t token;
	uint32_t count;
	int err = raw_rt(&f->raw, &f->acquire);

	if (err || !(a = raw_attr(&f->raw, DLOCK_A_TOKEN))) {
		snprintf(f->err, sizeof(f->err), "raw ACQUIRE: %s",
			 err ? strerror(-err) : "no token in the reply");
		return err ? err : -EBADMSG;
	}
	memcpy(&token, nla_payload(a), sizeof(token));
	if (token <= f->last_token) {
		snprintf(f->err, sizeof(f->err), "raw ACQUIRE: token did not rise");
		return -EBADMSG;
	}
	f->last_token = token;
	err = raw_rt(&f->raw, &f->release);
	if (err || !(a = raw_attr(&f->raw, DLOCK_A_COUNT))) {
		snprintf(f->err, sizeof(f->err), "raw RELEASE: %s",
			 err ? strerror(-err) : "no count in the reply");
		return err ? err : -EBADMSG;
	}
	memcpy(&count, nla_payload(a), sizeof(count));
	if (count) {
		snprintf(f->err, sizeof(f->err), "raw RELEASE: %u levels left", count);
		return -EBADMSG;
	}
	return 0;
}

static int floor_pair(struct floor *f)
{
	struct dlock_acquire_opts o = { .ttl_ms = opt.ttl_ms };
	struct dlock_lease l;
	int err = dlock_acquire(f->d, f->name, &o, &l);

	if (err) {
		snprintf(f->err, sizeof(f->err), "dlock_acquire: %s",
			 dlock_strerror(f->d, err));
		return err;
	}
	if (l.token <= f->last_token) {
		snprintf(f->err, sizeof(f->err), "dlock_acquire: token did not rise");
		return -EBADMSG;
	}
	f->last_token = l.token;
	err = dlock_release(f->d, f->name, NULL);
	if (err) {
		snprintf(f->err, sizeof(f->err), "dlock_release: %s",
			 err < 0 ? dlock_strerror(f->d, err) : "levels left");
		return err < 0 ? err : -EBADMSG;
	}
	return 0;
}

static int (*const floor_op[NR_KINDS])(struct floor *f) = {
	floor_bare, floor_refused, floor_status, floor_raw_pair, floor_pair,
};

/* ---- setting up ------------------------------------------------------- */

static int floor_setup(struct floor *f)
{
	const char *name = f->name;
	uint32_t ttl = opt.ttl_ms;
	uint64_t cookie = 1, tag = (uint64_t)getpid();
	uint8_t mode = DLOCK_MODE_EXCLUSIVE;
	struct nlattr *a;
	int err;

	err = raw_open(&f->raw);
	if (err) {
		snprintf(f->err, sizeof(f->err), "netlink socket: %s", strerror(-err));
		return err;
	}
	getfamily_init(&f->getfamily);
	err = floor_bare(f);
	if (err)
		return err;
	a = raw_attr(&f->raw, CTRL_ATTR_FAMILY_ID);
	if (!a) {
		snprintf(f->err, sizeof(f->err), "CTRL_CMD_GETFAMILY: no family id");
		return -EBADMSG;
	}
	memcpy(&f->raw.family, nla_payload(a), sizeof(f->raw.family));

	msg_init(&f->refused, f->raw.family, FLOOR_NO_CMD, DLOCK_GENL_VERSION);
	msg_init(&f->status, f->raw.family, DLOCK_CMD_GET_STATUS, DLOCK_GENL_VERSION);
	msg_init(&f->acquire, f->raw.family, DLOCK_CMD_ACQUIRE, DLOCK_GENL_VERSION);
	msg_put(&f->acquire, DLOCK_A_NAME, name, strlen(name));
	msg_put(&f->acquire, DLOCK_A_MODE, &mode, sizeof(mode));
	msg_put(&f->acquire, DLOCK_A_TTL_MS, &ttl, sizeof(ttl));
	msg_put(&f->acquire, DLOCK_A_COOKIE, &cookie, sizeof(cookie));
	msg_put(&f->acquire, DLOCK_A_OWNER_TAG, &tag, sizeof(tag));
	msg_init(&f->release, f->raw.family, DLOCK_CMD_RELEASE, DLOCK_GENL_VERSION);
	msg_put(&f->release, DLOCK_A_NAME, name, strlen(name));
	msg_put(&f->release, DLOCK_A_OWNER_TAG, &tag, sizeof(tag));

	err = dlock_open(&f->d);
	if (err) {
		snprintf(f->err, sizeof(f->err), "dlock_open: %s", dlock_strerror(NULL, err));
		return err;
	}
	return 0;
}

/*
 * One round: floor_batches batches of each kind, interleaved (bare,
 * refused, status, raw pair, pair, bare, ...) so that load on the shared machine falls on
 * all alike.  Each time is the median over the round's batches of the
 * batch's mean time per operation (one clock read per batch, not per op),
 * and its best batch (the least disturbed); each ratio is the median of
 * the ratios of neighbouring batches (a pair batch against the bare batch
 * just before it).
 */
void case_floor(int round)
{
	struct result r = { .cas = 7, .b = B_DLOCK, .round = round, .ok = true };
	struct floor *f = calloc(1, sizeof(*f));
	const int nb = opt.floor_batches;
	const long n = opt.floor_batch;
	uint64_t *t[NR_KINDS], *rp = calloc(nb, sizeof(uint64_t));
	uint64_t *rr = calloc(nb, sizeof(uint64_t)), *rs = calloc(nb, sizeof(uint64_t));
	uint64_t *rm = calloc(nb, sizeof(uint64_t));
	double us[NR_KINDS];
	char name[96];

	snprintf(name, sizeof(name), "%s-floor", prefix);
	f->name = name;
	f->raw.fd = -1;
	for (int k = 0; k < NR_KINDS; k++)
		t[k] = calloc(nb, sizeof(uint64_t));
	if (opt.floor_only) {
		int k = 0;

		while (k < NR_KINDS && strcmp(opt.floor_only, kind_name[k]))
			k++;
		if (k == NR_KINDS) {
			fail(&r, "--floor-only %s: no such kind (bare, refused, status, raw_pair, pair)",
			     opt.floor_only);
			goto out;
		}
	}
	if (floor_setup(f)) {
		fail(&r, "%s", f->err);
		goto out;
	}
	/* Warm up: the session, the lock caches, the library's buffers. */
	for (int k = 0; k < NR_KINDS; k++)
		for (long i = 0; i < 20 && r.ok; i++)
			if (floor_op[k](f))
				fail(&r, "%s", f->err);
	for (int b = 0; b < nb && r.ok; b++)
		for (int k = 0; k < NR_KINDS && r.ok; k++) {
			uint64_t t0 = now_ns();

			/* --floor-only KIND: one kind alone, for a profiler. */
			if (opt.floor_only && strcmp(opt.floor_only, kind_name[k]))
				continue;

			for (long i = 0; i < n; i++)
				if (floor_op[k](f)) {
					fail(&r, "%s", f->err);
					break;
				}
			t[k][b] = (now_ns() - t0) / n;
		}
	if (opt.floor_only) {
		for (int k = 0; k < NR_KINDS; k++)
			if (!strcmp(opt.floor_only, kind_name[k])) {
				qsort(t[k], nb, sizeof(uint64_t), cmp_u64);
				kv(&r, kind_key[k], r.ok ? pct_us(t[k], nb, 50) : NAN);
			}
		goto out;
	}
	/*
	 * Ratios batch by batch, a batch against its neighbours (they share
	 * the load), in thousandths for pct_us().
	 */
	for (int b = 0; b < nb; b++) {
		rp[b] = 1000.0 * t[K_PAIR][b] / (2 * t[K_BARE][b]);
		rr[b] = 1000.0 * t[K_RAW_PAIR][b] / (2 * t[K_BARE][b]);
		rs[b] = 1000.0 * t[K_PAIR][b] / (2 * t[K_STATUS][b]);
		rm[b] = 1000.0 * t[K_PAIR][b] / (2 * t[K_REFUSED][b]);
	}
	qsort(rm, nb, sizeof(uint64_t), cmp_u64);
	qsort(rp, nb, sizeof(uint64_t), cmp_u64);
	qsort(rr, nb, sizeof(uint64_t), cmp_u64);
	qsort(rs, nb, sizeof(uint64_t), cmp_u64);
	for (int k = 0; k < NR_KINDS; k++) {
		qsort(t[k], nb, sizeof(uint64_t), cmp_u64);
		us[k] = r.ok ? pct_us(t[k], nb, 50) : NAN;
		kv(&r, kind_key[k], us[k]);
	}
	kv(&r, "pair_over_2bare", r.ok ? pct_us(rp, nb, 50) : NAN);
	kv(&r, "raw_pair_over_2bare", r.ok ? pct_us(rr, nb, 50) : NAN);
	kv(&r, "pair_over_2status", r.ok ? pct_us(rs, nb, 50) : NAN);
	kv(&r, "pair_over_2refused", r.ok ? pct_us(rm, nb, 50) : NAN);
	/* The best batch of each kind: the least disturbed by other load. */
	for (int k = 0; k < NR_KINDS; k++)
		kv(&r, kind_min_key[k], r.ok ? t[k][0] / 1000.0 : NAN);
	kv(&r, "best_pair_over_2bare", r.ok ? (double)t[K_PAIR][0] / (2 * t[K_BARE][0]) : NAN);
	kv(&r, "batches", nb);
	kv(&r, "ops_per_batch", n);
out:
	if (f->raw.fd >= 0)
		close(f->raw.fd);
	dlock_close(f->d);
	for (int k = 0; k < NR_KINDS; k++)
		free(t[k]);
	free(rp);
	free(rr);
	free(rm);
	free(rs);
	free(f);
	emit(&r);
}
